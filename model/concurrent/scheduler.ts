import type { World } from '../world/World.js';
import type { LockMode } from '../world/locks.js';
import type { SwitchAt } from '../world/switchPoint.js';
import { folioLockHolder } from '../world/gmem.js';

/**
 * A deterministic scheduler over the concurrent build's threads (build.ts): each thread is a
 * generator that yields at every switch point (model/world/switchPoint.ts); the scheduler picks
 * which enabled thread runs to its next switch point. Nothing here runs in the sequential model.
 *
 * Locks block. A thread that yields `lock` (or `fault`, GUP's or a user access's mmap_lock for
 * read) waits until the lock can be granted to it, reading who holds what from the world's lock
 * state (w.locks, the same the lock-order invariant reads):
 * - an exclusive acquisition (mutex, down_write(), write_lock()) needs no holder at all, the
 *   thread itself included: a recursive acquisition never completes (a self-deadlock);
 * - a shared one (down_read(), read_lock()) needs no exclusive holder and no exclusive waiter
 *   queued before it. That is the rwsem once a waiting writer has set RWSEM_FLAG_HANDOFF
 *   (kernel/locking/rwsem.c: a new reader then queues behind it instead of stealing the lock), and
 *   the queued rwlock's fairness for readers in process context (kernel/locking/qrwlock.c). The
 *   window before the hand-off, in which a reader may still steal, is not modelled; so a reader
 *   that re-takes a lock it already holds while a writer waits deadlocks, as it can in the kernel.
 * When every live thread waits, the run is a deadlock and the wait-for cycle is reported; the
 * scheduler never spins and never depends on a timeout.
 */

/** A thread's part of the world that the CPU it runs on would hold: swapped at every switch. */
interface ThreadContext {
  stack: string[];
  faults: World['faults'];
  work: World['work'];
  crashStack: World['crashStack'];
}

export interface ThreadSpec {
  /** 1, 2, ...: the world's thread id (0 is the set-up before the threads start). */
  readonly id: number;
  readonly name: string;
  /** The thread's code; a generator function in the concurrent build. */
  readonly body: () => unknown;
}

/** What a thread was doing when it stopped: where it is about to be when it runs next. */
export type Pending = SwitchAt | { readonly kind: 'start' } | { readonly kind: 'exit' };

/** One scheduling step: `thread` ran from where it was (`from`) to its next switch point (`to`). */
export interface Step {
  readonly thread: number;
  readonly from: Pending;
  readonly to: Pending;
  /** The world's log indexes this step emitted: [first, end). */
  readonly events: readonly [number, number];
}

/** A lock and one thread's relation to it, with the kernel function that took or wants it. */
export interface LockUse {
  readonly lock: string;
  readonly mode: LockMode;
  readonly site: string;
}

/** One thread of a wait-for cycle: what it wants, who stands in its way, and what it holds. */
export interface WaitLink {
  readonly thread: number;
  readonly wants: LockUse;
  /** The thread it waits for: a holder of the lock, or a writer queued before it. */
  readonly waitsFor: number;
  /** Why: `holds` (the other thread holds the lock) or `queued` (a writer waits ahead of this reader). */
  readonly because: 'holds' | 'queued';
  readonly holds: readonly LockUse[];
}

export type ScheduleEnd =
  | { readonly kind: 'done' }
  | { readonly kind: 'deadlock'; readonly cycle: readonly WaitLink[] }
  /**
   * Every live thread waits, but not in a cycle: the chain of waits ends at a lock a thread that
   * has ended (or the set-up, thread 0) still holds: a lock leaked by an earlier operation.
   */
  | { readonly kind: 'stuck'; readonly chain: readonly WaitLink[]; readonly lock: string; readonly holder: number }
  /** A thread's code threw (an oops in the kernel): the run ends there. */
  | { readonly kind: 'crash'; readonly thread: number; readonly error: unknown }
  /** More steps than any schedule of the scenario needs: a thread that never stops (a livelock). */
  | { readonly kind: 'step-limit'; readonly steps: number };

export interface ScheduleRun {
  readonly steps: readonly Step[];
  readonly end: ScheduleEnd;
  /** The thread chosen at each step (a replayable schedule). */
  readonly choices: readonly number[];
  /** Threads that could have run at each step, and the one that ran before it. */
  readonly enabled: readonly (readonly number[])[];
  /** Switches away from a thread that could have gone on (CHESS's preemptions). */
  readonly preemptions: number;
}

