import fc from 'fast-check';
import type { ConcurrentModel } from '../model/concurrent/load.js';
import { contendedLocks, exploreBounded, syncPoints, pct, preemptionsOf, shrinkSchedule } from '../model/concurrent/explore.js';
import { nonPreemptive, replay, type Chooser, type WaitLink } from '../model/concurrent/scheduler.js';
import type { Revision } from '../model/revisions/Revision.js';
import type { OpKind, Scenario } from '../model/scenario/Scenario.js';
import { lockClass } from '../model/world/locks.js';
import { EAGAIN } from '../model/kernel/errno.js';
import { VM_FAULT_SIGBUS } from '../model/kernel/guest_memfd.js';
import type { ThreadsResult } from '../model/scenario/runThreads.js';
import { threadedScenarioArb, type X86 } from '../generators/threads.js';
import { judgedAtOpEnd, watch, type Invariant, type Violation } from './Invariant.js';
import { expectation } from './matrix.js';
import { cellName } from '../model/whatIf.js';
import { DEFAULT_IN_PLACE_SERIES } from '../model/kernel/inplace_series.js';
import { INVARIANTS } from './registry.js';
import { keyOf, parseSignature, signatureMatches } from './signature.js';

/**
 * Interleavings as a property: scenarios with threads (generators/threads.ts) run in the
 * concurrent build under a schedule the exploration picks, every invariant that judges events
 * watching every step, and three more verdicts the scheduler gives: no deadlock (every live
 * thread waiting: the wait-for cycle), no crash, no thread that never stops.
 *
 * Invariants that judge an operation against the state it started from assume the operation ran
 * alone: the functional oracle and the return-value contract (what the call returns for the
 * state it met), the refcount balance and the measurement at an operation's end, the world's
 * well-formedness between operations, and the bytes a populate must copy (src-offset-straddling:
 * those its source held when it began; a thread that changes the source meanwhile, by
 * madvise() or munmap(), makes any byte right). Under interleaving another thread's work lands
 * inside the operation, so these watch single-thread runs only.
 */
const PER_OPERATION = new Set(['functional-spec', 'return-value-contract', 'refcount-balance', 'measurement', 'world-well-formed', 'src-offset-straddling']);

export const INTERLEAVING_INVARIANTS: readonly Invariant[] = INVARIANTS.filter((i) => !PER_OPERATION.has(i.id));

export interface InterleaveCell {
  readonly backend: X86;
  readonly revision: string;
  /** The in-place what-if (model/whatIf.ts): the host fault path takes the invalidate lock. */
  readonly inPlace: boolean;
  /** Which in-place series (model/kernel/inplace_series.ts) when `inPlace`: the default (v8) when absent. */
  readonly series?: string | undefined;
}

/** The in-place series a cell's machine applies, if any. */
export function seriesOf(cell: InterleaveCell): string | undefined {
  return cell.inPlace ? (cell.series ?? DEFAULT_IN_PLACE_SERIES) : undefined;
}

/** `snp × v7.0 [in-place]`, `snp × v7.0 [in-place rfc-v2]`. */
export function interleaveCellName(cell: InterleaveCell): string {
  const s = seriesOf(cell);
  const name = cellName(cell.revision, cell.inPlace ? 'in-place' : undefined);
  return `${cell.backend} × ${s === undefined || s === DEFAULT_IN_PLACE_SERIES ? name : `${name.slice(0, -1)} ${s}]`}`;
}

/**
 * Whether the matrix already expects (or tolerates) a signature on the cell's invariants: a known
 * bug a single thread shows is set aside, so the exploration looks for what only interleaving
 * shows. A finding judged at an operation's end in a concurrent run is judged once no thread is
 * inside an operation (Invariant.ts watch()), and named after one of the operations that ended
 * then, not necessarily the one whose end a single thread would have judged it at: so there the
 * site is not compared.
 */
export interface Known {
  (v: Violation): boolean;
  /** The cell's single-thread runs already leak a lock (refcount-balance/lockLeaked): a thread stuck behind it is that bug. */
  readonly lockLeaks: boolean;
}

