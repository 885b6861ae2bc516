import fc from 'fast-check';
import type { Revision } from '../model/revisions/Revision.js';
import { runScenario, type RunObserver, type RunResult } from '../model/scenario/runScenario.js';
import type { BackendId, Scenario } from '../model/scenario/Scenario.js';
import type { WhatIfMode } from '../model/whatIf.js';
import { scenarioArb } from '../generators/scenario.js';
import { gmemApiOf } from './oracle/generations.js';
import { blame, frameText } from './crash.js';
import { coverageObserver, type Coverage } from './coverage.js';
import { applicableRequirements } from './coverageRequirements.js';
import { judgedAtOpEnd, watch, type Invariant, type Violation } from './Invariant.js';
import { minimizeScenario } from './minimize.js';
import { keyOf, parseSignature, type Signature, type SignatureKey } from './signature.js';
import { jsonReplacer } from '../model/kernel/u64.js';
import { BACKENDS } from '../model/backends/registry.js';

/**
 * Runs per backend and revision the matrix is calibrated for. Every run is watched by every
 * invariant at once. CCA runs are cheap and its fault plans aim at each granule position of 1-,
 * 4- and 16-granule pages with five RMI commands, so it gets more.
 */
export const CELL_RUNS: Readonly<Record<BackendId, number>> = { snp: 300, tdx: 300, cca: 1000 };

/** One exploration: a revision on a backend, every given invariant watching the same runs. */
export interface ExploreSpec {
  readonly backend: BackendId;
  readonly revision: Revision;
  /** A what-if cell (model/whatIf.ts): scenarios in a configuration the revision's kernel refuses. */
  readonly whatIf?: WhatIfMode;
  readonly invariants: readonly Invariant[];
  readonly runs: number;
  readonly seed: number;
  /** Called before each scenario runs (a watchdog's heartbeat): one of the budget's runs, or a shrink step. */
  readonly onScenario?: (scenario: Scenario, phase: 'explore' | 'shrink') => void;
  /** Which signatures to shrink and report (default: all); the others are only counted. */
  readonly wanted?: (key: SignatureKey) => boolean;
  /**
   * Stop once a wanted signature has been seen in SHRINK_STARTS runs (or the budget ends), and
   * report that signature alone (the injected-bug tests ask only "is it caught, and how small");
   * the remaining runs are generated, not simulated.
   */
  readonly untilFirst?: boolean;
  /**
   * Asked once the runs are done, before any shrinking, with every signature they showed (and
   * the first run of each): false skips shrinking, and every signature is only counted. The
   * mutation tests (test/mutation/revisions.mut.ts) answer false when the signatures alone
   * already decide that the cell differs from the matrix, which shrinking cannot change.
   */
  readonly shrinkIf?: (x: Pick<Exploration, 'coverage' | 'modelErrors'> & { readonly seen: readonly { readonly key: SignatureKey; readonly firstRun: number }[] }) => boolean;
}

/** One distinct signature a search found, with its shrunk counterexample. */
export interface Finding {
  readonly key: SignatureKey;
  readonly signature: Signature;
  /** Index (from 0) of the first run that showed it. */
  readonly firstRun: number;
  /** Runs, of all explored, that showed it. */
  readonly runsWithIt: number;
  /**
   * fast-check replay path of the run the counterexample was minimized from (with the seed and
   * this signature); the minimizer is deterministic, so the path gives the counterexample again.
   */
  readonly path: string;
  /** Changes the minimizer kept on the way to the counterexample. */
  readonly shrinks: number;
  readonly counterexample: Scenario;
  /** The violation with this signature on the counterexample. */
  readonly violation: Violation;
  /** Every violation of the explored invariants on the counterexample, in order. */
  readonly violations: readonly Violation[];
  /** What else the counterexample showed up to the violation (KnownBug.onlyAfter). */
  readonly prior: PriorShown;
}

/** Signatures a counterexample showed before a violation (or at the same event), and the invariants watching. */
export interface PriorShown {
  readonly keys: readonly SignatureKey[];
  readonly watched: readonly string[];
}

/** Finding.prior, read off the violations of the counterexample. */
export function priorShown(violation: Violation, violations: readonly Violation[], watched: readonly Invariant[]): PriorShown {
  // By event, not by operation: a populate that reads a page and only then frees it did not
  // read the page its free handed back (paolo-v1's reclaim condition, mutation triage row 312).
  // What an operation's end judges (a kmap still live at ioctl return) happened at some event of
  // that operation the invariant cannot name, so it counts for the whole operation.
  const keys = violations.filter((v) => v !== violation && (v.seq <= violation.seq || (judgedAtOpEnd(v) && v.opIndex <= violation.opIndex))).map(keyOf);
  return { keys: [...new Set(keys)], watched: watched.map((i) => i.id) };
}

