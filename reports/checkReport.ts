import type { Revision } from '../model/revisions/Revision.js';
import type { BackendId, Scenario } from '../model/scenario/Scenario.js';
import type { Event } from '../model/world/events.js';
import type { WhatIfMode } from '../model/whatIf.js';
import { cellsOf } from '../properties/check.js';
import { applicableRequirements } from '../properties/coverageRequirements.js';
import { expectedFor, judgeCell, type CellVerdict } from '../properties/expectations.js';
import { judge, scenarioSize, type Exploration, type Finding } from '../properties/explore.js';
import type { Invariant, Violation } from '../properties/Invariant.js';
import type { KnownBug } from '../properties/bugs.js';
import { agreesWith, declaredLabel, needsText, reachLabel, reachOf, scenarioNeeds, type Reach, type ReachKind, type WhatIf } from '../properties/reach.js';
import { CONTENT_MESSAGES, contentDiagram } from './contentDiagram.js';
import { buildTrace, type TraceOp } from './trace.js';

/**
 * A check's results as plain data: what `check --json` prints, what the text report is
 * rendered from, and what a worker thread sends back (so it must survive structured cloning).
 */

/** Which revision a check ran: a built-in one, a reviewer's module as typed, or a kernel tree's C (`gmemcheck kernel`). */
export interface RevisionRef {
  readonly id: string;
  readonly module?: string;
  /** The kernel tree, as typed. */
  readonly tree?: string;
  readonly derivedFrom?: string;
}

export interface FindingReport {
  readonly signature: string;
  readonly invariant: string;
  readonly messageId: string;
  /** The documented condition it is about (the oracle's row), part of the signature. */
  readonly detail?: string;
  readonly site: string;
  /** `known`: a bug the cell expects; `new`: nothing in the matrix explains it. */
  readonly status: 'known' | 'new';
  readonly bug?: { readonly id: string; readonly title: string; readonly link: string; readonly status: string; readonly reach?: BugReach };
  /** What this counterexample takes beyond userspace alone (reach.ts), read off its faults and machine. */
  readonly reach: FindingReach;
  readonly message: string;
  readonly opIndex: number;
  /** Index (from 0) of the first of the check's runs that showed it, and how many did. */
  readonly firstRun: number;
  readonly runsWithIt: number;
  readonly shrinks: number;
  /** Why the scenario is as found, not shrunk (a hang ends the worker that would shrink it). */
  readonly unshrunk?: string;
  readonly operations: number;
  readonly pages: number;
  readonly path: string;
  readonly replay: string;
  readonly scenario: Scenario;
  /** Every violation on the shrunk scenario (other signatures it shows too). */
  readonly violations: readonly Violation[];
  readonly trace: readonly TraceOp[];
  readonly diagram?: readonly string[];
}

export interface FindingReach {
  readonly kind: ReachKind;
  readonly mode?: WhatIf;
  /** `userspace`, `firmware failure`, `debug config`, `what-if: MODE`. */
  readonly label: string;
  /** In words: "userspace alone", or each thing it needs. */
  readonly needs: string;
}

/** A known bug's declared reachability (bugs.ts). */
export interface BugReach {
  readonly label: string;
  readonly how: string;
}

/**
 * What a counterexample takes. A known bug's declared label wins when the counterexample agrees
 * with it (a debug-configuration bug's trigger needs only userspace: its damage is what the
 * configuration shows); otherwise the counterexample speaks for itself.
 */
export function findingReach(scenario: Scenario, revision: Pick<Revision, 'id'> & Partial<Pick<Revision, 'arm' | 'derivedFrom'>>, declared?: Reach): FindingReach {
  const needs = scenarioNeeds(scenario, revision);
  if (declared !== undefined && agreesWith(declared, needs)) {
    return { kind: declared.kind, ...(declared.kind === 'what-if' ? { mode: declared.mode } : {}), label: declaredLabel(declared), needs: needsText(needs) };
  }
  const r = reachOf(needs);
  return { ...r, label: reachLabel(r.kind, r.mode), needs: needsText(needs) };
}

function bugReport(b: KnownBug): NonNullable<FindingReport['bug']> {
  const reach = b.reach === undefined ? undefined : { label: declaredLabel(b.reach), how: b.reach.kind === 'debug' ? `${b.reach.how} (${b.reach.config})` : b.reach.how };
  return { id: b.id, title: b.title, link: b.link, status: b.status, ...(reach === undefined ? {} : { reach }) };
}

export interface CoverageRow {
  readonly key: string;
  readonly got: number;
  readonly min: number;
}