/** Every operation kind: a violation named after one (not a kernel function) was judged at an operation's end. */
const OP_KIND_NAMES: ReadonlySet<string> = new Set(Object.keys({
  create_guest_memfd: 1, set_user_memory_region2: 1, set_memory_attributes: 1, mmap: 1, munmap: 1, madvise: 1, snp_launch_update: 1,
  snp_launch_finish: 1, snp_launch_start: 1, tdx_init_mem_region: 1, tdx_finalize_vm: 1, tdx_init_vcpu: 1, arm_rmi_populate: 1,
  arm_realm_create: 1, arm_realm_activate: 1, fallocate: 1, punch_hole: 1, memory_failure: 1, gmem_user_fault: 1, gmem_convert: 1, close_vm: 1,
  close_guest_memfd: 1,
} satisfies Record<OpKind, 1>));

export function knownOn(cell: InterleaveCell): Known {
  const whatIf = cell.inPlace ? 'in-place' : undefined;
  const listed = INTERLEAVING_INVARIANTS.flatMap((inv) => {
    const e = expectation(inv.id, cell.backend, cell.revision, whatIf);
    return [...(e.verdict === 'violated' ? e.bugs : []), ...e.tolerated].flatMap((b) => b.signatures);
  });
  const kinds = new Set(listed.flatMap((l) => {
    const p = parseSignature(l);
    return p === undefined ? [] : [`${p.invariant}/${p.messageId}`];
  }));
  const balance = expectation('refcount-balance', cell.backend, cell.revision, whatIf);
  const lockLeaks = [...(balance.verdict === 'violated' ? balance.bugs : []), ...balance.tolerated].some((b) => b.signatures.some((k) => k.startsWith('refcount-balance/lockLeaked') || k.startsWith('refcount-balance/folioLocked')));
  // RFC v2's fault path takes the invalidate lock in its own handler: the matrix's cells run v8's,
  // whose entry point takes it. The same finding there.
  const alias = (v: Violation): Violation => (v.site === 'kvm_gmem_fault_shared' ? { ...v, site: 'kvm_gmem_fault_user_mapping' } : v);
  const known = (v: Violation): boolean => listed.some((l) => signatureMatches(l, keyOf(alias(v))))
    || (judgedAtOpEnd(v) && OP_KIND_NAMES.has(v.site) && kinds.has(`${v.invariant}/${v.messageId}`));
  return Object.assign(known, { lockLeaks });
}

/**
 * What the suite expects interleaving to show on a cell: B2's deadlock where the matrix expects
 * B2's lock-order cycle (the populate takes mmap_lock, faulting its source in, under the
 * invalidate lock, and the host fault path takes them the other way round: the old order loops
 * under in-place semantics); nothing elsewhere. Interleaving shows the cycle happen.
 */
export const B2_DEADLOCK = 'deadlock/gmem->invalidate_lock+mm->mmap_lock@';
/**
 * B2 in one thread: the populate's source is the VMM's mapping of the guest_memfd itself, and
 * the fault its GUP or copy_from_user() takes waits for the invalidate lock the populate holds.
 */
export const B2_SELF_DEADLOCK = 'deadlock/gmem->invalidate_lock@';

/**
 * What an in-place series shows under interleaving (model/kernel/inplace_series.ts): the series as
 * posted (`v8`, `rfc-v2`) nothing; the injected forms of RFC v2 the TOCTOU B20 describes (the host
 * fault maps an index a conversion made private after the check), and v8 without the conversion's
 * checks a PTE left on a private index.
 *
 * B20 (kernel-facts §6; Sean Christopherson on RFC v2 02/51,
 * https://lore.kernel.org/all/aNxqYMqtBKll-TgV@google.com/) is not in RFC v2 as posted: its check
 * and folio look-up share one section under the invalidate lock, which conversions take
 * exclusive, and the folio reference held until the PTE makes a conversion to private back off
 * with -EAGAIN, as the thread concluded (https://lore.kernel.org/all/aN3KfrWERpXsj3ld@google.com/).
 * Reaching it takes the in-place what-if and two threads. It is not in properties/bugs.ts: that
 * list is the matrix's, whose cells and corpus run one thread.
 */
