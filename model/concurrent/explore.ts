import { replay, type Chooser, type Pending, type ScheduleRun } from './scheduler.js';

/**
 * The two ways of exploring interleavings over the one scheduler (scheduler.ts): bounded
 * exhaustive search with preemption bounding, as CHESS does it (Musuvathi & Qadeer, "Iterative
 * context bounding for systematic testing of multithreaded programs", PLDI 2007: every schedule
 * with at most `bound` preemptions, a thread otherwise running until it blocks or ends), and
 * PCT's randomized priorities (Burckhardt et al., "A randomized scheduler with probabilistic
 * guarantees of finding bugs", ASPLOS 2010: a bug of depth d in a run of k steps with n threads is
 * found with probability at least 1 / (n k^(d-1)) per run). A run is re-executed from the start
 * for each schedule; the model is deterministic, so a schedule is all that tells runs apart.
 */

/** How many preemptions a list of choices made (a switch away from a thread that could go on). */
export function preemptionsOf(choices: readonly number[], enabled: readonly (readonly number[])[], upTo = choices.length): number {
  let n = 0;
  for (let i = 1; i < upTo; i++) {
    const prev = choices[i - 1];
    if (prev !== undefined && choices[i] !== prev && (enabled[i] ?? []).includes(prev)) n++;
  }
  return n;
}

export interface Exhaustive<T> {
  /** Schedules run. */
  readonly schedules: number;
  /** Whether every schedule within the bound was run (false: stopped at `limit` or at a find). */
  readonly complete: boolean;
  /** The first run `stop` accepted, with the choices that give it. */
  readonly found?: { readonly choices: readonly number[]; readonly value: T } | undefined;
}

/**
 * Every schedule with at most `bound` preemptions, depth first, until `stop` accepts a run or
 * `limit` schedules have run. `run` executes the scenario with the given chooser.
 */
export function exploreBounded<T>(
  run: (choose: Chooser) => { readonly schedule: ScheduleRun; readonly value: T },
  bound: number,
  stop: (value: T, schedule: ScheduleRun) => boolean,
  limit = 100_000,
): Exhaustive<T> {
  const todo: number[][] = [[]];
  let schedules = 0;
  while (todo.length > 0) {
    if (schedules >= limit) return { schedules, complete: false };
    const prefix = todo.pop() ?? [];
    const r = run(replay(prefix));
    schedules++;
    if (stop(r.value, r.schedule)) return { schedules, complete: false, found: { choices: r.schedule.choices, value: r.value } };
    const { choices, enabled } = r.schedule;
    const branches: number[][] = [];
    for (let i = prefix.length; i < choices.length; i++) {
      const before = preemptionsOf(choices, enabled, i);
      const prev = choices[i - 1];
      for (const alt of enabled[i] ?? []) {
        if (alt === choices[i]) continue;
        const preempts = prev !== undefined && alt !== prev && (enabled[i] ?? []).includes(prev) ? 1 : 0;
        if (before + preempts <= bound) branches.push([...choices.slice(0, i), alt]);
      }
    }
    // Depth first, earliest branch point explored first.
    for (let b = branches.length - 1; b >= 0; b--) todo.push(branches[b] ?? []);
  }
  return { schedules, complete: true };
}

/** A small deterministic PRNG (mulberry32), so a PCT run is reproduced by its seed. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface PctParams {
  /** Bug depth d: d - 1 priority change points. */
  readonly depth: number;
  /**
   * k: how many places the change points fall among. They fall only where the running thread
   * is about to take a lock or fault a user page in, or has just dropped a lock (a `lock`,
   * `fault` or `unlock` switch point): the places where an ordering between threads is decided,
   * before a critical section and after one (a check made under a lock and acted on after it is
   * the TOCTOU's window, B20); k is their number in a run of the scenario without preemption
   * (syncPoints()). Allocations, firmware calls and cond_resched() are left out to keep k small:
   * an ordering decided there (two faults adding a folio at one index, filemap.ts's -EEXIST
   * retry) is left to the threads' priorities and to the bounded-exhaustive mode.
   */
  readonly steps: number;
  readonly seed: number;
  /**
   * The locks the change points fall at (contendedLocks()): those more than one thread takes. A
   * sync point on a lock no other thread takes orders nothing, and counting it would only dilute
   * k. Absent: every lock.
   */
  readonly locks?: ReadonlySet<string> | undefined;
}