/**
 * Picks the next thread among the enabled ones (never empty, ascending ids); `next(id)` says
 * where a thread stands (the switch point it will go on from).
 */
export type Chooser = (step: number, enabled: readonly number[], current: number | undefined, next: (thread: number) => Pending) => number;

/** Runs the current thread on while it can, else the lowest enabled one: no preemption. */
export const nonPreemptive: Chooser = (_step, enabled, current) => (current !== undefined && enabled.includes(current) ? current : enabled[0] ?? 0);

/** Follows `schedule` (a thread id per step) where that thread is enabled, else `fallback`. */
export function replay(schedule: readonly number[], fallback: Chooser = nonPreemptive): Chooser {
  return (step, enabled, current, next) => {
    const want = schedule[step];
    return want !== undefined && enabled.includes(want) ? want : fallback(step, enabled, current, next);
  };
}

const STEP_LIMIT = 10_000;

interface Live {
  readonly spec: ThreadSpec;
  gen: Iterator<unknown, unknown, unknown> | undefined;
  pending: Pending;
  ctx: ThreadContext;
  /** Position in the lock's wait queue when it waits (ordering of waiters). */
  queuedAt: number;
}

function isGenerator(r: unknown): r is Iterator<unknown, unknown, unknown> {
  return typeof r === 'object' && r !== null && typeof (r as { next?: unknown }).next === 'function' && typeof (r as { throw?: unknown }).throw === 'function';
}

function waitsOn(p: Pending): { lock: string; mode: LockMode; site: string } | undefined {
  if (p.kind === 'lock') return { lock: p.lock, mode: p.mode, site: p.site };
  if (p.kind === 'fault') return { lock: p.lock, mode: 'shared', site: p.site };
  return undefined;
}

function holdersOf(w: World, lock: string): { thread: number; mode: LockMode; site: string }[] {
  const out: { thread: number; mode: LockMode; site: string }[] = [];
  for (const [thread, held] of w.locks.held) for (const h of held) if (h.lock === lock) out.push({ thread, mode: h.mode, site: h.site });
  // A folio lock is PG_locked, not a lockdep lock: its holder is on the folio.
  if (lock.startsWith('folio@')) {
    const thread = folioLockHolder(w.gmem, lock);
    if (thread !== undefined) out.push({ thread, mode: 'exclusive', site: 'folio_lock' });
  }
  return out;
}

/** Who `t` waits for to take `want`: empty when it can be granted now. */
function blockers(w: World, threads: readonly Live[], t: Live, want: { lock: string; mode: LockMode }): { thread: number; because: 'holds' | 'queued' }[] {
  const holders = holdersOf(w, want.lock);
  if (want.mode === 'exclusive') return holders.map((h) => ({ thread: h.thread, because: 'holds' as const }));
  const out: { thread: number; because: 'holds' | 'queued' }[] = holders.filter((h) => h.mode === 'exclusive').map((h) => ({ thread: h.thread, because: 'holds' as const }));
  // A writer that asked first and is really waiting (the lock is held) is queued ahead: a writer
  // that merely stopped before a free lock has not tried it yet, and a reader may take it first.
  if (holders.length === 0) return out;
  for (const o of threads) {
    const ow = waitsOn(o.pending);
    if (o !== t && ow?.lock === want.lock && ow.mode === 'exclusive' && o.queuedAt < t.queuedAt) out.push({ thread: o.spec.id, because: 'queued' });
  }
  return out;
}

function saveContext(w: World, t: Live): void {
  t.ctx = { stack: [...w.stack], faults: w.faults, work: w.work, crashStack: w.crashStack };
}

function loadContext(w: World, t: Live): void {
  w.thread = t.spec.id;
  w.stack.length = 0;
  w.stack.push(...t.ctx.stack);
  w.faults = t.ctx.faults;
  w.work = t.ctx.work;
  w.crashStack = t.ctx.crashStack;
}

