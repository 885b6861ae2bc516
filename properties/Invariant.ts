import type { BackendModel } from '../model/backends/Backend.js';
import type { Revision } from '../model/revisions/Revision.js';
import type { OpResult, RunObserver } from '../model/scenario/runScenario.js';
import type { Op } from '../model/scenario/Scenario.js';
import type { Event, EventKind } from '../model/world/events.js';
import { currentSite, type World } from '../model/world/World.js';

/**
 * An invariant is a monitor over a run (P-style): it observes events as they happen and each
 * operation's boundaries, with read access to the world, and reports violations by message id.
 * It never looks at revision code.
 */
export type MessageValues = Readonly<Record<string, string | number>>;

export interface Violation {
  readonly invariant: string;
  readonly messageId: string;
  readonly message: string;
  /** Index of the operation during which the violation was seen. */
  readonly opIndex: number;
  /**
   * When in the run it was seen: the number of events the run had emitted (the world's log), so
   * the event that broke the rule is the last counted; what an operation's end judges comes
   * after every event of that operation (+0.5). Every invariant watching a run counts the same
   * events, so violations of different invariants compare: KnownBug.onlyAfter asks whether one
   * came before another within the same ioctl.
   */
  readonly seq: number;
  /**
   * The kernel function where it arose: the one executing when an event broke the rule, or,
   * for what is judged at an operation's end, the function that took what was not given back
   * (as the invariant knows it), else the operation itself. With the invariant and message id,
   * the violation's signature (signature.ts).
   */
  readonly site: string;
  /**
   * The documented condition it is about, where one message id covers many (the functional
   * oracle's row: `S2.2`), so that a second bug answering another condition wrongly at the same
   * function is a signature of its own and not hidden behind the first.
   */
  readonly detail?: string;
}

/** Whether a violation was judged at its operation's end (Violation.seq's +0.5), not at an event. */
export function judgedAtOpEnd(v: Pick<Violation, 'seq'>): boolean {
  return !Number.isInteger(v.seq);
}

export interface MonitorHooks<M extends string> {
  opBegin?(index: number, op: Op, w: World, backend: BackendModel): void;
  event?(e: Event, w: World, backend: BackendModel, report: Reporter<M>): void;
  opEnd?(result: OpResult, w: World, backend: BackendModel, report: Reporter<M>): void;
}

/** Reports a violation; `site` overrides where it arose (see Violation.site); `detail`, see Violation.detail. */
export type Reporter<M extends string> = (messageId: M, values: MessageValues, site?: string, detail?: string) => void;

/**
 * What a monitor may know of its run besides the world: the revision under check, by the
 * identity a report uses (the functional oracle reads which uAPI generation it implements).
 * Monitors judge the world, never the revision's code. Absent when a monitor is fed by hand.
 */
export interface RunContext {
  readonly revision?: Pick<Revision, 'id'> & Partial<Pick<Revision, 'derivedFrom' | 'arm'>>;
}

export interface Invariant<M extends string = string> {
  /** kebab-case id, the file's name. */
  readonly id: string;
  /** "Require ..." or "Forbid ...": what the invariant checks. */
  readonly description: string;
  readonly cites: readonly string[];
  /** Event kinds the monitor reads. */
  readonly observes: readonly EventKind[];
  readonly messages: Readonly<Record<M, string>>;
  /** A fresh monitor for one run. */
  create(ctx: RunContext): MonitorHooks<M>;
  /**
   * `operation`: the monitor keeps state for the operation under way (what it began with, what
   * it read); in a concurrent run each thread gets a monitor of its own. Absent: one monitor
   * watches the whole run, every thread.
   */
  readonly scope?: 'operation';
}

export function defineInvariant<M extends string>(inv: Invariant<M>): Invariant<M> {
  if (!/^(Require|Forbid) .+[^. ]$/.test(inv.description)) throw new Error(`${inv.id}: description must start with Require/Forbid`);
  return inv;
}