export interface CellReport {
  readonly backend: BackendId;
  readonly revision: string;
  /** A what-if cell's mode (model/whatIf.ts); absent in a revision's default configuration. */
  readonly whatIf?: WhatIfMode;
  readonly property: string;
  readonly expected: 'holds' | 'violated' | 'unspecified';
  /** The bugs the matrix expects here (by id), and whose row that is if not the revision's own. */
  readonly expectedBugs: readonly string[];
  readonly inheritedFrom?: string;
  readonly status: 'holds' | 'violated' | 'inconclusive';
  readonly verdict: CellVerdict;
  readonly findings: readonly FindingReport[];
  /** Expected bugs not found (for a derived module: `fixed`). */
  readonly missing: readonly string[];
  readonly fixed: readonly string[];
  /** Coverage minimums this cell's runs missed (inconclusive when it holds). */
  readonly shortfall: readonly CoverageRow[];
}

export interface ModelErrorReport {
  readonly run: number;
  readonly error: string;
  readonly scenario: Scenario;
}

export interface ExplorationReport {
  readonly backend: BackendId;
  readonly revision: RevisionRef;
  readonly whatIf?: WhatIfMode;
  readonly seed: number;
  readonly runs: number;
  readonly ms: number;
  /** Each coverage minimum of the backend with what the runs reached. */
  readonly coverage: readonly CoverageRow[];
  readonly cells: readonly CellReport[];
  readonly modelErrors: readonly ModelErrorReport[];
}

/** How to rerun one finding exactly: same cell, seed, budget, signature and fast-check path. */
export function replayCommand(backend: string, revision: RevisionRef, whatIf: WhatIfMode | undefined, property: string, seed: number, runs: number, signature: string, path: string): string {
  const mode = whatIf === undefined ? '' : ` --what-if ${whatIf}`;
  const rest = `--property ${property} --seed ${seed} --runs ${runs} --signature ${signature} --path ${path}`;
  if (revision.tree !== undefined) return `npx gmemcheck kernel --tree ${revision.tree} --backend ${backend}${mode} ${rest}`;
  const which = revision.module === undefined ? `--revision ${revision.id}` : `--revision-module ${revision.module}`;
  return `npx gmemcheck check --backend ${backend} ${which}${mode} ${rest}`;
}

function findingReport(f: Finding, x: Exploration, revision: Revision, ref: RevisionRef, invariants: readonly Invariant[], known: KnownBug | undefined): FindingReport {
  const bug = known === undefined ? undefined : bugReport(known);
  const declared = known?.reach;
  const traced = judge(f.counterexample, revision, invariants, { traceCalls: true });
  const size = scenarioSize(f.counterexample);
  const diagram = CONTENT_MESSAGES.includes(f.violation.messageId) ? contentDiagram(f.counterexample, revision, f.violation.opIndex) : undefined;
  return {
    signature: f.key,
    invariant: f.signature.invariant,
    messageId: f.signature.messageId,
    ...(f.signature.detail === undefined ? {} : { detail: f.signature.detail }),
    site: f.signature.site,
    status: bug === undefined ? 'new' : 'known',
    ...(bug === undefined ? {} : { bug }),
    reach: findingReach(f.counterexample, revision, declared),
    message: f.violation.message,
    opIndex: f.violation.opIndex,
    firstRun: f.firstRun,
    runsWithIt: f.runsWithIt,
    shrinks: f.shrinks,
    operations: size.ops,
    pages: size.pages,
    path: f.path,
    replay: replayCommand(x.backend, ref, x.whatIf, f.signature.invariant, x.seed, x.runs, f.key, f.path),
    scenario: f.counterexample,
    violations: f.violations,
    trace: buildTrace(traced.run.world.log, traced.violations),
    ...(diagram === undefined ? {} : { diagram: diagram.split('\n') }),
  };
}

/** An exploration judged cell by cell against the matrix, with a trace for every finding. */
export function explorationReport(x: Exploration, revision: Revision, ref: RevisionRef, invariants: readonly Invariant[], ms: number): ExplorationReport {
  const whatIf = x.whatIf === undefined ? {} : { whatIf: x.whatIf };
  const coverage = applicableRequirements(x.backend, revision, x.whatIf).map((r) => ({ key: r.key, got: x.coverage.get(r.key) ?? 0, min: r.min }));
  const short = coverage.filter((c) => c.got < c.min);
  const cells = cellsOf(x, x.backend, revision).map((cell): CellReport => {
    const e = expectedFor(revision, cell.invariant, x.backend, x.whatIf);
    const findings = cell.status === 'violated' ? cell.findings : [];
    const outcome = judgeCell(e, findings, cell.status === 'inconclusive', revision);
    const bugOf = new Map(outcome.known.map((k) => [k.finding.key, k.bug]));
    return {
      backend: x.backend,
      revision: ref.id,
      ...whatIf,
      property: cell.invariant,
      expected: e.unspecified === true ? 'unspecified' : e.expectation.verdict,
      expectedBugs: e.expectation.verdict === 'violated' ? e.expectation.bugs.map((b) => b.id) : [],
      ...(e.inheritedFrom === undefined ? {} : { inheritedFrom: e.inheritedFrom }),
      status: cell.status,
      verdict: outcome.verdict,
      findings: findings.map((f) => {
        return findingReport(f, x, revision, ref, invariants, bugOf.get(f.key));
      }),
      missing: outcome.missing.map((b) => b.id),
      fixed: e.derived === true && e.expectation.verdict === 'violated' ? e.expectation.bugs.filter((b) => !outcome.known.some((k) => k.bug.id === b.id)).map((b) => b.id) : [],
      shortfall: cell.status === 'inconclusive' ? short : [],
    };
  });
  return { backend: x.backend, revision: ref, ...whatIf, seed: x.seed, runs: x.runs, ms, coverage, cells, modelErrors: x.modelErrors.map((m) => ({ run: m.run, error: m.error, scenario: m.scenario })) };
}