/** A run on which the model itself failed: a bug in gmemcheck, not a finding. */
export interface ModelError {
  readonly run: number;
  readonly error: string;
  readonly scenario: Scenario;
}

export interface Exploration {
  readonly backend: BackendId;
  readonly revision: string;
  readonly whatIf?: WhatIfMode;
  readonly invariants: readonly string[];
  readonly seed: number;
  readonly runs: number;
  /** Every interesting case the runs reached (coverage.ts), over all runs. */
  readonly coverage: Coverage;
  /**
   * For each coverage minimum of the cell the runs reached: the run (from 0) that first reached
   * it, and the run that brought it to its minimum; a campaign draws coverage growth from these.
   */
  readonly reached: ReadonlyMap<string, CoverageReached>;
  /** Every distinct signature, in the order first found. */
  readonly findings: readonly Finding[];
  /** Signatures seen but not wanted (ExploreSpec.wanted, shrinkIf), so not shrunk: counted only. */
  readonly counted?: readonly { readonly key: SignatureKey; readonly firstRun: number; readonly runsWithIt: number }[];
  readonly modelErrors: readonly ModelError[];
}

export interface CoverageReached {
  readonly first: number;
  readonly atMin: number | undefined;
}

/** What a scenario does on a revision, every invariant watching (and coverage counting). */
export interface Judged {
  readonly violations: readonly Violation[];
  readonly run: RunResult;
  /** The model's own failure on this scenario, if any. */
  readonly modelError: string | undefined;
}

export function judge(scenario: Scenario, revision: Revision, invariants: readonly Invariant[], opts: { coverage?: Coverage; traceCalls?: boolean; observers?: readonly RunObserver[] } = {}): Judged {
  const watched = invariants.map((inv) => watch(inv, { revision }));
  const observers = [...watched.map((w) => w.observer), ...(opts.coverage === undefined ? [] : [coverageObserver(opts.coverage)]), ...(opts.observers ?? [])];
  const run = runScenario(scenario, revision, { observers, traceCalls: opts.traceCalls === true });
  const violations = watched.flatMap((w) => w.violations).sort((a, b) => a.opIndex - b.opIndex);
  return { violations, run, modelError: modelErrorOf(run) };
}

function modelErrorOf(run: RunResult): string | undefined {
  const c = run.crash?.crash;
  if (c === undefined || c.kind !== 'exception') return undefined;
  const b = blame(c);
  if (b.kind !== 'model-error') return undefined;
  const near = b.revisionFrame === undefined ? '' : ` (called from revision code at ${frameText(b.revisionFrame)})`;
  return `${c.name}: ${c.message} at ${b.at === undefined ? '?' : frameText(b.at)}${near}, in operation #${run.crash?.opIndex ?? '?'}\n${c.stack}`;
}

/**
 * The scenarios a cell draws: its backend's, on machines its revision's kernel (or its what-if)
 * accepts. A realm whose guest_memfd tracks each index (Revision.arm.privateTracking) takes
 * INIT_SHARED files, whose shared indexes its populate refuses.
 */
export function arbitraryFor(spec: Pick<ExploreSpec, 'backend' | 'revision' | 'whatIf'>): fc.Arbitrary<Scenario> {
  const initShared = spec.revision.arm?.privateTracking === 'guest_memfd';
  return scenarioArb(spec.backend, spec.revision.arm?.rmm, spec.whatIf, gmemApiOf(spec.revision, false) === 'A2', spec.revision.gmemAttributes === true, initShared);
}

/** The op index at which `scenario` shows `key` on `revision`, or undefined. */
export function showsSignature(scenario: Scenario, revision: Revision, invariant: Invariant, key: SignatureKey, onScenario?: ExploreSpec['onScenario']): number | undefined {
  onScenario?.(scenario, 'shrink');
  const j = judge(scenario, revision, [invariant]);
  return j.violations.find((v) => keyOf(v) === key)?.opIndex;
}

/**
 * What showsSignature() said of the scenarios already run while one signature was shrunk, by
 * their JSON. The model is deterministic, and minimizing a signature from several starts tries
 * the same scenario many times (27 % of the shrink runs of snp/v6.17 at the suite seed were
 * repeats, measured when fast-check's shrinker still ran first). A repeat is answered from here,
 * unrun.
 */
export type ShrinkMemo = Map<string, number | undefined>;

function memoized(memo: ShrinkMemo | undefined, shows: (s: Scenario) => number | undefined): (s: Scenario) => number | undefined {
  if (memo === undefined) return shows;
  return (s) => {
    const id = JSON.stringify(s, jsonReplacer);
    if (memo.has(id)) return memo.get(id);
    const at = shows(s);
    memo.set(id, at);
    return at;
  };
}

