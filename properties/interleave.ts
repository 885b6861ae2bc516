import fc from 'fast-check';
import type { ConcurrentModel } from '../model/concurrent/load.js';
import { contendedLocks, exploreBounded, syncPoints, pct, preemptionsOf, shrinkSchedule } from '../model/concurrent/explore.js';
import { nonPreemptive, replay, type Chooser, type WaitLink } from '../model/concurrent/scheduler.js';
import type { Revision } from '../model/revisions/Revision.js';
import type { OpKind, Scenario } from '../model/scenario/Scenario.js';
import { lockClass } from '../model/world/locks.js';
import { EAGAIN, EINVAL, EIO } from '../model/kernel/errno.js';
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
  close_guest_memfd: 1, pre_fault_memory: 1,
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
 * What an in-place series shows under interleaving (model/kernel/inplace_series.ts): v8 nothing,
 * RFC v2 as posted no TOCTOU but a WARN past the file's end (below); the injected forms of RFC v2
 * the TOCTOU B20 describes (the host fault maps an index a conversion made private after the
 * check), and v8 without the conversion's checks a PTE left on a private index.
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

/**
 * RFC v2's WARN past the end of the file: kvm_gmem_mmap() does not bound the mapping by i_size
 * and kvm_gmem_fault_shared() does not check the index, so a host fault past the end reaches
 * kvm_gmem_shareability_get(), whose mtree_load() finds nothing and WARNs (a WARN, not
 * WARN_ON_ONCE: Sean asked for the latter). Yan Zhao found it reviewing 02/51
 * (https://lore.kernel.org/all/aDU3eL7qQYrXkE3T@yzhao56-desk.sh.intel.com/) and proposed the
 * i_size check in kvm_gmem_mmap(). Reaching it takes userspace alone under the in-place what-if
 * (RFC v2's machine), one thread. v8 refuses such a fault (VM_FAULT_SIGBUS) and holds.
 */
export const RFC_V2_FAULT_PAST_EOF = 'warn-reachable/warnWithoutFault@kvm_gmem_get_shared_folio';

/** A bug the cell expects interleaving to show, by any of its signatures. */
export interface ExpectedBug {
  readonly id: string;
  readonly signatures: readonly string[];
}

const B20: ExpectedBug = { id: 'B20', signatures: [TOCTOU] };
const RFC_V2_EOF: ExpectedBug = { id: 'rfc-v2 fault past EOF', signatures: [RFC_V2_FAULT_PAST_EOF] };
const SERIES_FINDINGS: Readonly<Record<string, readonly ExpectedBug[]>> = {
  'rfc-v2': [RFC_V2_EOF],
  // The check, and the WARN of kvm_gmem_shareability_get() with it, moved into the fault handler.
  'rfc-v2~check-outside-lock': [B20, { ...RFC_V2_EOF, signatures: ['warn-reachable/warnWithoutFault@kvm_gmem_fault_shared'] }],
  'rfc-v2~no-safe-refcount': [B20, RFC_V2_EOF],
  // Neither unmap nor reference check: the PTE survives the conversion (convertedWhileMapped), a
  // fault in flight maps the page after it (hostMapsPrivate, B20's race with no defence left), and
  // the series' populate grants the page to the guest while the VMM still maps it (grantWhileMapped).
  'v8~no-conversion-checks': [{ id: 'v8~no-conversion-checks', signatures: ['no-double-private/convertedWhileMapped@', TOCTOU, 'no-double-private/grantWhileMapped@'] }],
};

export interface ExpectedFinding {
  /** The bugs' ids, joined: `B2`, `B20 and rfc-v2 fault past EOF`. */
  readonly bug: string;
  /** Every bug the cell shows: the exploration must find each, by one of its signatures. */
  readonly bugs: readonly ExpectedBug[];
  /** Every signature of those bugs: a finding outside them is new. */
  readonly signatures: readonly string[];
}

export function expectedInterleaving(cell: InterleaveCell): ExpectedFinding | undefined {
  const e = expectation('lock-order', cell.backend, cell.revision, cell.inPlace ? 'in-place' : undefined);
  const bugs: ExpectedBug[] = [
    ...(e.verdict === 'violated' && e.bugs.some((b) => b.id === 'B2') ? [{ id: 'B2', signatures: [B2_DEADLOCK, B2_SELF_DEADLOCK] }] : []),
    ...(SERIES_FINDINGS[seriesOf(cell) ?? ''] ?? []),
  ];
  return bugs.length === 0 ? undefined : { bug: bugs.map((b) => b.id).join(' and '), bugs, signatures: bugs.flatMap((b) => b.signatures) };
}