/** Fills `{name}` placeholders; numbers ≥ 256 print in hex, as kernel logs do. */
export function formatMessage(template: string, values: MessageValues): string {
  return template.replace(/\{(\w+)\}/g, (_m, name: string) => {
    const v = values[name];
    if (v === undefined) return `{${name}}`;
    return typeof v === 'number' && Number.isInteger(v) && Math.abs(v) >= 256 ? `${v < 0 ? '-' : ''}0x${Math.abs(v).toString(16)}` : String(v);
  });
}

/** One invariant watching one run: its observer and what it found. */
export interface InvariantRun {
  readonly observer: RunObserver;
  readonly violations: Violation[];
}

/**
 * Runs an invariant's monitor over a run. With one thread, every operation's begin and end reach
 * the monitor as they happen. In a concurrent run (model/scenario/runThreads.ts) an event is
 * judged in the operation of the thread that emitted it, and:
 * - a monitor of the whole run (no `scope`) sees the busy stretch from the moment some thread
 *   enters an operation until none is inside one as one operation: its begin when the first
 *   starts, each end once the last has ended, so what it reads of the world at an end (a page's
 *   references, its mappings) never counts another thread's work in flight;
 * - an `operation`-scoped monitor is one per thread and sees that thread's operations.
 */
export function watch(inv: Invariant, ctx: RunContext = {}): InvariantRun {
  const shared = inv.create(ctx);
  const perThread = new Map<number, MonitorHooks<string>>();
  const hooksOf = (thread: number): MonitorHooks<string> => {
    if (inv.scope !== 'operation' || thread === 0) return shared;
    let h = perThread.get(thread);
    if (h === undefined) {
      h = inv.create(ctx);
      perThread.set(thread, h);
    }
    return h;
  };
  const violations: Violation[] = [];
  const observes = new Set<string>(inv.observes);
  // The operation each thread is in.
  const opOf = new Map<number, { readonly index: number; readonly site: string }>();
  // Operations ended while another thread was inside one: judged when none is.
  const pending: { result: OpResult; b: BackendModel; thread: number }[] = [];
  let backend: BackendModel | undefined;
  // Set while an event is being judged: the kernel function executing is where it arose.
  let during: World | undefined;
  // Set while an operation's end is being judged, with that operation.
  let ending: { readonly w: World; readonly index: number; readonly site: string } | undefined;
  const report: Reporter<string> = (messageId, values, site, detail) => {
    const template = inv.messages[messageId] ?? messageId;
    const executing = during === undefined ? 'userspace' : currentSite(during);
    const op = ending ?? (during === undefined ? undefined : opOf.get(during.thread)) ?? { index: -1, site: 'userspace' };
    const seq = during !== undefined ? during.log.length : ending !== undefined ? ending.w.log.length + 0.5 : 0;
    violations.push({ invariant: inv.id, messageId, message: formatMessage(template, values), opIndex: op.index, seq, site: site ?? (executing === 'userspace' ? op.site : executing), ...(detail === undefined ? {} : { detail }) });
  };
  const observer: RunObserver = {
    opBegin(index, op, w, b) {
      const opens = opOf.size === 0;
      opOf.set(w.thread, { index, site: op.kind });
      backend = b;
      if (inv.scope === 'operation' || opens) hooksOf(w.thread).opBegin?.(index, op, w, b);
    },
    event(e, w) {
      if (backend === undefined || !observes.has(e.kind)) return;
      during = w;
      try {
        hooksOf(w.thread).event?.(e, w, backend, report);
      } finally {
        during = undefined;
      }
    },
    opEnd(result, w, b) {
      opOf.delete(w.thread);
      pending.push({ result, b, thread: w.thread });
      if (inv.scope !== 'operation' && opOf.size > 0) return;
      for (const p of pending.splice(0)) {
        ending = { w, index: p.result.index, site: p.result.op.kind };
        try {
          hooksOf(p.thread).opEnd?.(p.result, w, p.b, report);
        } finally {
          ending = undefined;
        }
      }
    },
  };
  return { observer, violations };
}