/**
 * Runs a signature is shrunk from: the first few that showed it. Shrinking reaches a local
 * minimum that depends on where it starts, so the same bug shrank to different sizes under
 * different seeds; the smallest of a few starts is much less so.
 */
const SHRINK_STARTS = 3;

/**
 * Where a run's first violation of a signature came from: the other signatures it showed before
 * it (priorShown()). Two bugs can reach one signature by different routes, and the minimizer
 * stays on the route its start took: under seed 22 the first three paolo-v1 runs showing
 * `privateStillMapped@snp_launch_update` all came after a page freed while the firmware owned
 * it (G4's route, 8 operations), none after B1's leaked kmap (5), so every start shrank to G4's
 * and B1-consequence's signature was credited to G4 (reports/detection.md at b01abcc).
 */
function routeOf(key: SignatureKey, violations: readonly Violation[], watched: readonly Invariant[]): string {
  const v = violations.find((x) => keyOf(x) === key);
  return v === undefined ? '' : [...priorShown(v, violations, watched).keys].sort().join(' ');
}

/**
 * Adds a run to a signature's starts: the first runs that showed it, but one per route before a
 * second of any route, so a later run on a route no start has replaces the newest start on a
 * route another start already covers.
 */
function addStart(starts: { run: number; route: string }[], run: number, route: string): void {
  if (starts.length < SHRINK_STARTS) {
    starts.push({ run, route });
    return;
  }
  if (starts.some((s) => s.route === route)) return;
  for (let i = starts.length - 1; i > 0; i--) {
    if (starts.slice(0, i).some((s) => s.route === starts[i]?.route)) {
      starts.splice(i, 1);
      starts.push({ run, route });
      return;
    }
  }
}

/**
 * Explores `runs` scenarios once each, every invariant and the coverage counters watching, and
 * records every distinct signature with the first runs that showed it. Then shrinks each
 * signature on its own: the deterministic minimizer (properties/minimize.ts) from each of those
 * runs, keeping the smallest. So one signature never hides another, and a scenario is simulated
 * once for all invariants instead of once per invariant.
 *
 * fast-check's own shrinker no longer runs first. Measured at the suite seed over all 79 cells
 * (879 signatures): the minimizer alone shrank 835 to the same number of operations, 43 to
 * fewer and 1 to more (snp/kvm-x86-next [hugepages] no-double-private/hostAccessPrivate: 10
 * against 7, within its bug's bound), in 132 s of CPU against 205 s. The shrinker's integer
 * and array steps walked the scenario arbitrary's dependent fields one at a time, each a model
 * run; the minimizer's moves are the ones these counterexamples need (a NULL source, fallocate()
 * for a populate, one attributes call for two), and its result does not depend on where
 * fast-check's shrink tree happened to lead. A finding's replay path is the run's index.
 */
export function explore(spec: ExploreSpec): Exploration {
  const coverage: Coverage = new Map();
  const requirements = applicableRequirements(spec.backend, spec.revision, spec.whatIf);
  const reached = new Map<string, { first: number; atMin: number | undefined }>();
  const first = new Map<SignatureKey, { run: number; count: number; starts: { run: number; route: string }[] }>();
  const modelErrors: ModelError[] = [];
  let run = 0;
  fc.check(
    fc.property(arbitraryFor(spec), (scenario) => {
      if (spec.untilFirst === true && [...first].some(([k, f]) => f.starts.length >= SHRINK_STARTS && (spec.wanted?.(k) ?? true))) return true;
      spec.onScenario?.(scenario, 'explore');
      const j = judge(scenario, spec.revision, spec.invariants, { coverage });
      if (j.modelError !== undefined) modelErrors.push({ run, error: j.modelError, scenario });
      for (const r of requirements) {
        const got = coverage.get(r.key) ?? 0;
        if (got === 0) continue;
        const x = reached.get(r.key) ?? { first: run, atMin: undefined };
        if (x.atMin === undefined && got >= r.min) x.atMin = run;
        reached.set(r.key, x);
      }
      for (const key of new Set(j.violations.map(keyOf))) {
        const route = routeOf(key, j.violations, spec.invariants);
        const f = first.get(key);
        if (f === undefined) first.set(key, { run, count: 1, starts: [{ run, route }] });
        else {
          f.count++;
          addStart(f.starts, run, route);
        }
      }
      run++;
      return true;
    }),
    { seed: spec.seed, numRuns: spec.runs },
  );
  const findings: Finding[] = [];
  const counted: { key: SignatureKey; firstRun: number; runsWithIt: number }[] = [];
  const inOrder = [...first].sort((a, b) => a[1].run - b[1].run);
  const shrink = spec.shrinkIf?.({ coverage, modelErrors, seen: inOrder.map(([key, f]) => ({ key, firstRun: f.run })) }) ?? true;
  for (const [key, f] of inOrder) {
    if (!shrink || (spec.wanted !== undefined && !spec.wanted(key))) {
      counted.push({ key, firstRun: f.run, runsWithIt: f.count });
      continue;
    }
    let best: Omit<Finding, 'firstRun' | 'runsWithIt'> | undefined;
    const memo: ShrinkMemo = new Map();
    for (const start of [...f.starts].sort((a, b) => a.run - b.run)) {
      const shrunk = shrinkSignature(spec, key, String(start.run), memo);
      if (shrunk.kind === 'found' && (best === undefined || smaller(shrunk.finding.counterexample, best.counterexample))) best = shrunk.finding;
    }
    if (best !== undefined) findings.push({ ...best, firstRun: f.run, runsWithIt: f.count });
    if (best !== undefined && spec.untilFirst === true) break;
  }
  return { backend: spec.backend, revision: spec.revision.id, ...(spec.whatIf === undefined ? {} : { whatIf: spec.whatIf }), invariants: spec.invariants.map((i) => i.id), seed: spec.seed, runs: run, coverage, reached, findings, counted, modelErrors };
}