/** The expected bugs no finding showed (each must be found by one of its signatures). */
export function missedBugs(e: ExpectedFinding | undefined, found: readonly string[]): readonly ExpectedBug[] {
  return (e?.bugs ?? []).filter((b) => !found.some((f) => b.signatures.some((s) => f.startsWith(s))));
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
  /** Runs (scenario and schedule drawn) until the first that showed it. */
  readonly runsToFind: number;
  /** Runs, of all explored, whose finding it was (random mode; 1 for one scenario). */
  readonly runsWithIt: number;
  /** Signatures found before it and set aside while it was searched for (bugs behind bugs). */
  readonly setAside: readonly string[];
  readonly size: { readonly threads: number; readonly ops: number; readonly steps: number; readonly preemptions: number; readonly forcedChoices: number };
}

/**
 * The cases of a run the in-place race is about (counted per run by exploreRandom()):
 * `overlap`, a host fault and a conversion to private of the same page in flight at once;
 * `convert-refused`, a conversion to private that met a reference in flight (-EAGAIN); and
 * `fault-refused`, a host fault refused (VM_FAULT_SIGBUS) a page a thread's conversion to private
 * had just converted (the conversion ended before the fault began); `close-in-flight`, a close()
 * of the guest_memfd or the VM landing while another thread's populate, guest_memfd call or host
 * fault is under way (what it holds is released when it returns); `image-loaded` and
 * `image-refused`, the in-place series' populate of a page (a NULL source) succeeding or refused
 * (still shared: -EINVAL, on SNP -EIO) while a thread converts pages to private. Only operations
 * of the threads count, not the set-up's.
 */
export type RaceCase = 'overlap' | 'convert-refused' | 'fault-refused' | 'close-in-flight' | 'image-loaded' | 'image-refused';

/** A thread's operation a close() of the guest_memfd or the VM can land inside (it holds that fd, or the VM). */
const HOLDS_ON_CLOSE: ReadonlySet<OpKind> = new Set<OpKind>(['snp_launch_update', 'tdx_init_mem_region', 'fallocate', 'punch_hole', 'gmem_convert', 'gmem_user_fault', 'set_memory_attributes']);

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
  const during = (a: number, b: number): boolean => {
    const x = span.get(a);
    const y = span.get(b);
    return x !== undefined && y !== undefined && x[0] < y[1] && y[0] < x[1];
  };
  // The series' populate in place (a NULL source) against a thread's conversion to private.
  if (threads.some((r) => r.op.kind === 'gmem_convert' && r.op.to === 'private')) {
    for (const r of threads) {
      const inPlace = (r.op.kind === 'snp_launch_update' && r.op.uaddr === 0) || (r.op.kind === 'tdx_init_mem_region' && r.op.source_addr === 0);
      if (inPlace && r.ret === 0) out.add('image-loaded');
      // The page still shared: kvm_gmem_populate()'s -EINVAL, which snp_launch_update() returns as -EIO.
      if (inPlace && r.ret === (r.op.kind === 'snp_launch_update' ? -EIO : -EINVAL)) out.add('image-refused');
    }
  }
  for (const c of threads) {
    if (c.op.kind !== 'close_guest_memfd' && c.op.kind !== 'close_vm') continue;
    if (threads.some((r) => HOLDS_ON_CLOSE.has(r.op.kind) && during(c.index, r.index))) out.add('close-in-flight');
  }
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
  | {
    readonly status: 'violated';
    readonly runs: number;
    readonly contended: number;
    readonly cases: Readonly<Record<RaceCase, number>>;
    /** Every distinct signature, in the order found, each shrunk. */
    readonly counterexamples: readonly [Counterexample, ...Counterexample[]];
  };

export interface RandomOptions {
  readonly runs: number;
  readonly seed: number;
  /** PCT's bug depth (priority change points + 1). */
  readonly depth: number;
  /**
   * Asked each time a new signature is found, with all found so far: true ends the search there
   * (the remaining runs are drawn, not run). The benchmark's runs to find a given bug.
   */
  readonly enough?: (found: readonly string[]) => boolean;
}