export const TOCTOU = 'no-double-private/hostMapsPrivate@';
const SERIES_FINDINGS: Readonly<Record<string, { readonly bug: string; readonly signature: string }>> = {
  'rfc-v2~check-outside-lock': { bug: 'B20', signature: TOCTOU },
  'rfc-v2~no-safe-refcount': { bug: 'B20', signature: TOCTOU },
  'v8~no-conversion-checks': { bug: 'v8~no-conversion-checks', signature: 'no-double-private/convertedWhileMapped@' },
};

export interface ExpectedFinding {
  /** `B2`, `B20`, or both (`B2 or B20`) where either may come first. */
  readonly bug: string;
  readonly signatures: readonly string[];
}

export function expectedInterleaving(cell: InterleaveCell): ExpectedFinding | undefined {
  const e = expectation('lock-order', cell.backend, cell.revision, cell.inPlace ? 'in-place' : undefined);
  const found = [
    ...(e.verdict === 'violated' && e.bugs.some((b) => b.id === 'B2') ? [{ bug: 'B2', signature: B2_DEADLOCK }, { bug: 'B2', signature: B2_SELF_DEADLOCK }] : []),
    ...(SERIES_FINDINGS[seriesOf(cell) ?? ''] === undefined ? [] : [SERIES_FINDINGS[seriesOf(cell) ?? '']]),
  ].filter((f) => f !== undefined);
  return found.length === 0 ? undefined : { bug: [...new Set(found.map((f) => f.bug))].join(' or '), signatures: found.map((f) => f.signature) };
}

/** Whether a finding's signature is one the cell expects. */
export function isExpected(e: ExpectedFinding | undefined, signature: string): boolean {
  return e !== undefined && e.signatures.some((s) => signature.startsWith(s));
}

/** A built-in revision or injected bug as the concurrent build emits it. */
function revisionIn(m: ConcurrentModel, id: string): Revision {
  const r = m.revisionById(id) ?? m.mutantById(id);
  if (r === undefined) throw new Error(`no revision ${id} in the concurrent build`);
  return r;
}

/** One concurrent run judged: what went wrong, if anything. */
export type Verdict =
  | { readonly kind: 'ok'; readonly contended: boolean }
  | { readonly kind: 'deadlock'; readonly cycle: readonly WaitLink[]; readonly signature: string }
  | { readonly kind: 'violation'; readonly violation: Violation; readonly signature: string }
  | { readonly kind: 'crash'; readonly signature: string }
  /** Threads wait for a lock an ended operation left held (scheduler.ts `stuck`). */
  | { readonly kind: 'stuck'; readonly signature: string }
  | { readonly kind: 'livelock'; readonly signature: string };

/** `deadlock/mm->mmap_lock+gmem->invalidate_lock@kvm_gmem_populate`: the locks of the cycle, by class. */
function deadlockSignature(cycle: readonly WaitLink[]): string {
  const classes = [...new Set(cycle.map((l) => lockClass(l.wants.lock)))].sort();
  const sites = [...new Set(cycle.flatMap((l) => l.holds.map((h) => h.site)))].filter((s) => s !== 'userspace').sort();
  return `deadlock/${classes.join('+')}@${sites.join(',') || 'userspace'}`;
}

export interface Judged {
  readonly run: ThreadsResult;
  readonly verdict: Verdict;
}