export type ShrinkResult =
  | { readonly kind: 'found'; readonly finding: Omit<Finding, 'firstRun' | 'runsWithIt'> }
  /** The path's scenario does not show the signature (a path from another seed, budget or revision). */
  | { readonly kind: 'not-reproduced'; readonly reason: string };

/**
 * The counterexample for one signature from a fast-check path: the path's scenario (a run index,
 * or a path with fast-check shrink steps that an earlier version printed), minimized. Shrinks of
 * the same signature from several starts share one `memo`.
 */
export function shrinkSignature(spec: ExploreSpec, key: SignatureKey, path: string, memo?: ShrinkMemo): ShrinkResult {
  const sig = parseSignature(key);
  const invariant = spec.invariants.find((i) => i.id === sig?.invariant);
  if (sig === undefined || invariant === undefined) return { kind: 'not-reproduced', reason: `'${key}' names no invariant of this check` };
  const shows = memoized(memo, (s) => showsSignature(s, spec.revision, invariant, key, spec.onScenario));
  let details: fc.RunDetails<[Scenario]>;
  try {
    details = fc.check(fc.property(arbitraryFor(spec), (s) => shows(s) === undefined), {
      seed: spec.seed,
      numRuns: Math.max(spec.runs, Number(path.split(':')[0]) + 1),
      path,
      endOnFailure: true,
    });
  } catch (e) {
    return { kind: 'not-reproduced', reason: e instanceof Error ? e.message : String(e) };
  }
  const original = details.counterexample?.[0];
  if (!details.failed || original === undefined || details.counterexamplePath === null) return { kind: 'not-reproduced', reason: `no run from path ${path} shows ${key}` };
  if (details.counterexamplePath !== path) return { kind: 'not-reproduced', reason: `the scenario at path ${path} does not show ${key} (fast-check went on to ${details.counterexamplePath})` };
  if (details.errorInstance !== null && !(details.errorInstance instanceof Error && details.errorInstance.message.startsWith('Property failed by returning false'))) {
    return { kind: 'not-reproduced', reason: `the property threw: ${details.errorInstance instanceof Error ? details.errorInstance.message : JSON.stringify(details.errorInstance)}` };
  }
  const steps = { kept: 0 };
  const counterexample = minimizeScenario(original, shows, steps);
  const j = judge(counterexample, spec.revision, spec.invariants);
  const violation = j.violations.find((v) => keyOf(v) === key);
  if (violation === undefined) return { kind: 'not-reproduced', reason: `the minimized scenario lost ${key} (a minimizer bug)` };
  return { kind: 'found', finding: { key, signature: sig, path: details.counterexamplePath, shrinks: steps.kept, counterexample, violation, violations: j.violations, prior: priorShown(violation, j.violations, spec.invariants) } };
}

/**
 * Size of a counterexample: operations, and pages its populate calls ask for (PopulateRequest's
 * count: a TDX nr_pages past the machine counts as the machine).
 */
export function scenarioSize(s: Scenario): { ops: number; pages: number } {
  const backend = BACKENDS[s.backend];
  let pages = 0;
  for (const op of s.ops) pages += Math.max(0, backend.populateRequest(op, s.geometry)?.npages ?? 0);
  return { ops: s.ops.length, pages };
}

/** Fewer operations, then fewer pages, then less text: the order counterexamples are compared in. */
function smaller(a: Scenario, b: Scenario): boolean {
  const x = scenarioSize(a);
  const y = scenarioSize(b);
  if (x.ops !== y.ops) return x.ops < y.ops;
  if (x.pages !== y.pages) return x.pages < y.pages;
  return JSON.stringify(a, jsonReplacer).length < JSON.stringify(b, jsonReplacer).length;
}