/** Runs `threads` on `w` to the end, a deadlock or a crash, choosing with `choose`. */
export function runSchedule(w: World, threads: readonly ThreadSpec[], choose: Chooser): ScheduleRun {
  const live: Live[] = threads.map((spec) => ({ spec, gen: undefined, pending: { kind: 'start' }, ctx: { stack: [], faults: w.faults, work: w.work, crashStack: undefined }, queuedAt: 0 }));
  const steps: Step[] = [];
  const choices: number[] = [];
  const enabledLog: number[][] = [];
  let queueClock = 0;
  let current: Live | undefined;
  let preemptions = 0;
  const saved = { thread: w.thread, stack: [...w.stack], faults: w.faults, work: w.work, crashStack: w.crashStack };
  const finish = (end: ScheduleEnd): ScheduleRun => {
    w.thread = saved.thread;
    w.stack.length = 0;
    w.stack.push(...saved.stack);
    w.faults = saved.faults;
    w.work = saved.work;
    w.crashStack = saved.crashStack;
    return { steps, end, choices, enabled: enabledLog, preemptions };
  };
  for (let step = 0; ; step++) {
    if (step >= STEP_LIMIT) return finish({ kind: 'step-limit', steps: step });
    const alive = live.filter((t) => t.pending.kind !== 'exit');
    if (alive.length === 0) return finish({ kind: 'done' });
    const enabled = alive.filter((t) => {
      const want = waitsOn(t.pending);
      return want === undefined || blockers(w, live, t, want).length === 0;
    });
    if (enabled.length === 0) return finish(waitCycle(w, live));
    const ids = enabled.map((t) => t.spec.id);
    const pick = choose(step, ids, current?.spec.id, (id) => live.find((t) => t.spec.id === id)?.pending ?? { kind: 'exit' });
    const next = enabled.find((t) => t.spec.id === pick) ?? enabled[0];
    if (next === undefined) return finish({ kind: 'done' });
    if (current !== undefined && current !== next && enabled.includes(current)) preemptions++;
    choices.push(next.spec.id);
    enabledLog.push(ids);
    if (current !== next) {
      if (current !== undefined) saveContext(w, current);
      loadContext(w, next);
      current = next;
    }
    const from = next.pending;
    const first = w.log.length;
    let r: IteratorResult<unknown, unknown>;
    try {
      if (next.gen === undefined) {
        const g = next.spec.body();
        if (!isGenerator(g)) throw new Error('threads run only in the concurrent build (model/concurrent/build.ts): the thread body is not a generator');
        next.gen = g;
      }
      r = next.gen.next();
    } catch (error) {
      steps.push({ thread: next.spec.id, from, to: { kind: 'exit' }, events: [first, w.log.length] });
      next.pending = { kind: 'exit' };
      return finish({ kind: 'crash', thread: next.spec.id, error });
    }
    const to: Pending = r.done === true ? { kind: 'exit' } : (r.value as SwitchAt);
    next.pending = to;
    if (waitsOn(to) !== undefined) next.queuedAt = ++queueClock;
    steps.push({ thread: next.spec.id, from, to, events: [first, w.log.length] });
  }
}

/**
 * Where the waits of the blocked threads lead (every live thread is blocked): around a cycle (a
 * deadlock), or to a lock no live thread will release.
 */
function waitCycle(w: World, live: readonly Live[]): Extract<ScheduleEnd, { kind: 'deadlock' | 'stuck' }> {
  const byId = new Map(live.map((t) => [t.spec.id, t]));
  const linksOf = (t: Live): WaitLink[] => {
    const want = waitsOn(t.pending);
    if (want === undefined) return [];
    const holds = (w.locks.held.get(t.spec.id) ?? []).map((h) => ({ lock: h.lock, mode: h.mode, site: h.site }));
    return blockers(w, live, t, want).map((b) => ({ thread: t.spec.id, wants: want, waitsFor: b.thread, because: b.because, holds }));
  };
  // Blocked: alive and not ended (every live thread is blocked here).
  const waiting = (id: number): boolean => {
    const t = byId.get(id);
    return t !== undefined && t.pending.kind !== 'exit';
  };
  let stuck: Extract<ScheduleEnd, { kind: 'stuck' }> | undefined;
  for (const start of live.filter((t) => waiting(t.spec.id))) {
    const path: WaitLink[] = [];
    const seenAt = new Map<number, number>();
    for (let t: Live | undefined = start; t !== undefined;) {
      const at = seenAt.get(t.spec.id);
      if (at !== undefined) return { kind: 'deadlock', cycle: path.slice(at) };
      const links = linksOf(t);
      const link: WaitLink | undefined = links.find((l) => waiting(l.waitsFor)) ?? links[0];
      if (link === undefined) break;
      seenAt.set(t.spec.id, path.length);
      path.push(link);
      if (!waiting(link.waitsFor)) {
        stuck ??= { kind: 'stuck', chain: path, lock: link.wants.lock, holder: link.waitsFor };
        break;
      }
      t = byId.get(link.waitsFor);
    }
  }
  return stuck ?? { kind: 'stuck', chain: [], lock: '', holder: -1 };
}