/** Runs `scenario` on `revision` (the concurrent build's) under `choose` and judges it. */
export function judgeThreads(m: ConcurrentModel, scenario: Scenario, revision: Revision, choose?: Chooser, known: Known = Object.assign(() => false, { lockLeaks: false })): Judged {
  const watched = INTERLEAVING_INVARIANTS.map((inv) => watch(inv, { revision }));
  const run = m.runThreads(scenario, revision, { observers: watched.map((w) => w.observer), ...(choose === undefined ? {} : { choose }) });
  const end = run.schedule.end;
  if (end.kind === 'deadlock') return { run, verdict: { kind: 'deadlock', cycle: end.cycle, signature: deadlockSignature(end.cycle) } };
  if (end.kind === 'stuck' && !known.lockLeaks) return { run, verdict: { kind: 'stuck', signature: `stuck/${lockClass(end.lock)}@${end.chain.at(-1)?.wants.site ?? 'userspace'}` } };
  if (end.kind === 'step-limit') return { run, verdict: { kind: 'livelock', signature: 'livelock/step-limit' } };
  const all = watched.flatMap((w) => w.violations);
  const violation = all.filter((v) => !known(v)).sort((a, b) => a.seq - b.seq)[0];
  if (violation !== undefined) return { run, verdict: { kind: 'violation', violation, signature: keyOf(violation) } };
  // A crash the oops and soft-lockup invariants did not report (a model error) is a finding too.
  if (run.crash !== undefined && !all.some((v) => v.invariant === 'oops' || v.invariant === 'soft-lockup')) {
    return { run, verdict: { kind: 'crash', signature: `crash/${run.crash.crash.kind}@${run.crash.crash.site}` } };
  }
  const contended = run.schedule.steps.some((s, i) => {
    const next = run.schedule.steps[i + 1];
    return (s.to.kind === 'lock' || s.to.kind === 'fault' || s.to.kind === 'unlock') && next !== undefined && next.thread !== s.thread;
  });
  return { run, verdict: { kind: 'ok', contended } };
}

export interface Counterexample {
  /** The scenario with its threads and the shrunk schedule: replaying it reproduces the finding. */
  readonly scenario: Scenario;
  readonly verdict: Exclude<Verdict, { kind: 'ok' }>;
  readonly run: ThreadsResult;
  /** Runs (scenario and schedule drawn) until the first failure. */
  readonly runsToFind: number;
  readonly size: { readonly threads: number; readonly ops: number; readonly steps: number; readonly preemptions: number; readonly forcedChoices: number };
}

/**
 * The cases of a run the in-place race is about (counted per run by exploreRandom()):
 * `overlap`, a host fault and a conversion to private of the same page in flight at once;
 * `convert-refused`, a conversion to private that met a reference in flight (-EAGAIN); and
 * `fault-refused`, a host fault refused (VM_FAULT_SIGBUS) a page a thread's conversion to private
 * had just converted (the conversion ended before the fault began). Only operations of the
 * threads count, not the set-up's.
 */
export type RaceCase = 'overlap' | 'convert-refused' | 'fault-refused';

export function raceCasesOf(run: ThreadsResult): Set<RaceCase> {
  const out = new Set<RaceCase>();
  const span = new Map<number, [number, number]>();
  run.world.log.forEach((e, i) => {
    if (e.kind === 'op_begin') span.set(e.index, [i, Number.POSITIVE_INFINITY]);
    if (e.kind === 'op_end') {
      const s = span.get(e.index);
      if (s !== undefined) s[1] = i;
    }
  });
  const first = run.firstOpOf[0] ?? 0;
  const threads = run.results.filter((r) => r.index >= first);
  const faults = threads.filter((r) => r.op.kind === 'gmem_user_fault');
  for (const r of threads) {
    if (r.op.kind !== 'gmem_convert' || r.op.to !== 'private') continue;
    if (r.ret === -EAGAIN) out.add('convert-refused');
    const c = span.get(r.index);
    const { guest_memfd, offset, size } = r.op;
    for (const f of faults) {
      const fs = span.get(f.index);
      if (f.op.kind !== 'gmem_user_fault' || f.op.guest_memfd !== guest_memfd || f.op.offset < offset || f.op.offset >= offset + size) continue;
      if (c === undefined || fs === undefined) continue;
      if (fs[0] < c[1] && c[0] < fs[1]) out.add('overlap');
      if (r.ret === 0 && c[1] < fs[0] && f.ret === VM_FAULT_SIGBUS) out.add('fault-refused');
    }
  }
  return out;
}