/** PCT's k and the locks its change points fall at: from the scenario's run without preemption. */
function pctShape(m: ConcurrentModel, scenario: Scenario, revision: Revision): { steps: number; locks: ReadonlySet<string> } {
  const run = m.runThreads(scenario, revision, { choose: nonPreemptive }).schedule;
  const locks = contendedLocks(run);
  return { steps: syncPoints(run, locks), locks };
}

/** `known`, and the signatures already found set aside: the run's next finding is what it shows. */
function setAsideIn(known: Known, found: ReadonlySet<string>): Known {
  return Object.assign((v: Violation) => known(v) || found.has(keyOf(v)), { lockLeaks: known.lockLeaks });
}

/**
 * Random mode: fast-check draws scenarios with threads and a PCT seed, every run of the budget
 * is judged, and a run's finding is set aside once found, so later runs report what lies behind
 * it (a violation judged after it in the same run, or another route): bugs behind bugs, as the
 * single-thread exploration does (properties/explore.ts). A deadlock, a crash or a thread that
 * never stops ends its run, so what it hides in that run stays hidden; other runs find it.
 * Each distinct signature is then shrunk from the first run that showed it (that run replayed by
 * its fast-check path and shrunk by fast-check, keeping the signature with the same set aside),
 * then its threads (shrinkThreads()) and its schedule (shrinkChoices()).
 */
export function exploreRandom(m: ConcurrentModel, cell: InterleaveCell, o: RandomOptions): Outcome {
  const revision = revisionIn(m, cell.revision);
  const cases: Record<RaceCase, number> = { overlap: 0, 'convert-refused': 0, 'fault-refused': 0, 'close-in-flight': 0, 'image-loaded': 0, 'image-refused': 0 };
  const base = knownOn(cell);
  const found = new Map<string, { run: number; count: number; setAside: readonly string[] }>();
  let runs = 0;
  let contended = 0;
  let done = false;
  const judged = (scenario: Scenario, seed: number, known: Known): Judged => judgeThreads(m, scenario, revision, pct({ depth: o.depth, ...pctShape(m, scenario, revision), seed }), known);
  const arb = fc.tuple(threadedScenarioArb(cell.backend, seriesOf(cell), revision.gmemAttributes === true), fc.nat());
  fc.check(
    fc.property(arb, ([scenario, seed]) => {
      if (done) return true;
      const j = judged(scenario, seed, setAsideIn(base, new Set(found.keys())));
      if (j.verdict.kind === 'ok' && j.verdict.contended) contended++;
      for (const c of raceCasesOf(j.run)) cases[c]++;
      if (j.verdict.kind !== 'ok') {
        const f = found.get(j.verdict.signature);
        if (f !== undefined) f.count++;
        else {
          found.set(j.verdict.signature, { run: runs, count: 1, setAside: [...found.keys()] });
          done = o.enough?.([...found.keys()]) ?? false;
        }
      }
      runs++;
      return true;
    }),
    { seed: o.seed, numRuns: o.runs },
  );
  const counterexamples = [...found].map(([signature, f]) => {
    const known = setAsideIn(base, new Set(f.setAside));
    const shows = (scenario: Scenario, seed: number): boolean => {
      const j = judged(scenario, seed, known);
      return j.verdict.kind !== 'ok' && j.verdict.signature === signature;
    };
    const r = fc.check(fc.property(arb, ([scenario, seed]) => !shows(scenario, seed)), { seed: o.seed, numRuns: o.runs, path: String(f.run) });
    if (!r.failed || r.counterexample === null) throw new Error(`run ${f.run} of seed ${o.seed} does not show ${signature} again: the model is not deterministic`);
    const [[scenario, seed]] = r.counterexample;
    const first = judged(scenario, seed, known);
    const fewer = shrinkThreads(m, scenario, revision, first, known);
    return { ...shrinkChoices(m, fewer.scenario, revision, fewer.found, f.run + 1, known), runsWithIt: f.count, setAside: f.setAside };
  });
  const [head, ...rest] = counterexamples;
  return head === undefined ? { status: 'holds', runs, contended, cases } : { status: 'violated', runs, contended, cases, counterexamples: [head, ...rest] };
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
    runsWithIt: 1,
    setAside: [],
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