/** The lock of a sync point: a thread about to take it (or mmap_lock, faulting), or that has just dropped it. */
function syncLock(p: Pending): string | undefined {
  return p.kind === 'lock' || p.kind === 'fault' || p.kind === 'unlock' ? p.lock : undefined;
}

function atSyncPoint(p: Pending, locks: ReadonlySet<string> | undefined): boolean {
  const lock = syncLock(p);
  return lock !== undefined && (locks === undefined || locks.has(lock));
}

/** The locks more than one thread takes in a run (the set-up, thread 0, counts as none). */
export function contendedLocks(run: ScheduleRun): Set<string> {
  const by = new Map<string, Set<number>>();
  for (const s of run.steps) {
    const lock = syncLock(s.to);
    if (lock === undefined || s.thread === 0) continue;
    const threads = by.get(lock) ?? new Set<number>();
    threads.add(s.thread);
    by.set(lock, threads);
  }
  return new Set([...by].filter(([, t]) => t.size > 1).map(([lock]) => lock));
}

/** PCT's k for a scenario: the sync points on contended locks of its run without preemption. */
export function syncPoints(run: ScheduleRun, locks: ReadonlySet<string> = contendedLocks(run)): number {
  return run.steps.filter((s) => atSyncPoint(s.to, locks)).length;
}

/**
 * PCT: each thread gets a distinct random priority above d; the highest-priority enabled thread
 * runs; at the i-th change point the running thread drops to priority d - i. Threads are known
 * by id as they first show up as enabled.
 */
export function pct(p: PctParams): Chooser {
  const rand = mulberry32(p.seed);
  const prio = new Map<number, number>();
  const change = new Map<number, number>();
  // d - 1 distinct change points among the k sync points (fewer when k is smaller).
  const points = Array.from({ length: Math.max(1, p.steps) }, (_, i) => i);
  for (let i = 1; i < p.depth && points.length > 0; i++) {
    const [at] = points.splice(Math.floor(rand() * points.length), 1);
    if (at !== undefined) change.set(at, p.depth - i);
  }
  let passed = 0;
  return (_step, enabled, current, next) => {
    for (const t of enabled) if (!prio.has(t)) prio.set(t, p.depth + 1 + rand());
    if (current !== undefined && atSyncPoint(next(current), p.locks)) {
      const drop = change.get(passed++);
      if (drop !== undefined) prio.set(current, drop);
    }
    let best = enabled[0] ?? 0;
    for (const t of enabled) if ((prio.get(t) ?? 0) > (prio.get(best) ?? 0)) best = t;
    return best;
  };
}

/**
 * Shrinks a failing schedule: the fewest forced choices and the fewest preemptions that still
 * fail. Tries dropping the tail, then each choice (the default then decides that step).
 */
export function shrinkSchedule(choices: readonly number[], fails: (schedule: readonly number[]) => ScheduleRun | undefined): readonly number[] {
  let best = [...choices];
  // Cut the tail: past the last forced switch the default policy decides.
  for (let len = 0; len < best.length; len++) {
    const cut = best.slice(0, len);
    if (fails(cut) !== undefined) {
      best = cut;
      break;
    }
  }
  for (let improved = true; improved;) {
    improved = false;
    for (let i = best.length - 1; i >= 0; i--) {
      const without = [...best.slice(0, i), ...best.slice(i + 1)];
      const r = fails(without);
      if (r !== undefined) {
        best = without;
        improved = true;
      }
    }
  }
  return best;
}