export type Outcome =
  | { readonly status: 'holds'; readonly runs: number; readonly contended: number; readonly cases: Readonly<Record<RaceCase, number>> }
  | { readonly status: 'violated'; readonly counterexample: Counterexample };

export interface RandomOptions {
  readonly runs: number;
  readonly seed: number;
  /** PCT's bug depth (priority change points + 1). */
  readonly depth: number;
}

/** PCT's k and the locks its change points fall at: from the scenario's run without preemption. */
function pctShape(m: ConcurrentModel, scenario: Scenario, revision: Revision): { steps: number; locks: ReadonlySet<string> } {
  const run = m.runThreads(scenario, revision, { choose: nonPreemptive }).schedule;
  const locks = contendedLocks(run);
  return { steps: syncPoints(run, locks), locks };
}

/**
 * Random mode: fast-check draws scenarios with threads and a PCT seed; the first failing run is
 * shrunk by fast-check (fewer threads, fewer and simpler operations), then its schedule by
 * shrinkSchedule() (the fewest forced choices).
 */
export function exploreRandom(m: ConcurrentModel, cell: InterleaveCell, o: RandomOptions): Outcome {
  const revision = revisionIn(m, cell.revision);
  let runs = 0;
  let firstFailure = 0;
  let contended = 0;
  const cases: Record<RaceCase, number> = { overlap: 0, 'convert-refused': 0, 'fault-refused': 0 };
  const known = knownOn(cell);
  const judged = (scenario: Scenario, seed: number): Judged => judgeThreads(m, scenario, revision, pct({ depth: o.depth, ...pctShape(m, scenario, revision), seed }), known);
  const result = fc.check(
    fc.property(threadedScenarioArb(cell.backend, seriesOf(cell)), fc.nat(), (scenario, seed) => {
      const j = judged(scenario, seed);
      if (firstFailure === 0) {
        runs++;
        if (j.verdict.kind === 'ok' && j.verdict.contended) contended++;
        for (const c of raceCasesOf(j.run)) cases[c]++;
        if (j.verdict.kind !== 'ok') firstFailure = runs;
      }
      return j.verdict.kind === 'ok';
    }),
    { seed: o.seed, numRuns: o.runs },
  );
  if (!result.failed || result.counterexample === null) return { status: 'holds', runs, contended, cases };
  const [scenario, seed] = result.counterexample;
  const found = judged(scenario, seed);
  if (found.verdict.kind === 'ok') throw new Error('the shrunk counterexample does not fail again: the model is not deterministic');
  const fewer = shrinkThreads(m, scenario, revision, found, known);
  return { status: 'violated', counterexample: shrinkChoices(m, fewer.scenario, revision, fewer.found, firstFailure, known) };
}

/**
 * The threads' operations fast-check could not drop: an operation (or a whole thread) goes when
 * the finding survives without it under some schedule of at most one preemption, the schedule
 * tried first being the one it had. fast-check's shrinking keeps the PCT seed it drew, which
 * after an operation is dropped schedules the rest differently, so it may stop early.
 */
function shrinkThreads(m: ConcurrentModel, scenario: Scenario, revision: Revision, found: Judged, known: Known): { readonly scenario: Scenario; readonly found: Judged } {
  if (found.verdict.kind === 'ok') return { scenario, found };
  const signature = found.verdict.signature;
  const fails = (candidate: Scenario, schedule: readonly number[]): Judged | undefined => {
    const same = (j: Judged): boolean => j.verdict.kind !== 'ok' && j.verdict.signature === signature;
    const direct = judgeThreads(m, candidate, revision, replay(schedule), known);
    if (same(direct)) return direct;
    const r = exploreBounded((choose) => {
      const j = judgeThreads(m, candidate, revision, choose, known);
      return { schedule: j.run.schedule, value: j };
    }, 1, same, 2000);
    return r.found?.value;
  };
  let best = { scenario, found };
  for (let improved = true; improved;) {
    improved = false;
    const threads = best.scenario.threads ?? [];
    for (let t = threads.length - 1; t >= 0 && !improved; t--) {
      for (let o = (threads[t]?.length ?? 0) - 1; o >= 0 && !improved; o--) {
        const fewer = threads.map((ops, i) => (i === t ? ops.filter((_x, j) => j !== o) : ops)).filter((ops) => ops.length > 0);
        const candidate: Scenario = { ...best.scenario, threads: fewer };
        const j = fails(candidate, best.found.run.schedule.choices);
        if (j !== undefined) {
          best = { scenario: candidate, found: j };
          improved = true;
        }
      }
    }
  }
  return best;
}