/** The kernel function a streamed trace was inside when it stopped (innermost call not returned). */
export function openCallSite(events: readonly Event[]): { site: string; stack: string[] } {
  const stack: string[] = [];
  for (const e of events) {
    if (e.kind === 'op_begin') stack.length = 0;
    else if (e.kind === 'call') stack.push(e.fn);
    else if (e.kind === 'ret') stack.pop();
  }
  return { site: stack.at(-1) ?? 'userspace', stack };
}

/**
 * An exploration the watchdog had to end: the revision hung (no progress at all) or exhausted
 * its heap in `scenario`. The finding is reported with the trace up to that point; the other
 * cells are inconclusive, as their runs were cut short. Not shrunk: each attempt would need a
 * fresh worker and the full timeout.
 */
export function abortedReport(a: {
  readonly backend: BackendId;
  readonly revision: Pick<Revision, 'id' | 'derivedFrom'> & Partial<Pick<Revision, 'arm'>>;
  readonly ref: RevisionRef;
  readonly whatIf?: WhatIfMode;
  readonly invariants: readonly string[];
  readonly seed: number;
  readonly runs: number;
  readonly ms: number;
  readonly run: number;
  readonly scenario: Scenario;
  readonly events: readonly Event[];
  readonly cause: { readonly kind: 'hung'; readonly seconds: number } | { readonly kind: 'died'; readonly error: string; readonly heapMb: number };
}): ExplorationReport {
  const { site, stack } = openCallSite(a.events);
  const invariant = a.cause.kind === 'hung' ? 'soft-lockup' : 'oops';
  const messageId = a.cause.kind === 'hung' ? 'wallClock' : 'outOfMemory';
  const message = a.cause.kind === 'hung'
    ? `no progress for ${a.cause.seconds.toFixed(1)} s in ${site} (a loop that calls no kernel code)`
    : `the revision exhausted a ${a.cause.heapMb} MB heap: ${a.cause.error}`;
  const opIndex = [...a.events].reverse().find((e) => e.kind === 'op_begin');
  const index = opIndex?.kind === 'op_begin' ? opIndex.index : 0;
  const violation: Violation = { invariant, messageId, message, opIndex: index, seq: a.events.length, site };
  const crash: Event = { kind: 'crash', crash: { kind: 'soft_lockup', site, work: a.events.length, kernelStack: stack } };
  const key = `${invariant}/${messageId}@${site}`;
  const path = String(Math.max(0, a.run));
  const size = scenarioSize(a.scenario);
  const cells = a.invariants.map((property): CellReport => {
    const e = expectedFor(a.revision, property, a.backend, a.whatIf);
    const findings: FindingReport[] = property !== invariant ? [] : [{
      signature: key, invariant, messageId, site, status: 'new', reach: findingReach(a.scenario, a.revision), message, opIndex: index, firstRun: a.run, runsWithIt: 1, shrinks: 0,
      unshrunk: a.cause.kind === 'hung' ? 'each shrinking attempt would hang its worker until the watchdog' : 'each shrinking attempt would exhaust its worker\'s heap',
      operations: size.ops, pages: size.pages, path,
      replay: replayCommand(a.backend, a.ref, a.whatIf, invariant, a.seed, a.runs, key, path),
      scenario: a.scenario, violations: [violation], trace: buildTrace([...a.events, crash], [violation]),
    }];
    return {
      backend: a.backend, revision: a.ref.id, ...(a.whatIf === undefined ? {} : { whatIf: a.whatIf }), property,
      expected: e.unspecified === true ? 'unspecified' : e.expectation.verdict,
      expectedBugs: e.expectation.verdict === 'violated' ? e.expectation.bugs.map((b) => b.id) : [],
      ...(e.inheritedFrom === undefined ? {} : { inheritedFrom: e.inheritedFrom }),
      status: findings.length > 0 ? 'violated' : 'inconclusive',
      verdict: 'differs', findings, missing: [], fixed: [], shortfall: [],
    };
  });
  return { backend: a.backend, revision: a.ref, ...(a.whatIf === undefined ? {} : { whatIf: a.whatIf }), seed: a.seed, runs: Math.max(0, a.run), ms: a.ms, coverage: [], cells, modelErrors: [] };
}
