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

export function watch(inv: Invariant, ctx: RunContext = {}): InvariantRun {
  const hooks = inv.create(ctx);
  const violations: Violation[] = [];
  const observes = new Set<string>(inv.observes);
  let opIndex = -1;
  let opSite = 'userspace';
  let backend: BackendModel | undefined;
  // Set while an event is being judged: the kernel function executing is where it arose.
  let during: World | undefined;
  // Set while an operation's end is being judged.
  let ending: World | undefined;
  const report: Reporter<string> = (messageId, values, site, detail) => {
    const template = inv.messages[messageId] ?? messageId;
    const executing = during === undefined ? 'userspace' : currentSite(during);
    const seq = during !== undefined ? during.log.length : ending !== undefined ? ending.log.length + 0.5 : 0;
    violations.push({ invariant: inv.id, messageId, message: formatMessage(template, values), opIndex, seq, site: site ?? (executing === 'userspace' ? opSite : executing), ...(detail === undefined ? {} : { detail }) });
  };
  const observer: RunObserver = {
    opBegin(index, op, w, b) {
      opIndex = index;
      opSite = op.kind;
      backend = b;
      hooks.opBegin?.(index, op, w, b);
    },
    event(e, w) {
      if (backend === undefined || !observes.has(e.kind)) return;
      during = w;
      try {
        hooks.event?.(e, w, backend, report);
      } finally {
        during = undefined;
      }
    },
    opEnd(result, w, b) {
      ending = w;
      try {
        hooks.opEnd?.(result, w, b, report);
      } finally {
        ending = undefined;
      }
    },
  };
  return { observer, violations };
}