/** Shrinks the schedule of a failing run, keeping the same signature. */
function shrinkChoices(m: ConcurrentModel, scenario: Scenario, revision: Revision, found: Judged, runsToFind: number, known: Known): Counterexample {
  if (found.verdict.kind === 'ok') throw new Error('not a failure');
  const signature = found.verdict.signature;
  const again = (schedule: readonly number[]) => {
    const j = judgeThreads(m, { ...scenario, schedule }, revision, replay(schedule), known);
    return j.verdict.kind !== 'ok' && j.verdict.signature === signature ? j : undefined;
  };
  // The fewest preemptions first (iterative context bounding): the smallest bound under which some
  // schedule still shows the finding, then the fewest forced choices of that schedule that keep
  // its preemptions.
  let start = found;
  const preemptions = (j: Judged): number => preemptionsOf(j.run.schedule.choices, j.run.schedule.enabled);
  for (let bound = 0; bound < preemptions(found); bound++) {
    const r = exploreBounded((choose) => {
      const j = judgeThreads(m, scenario, revision, choose, known);
      return { schedule: j.run.schedule, value: j };
    }, bound, (j) => j.verdict.kind !== 'ok' && j.verdict.signature === signature, 5000);
    if (r.found !== undefined) {
      start = r.found.value;
      break;
    }
  }
  const most = preemptions(start);
  const schedule = shrinkSchedule(start.run.schedule.choices, (sch) => {
    const j = again(sch);
    return j !== undefined && preemptions(j) <= most ? j.run.schedule : undefined;
  });
  const final = again(schedule);
  if (final === undefined || final.verdict.kind === 'ok') throw new Error('the shrunk schedule does not fail again: the model is not deterministic');
  const s = final.run.schedule;
  const threads = scenario.threads ?? [];
  return {
    scenario: { ...scenario, schedule },
    verdict: final.verdict,
    run: final.run,
    runsToFind,
    size: { threads: threads.length, ops: threads.reduce((n, t) => n + t.length, 0), steps: s.steps.length, preemptions: preemptionsOf(s.choices, s.enabled), forcedChoices: schedule.length },
  };
}

/** Replays a stored concurrent scenario (its threads and schedule) on a cell and judges it. */
export function replayOn(m: ConcurrentModel, cell: InterleaveCell, scenario: Scenario): Judged {
  const revision = revisionIn(m, cell.revision);
  return judgeThreads(m, scenario, revision, undefined, knownOn(cell));
}

export interface ExhaustiveOutcome {
  readonly schedules: number;
  readonly complete: boolean;
  readonly counterexample?: Counterexample | undefined;
}

/** Bounded-exhaustive mode on one scenario: every schedule within `bound` preemptions. */
export function exploreExhaustive(m: ConcurrentModel, cell: InterleaveCell, scenario: Scenario, bound: number, limit = 100_000): ExhaustiveOutcome {
  const revision = revisionIn(m, cell.revision);
  const known = knownOn(cell);
  const r = exploreBounded((choose) => {
    const j = judgeThreads(m, scenario, revision, choose, known);
    return { schedule: j.run.schedule, value: j };
  }, bound, (j) => j.verdict.kind !== 'ok', limit);
  if (r.found === undefined) return { schedules: r.schedules, complete: r.complete };
  return { schedules: r.schedules, complete: false, counterexample: shrinkChoices(m, scenario, revision, r.found.value, r.schedules, known) };
}
