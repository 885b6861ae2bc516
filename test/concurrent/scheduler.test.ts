import { describe, expect, test } from 'vitest';
import { exploreBounded, pct, preemptionsOf, shrinkSchedule } from '../../model/concurrent/explore.js';
import { nonPreemptive, replay, runSchedule, type Chooser, type ScheduleRun, type ThreadSpec } from '../../model/concurrent/scheduler.js';
import { heldBy, type LockMode } from '../../model/world/locks.js';
import type { SwitchAt } from '../../model/world/switchPoint.js';
import type { World } from '../../model/world/World.js';
import { smallWorld } from '../model/fixtures.js';

/**
 * The scheduler on its own, with threads written by hand as generators (what the concurrent
 * build makes of kernel code): blocking, deadlock and its cycle, rwsem fairness, the two
 * exploration modes and their counts.
 */
type Body = Generator<SwitchAt, void, unknown>;

function* lock(w: World, name: string, mode: LockMode = 'exclusive'): Body {
  yield { kind: 'lock', lock: name, mode, site: `f${w.thread}` };
  heldBy(w.locks, w.thread).push({ lock: name, mode, site: `f${w.thread}`, subclass: 0 });
}

function* unlock(w: World, name: string): Body {
  const held = heldBy(w.locks, w.thread);
  held.splice(held.findIndex((h) => h.lock === name), 1);
  yield { kind: 'unlock', lock: name, site: `f${w.thread}` };
}

/** A thread taking `locks` in order (each `[name, mode]`), then dropping them in reverse. */
function nested(w: World, locks: readonly (readonly [string, LockMode])[]): () => Body {
  return function* body(): Body {
    for (const [name, mode] of locks) yield* lock(w, name, mode);
    for (const [name] of [...locks].reverse()) yield* unlock(w, name);
  };
}

function threads(w: World, ...bodies: (readonly (readonly [string, LockMode])[])[]): ThreadSpec[] {
  return bodies.map((locks, i) => ({ id: i + 1, name: `T${i + 1}`, body: nested(w, locks) }));
}

const X = 'exclusive';
const R = 'shared';

function run(make: (w: World) => ThreadSpec[], choose: Chooser): ScheduleRun {
  const { w } = smallWorld();
  return runSchedule(w, make(w), choose);
}

describe('blocking and deadlock', () => {
  const abba = (w: World) => threads(w, [['A', X], ['B', X]], [['B', X], ['A', X]]);

  test('AB-BA: without preemption both orders finish; one preemption finds the deadlock and its two-lock cycle', () => {
    expect(run(abba, nonPreemptive).end).toEqual({ kind: 'done' });
    const found = exploreBounded((choose) => ({ schedule: run(abba, choose), value: 0 }), 1, (_v, s) => s.end.kind === 'deadlock');
    expect(found.found).toBeDefined();
    const end = run(abba, replay(found.found?.choices ?? [])).end;
    expect(end.kind).toBe('deadlock');
    if (end.kind !== 'deadlock') return;
    expect(end.cycle.map((l) => [l.thread, l.wants.lock, l.waitsFor, l.holds.map((h) => h.lock)])).toEqual([
      [1, 'B', 2, ['A']],
      [2, 'A', 1, ['B']],
    ]);
  });

  test('schedules explored exhaustively grow with the preemption bound, and every one is distinct', () => {
    const counts = [0, 1, 2, 3].map((bound) => {
      const seen = new Set<string>();
      const r = exploreBounded((choose) => {
        const s = run(abba, choose);
        seen.add(s.choices.join(''));
        return { schedule: s, value: 0 };
      }, bound, () => false);
      expect(r.complete).toBe(true);
      expect(seen.size).toBe(r.schedules);
      return r.schedules;
    });
    expect(counts).toEqual([2, 10, 32, 56]);
  });

  test('a recursive acquisition is a deadlock of one thread', () => {
    const end = run((w) => threads(w, [['A', X], ['A', X]]), nonPreemptive).end;
    expect(end).toMatchObject({ kind: 'deadlock', cycle: [{ thread: 1, wants: { lock: 'A' }, waitsFor: 1, because: 'holds' }] });
  });

  test('readers share a rwsem; a reader queues behind a waiting writer, so re-reading under it deadlocks', () => {
    expect(exploreBounded((choose) => ({ schedule: run((w) => threads(w, [['A', R], ['B', X]], [['A', R]]), choose), value: 0 }), 3, (_v, s) => s.end.kind !== 'done').found).toBeUndefined();
    // T1 reads A; T2 asks to write A and waits; T1 reads A again: it queues behind T2.
    const reRead = (w: World) => threads(w, [['A', R], ['A', R]], [['A', X]]);
    const found = exploreBounded((choose) => ({ schedule: run(reRead, choose), value: 0 }), 2, (_v, s) => s.end.kind === 'deadlock');
    const end = run(reRead, replay(found.found?.choices ?? [])).end;
    expect(end).toMatchObject({ kind: 'deadlock', cycle: [{ thread: 1, waitsFor: 2, because: 'queued' }, { thread: 2, waitsFor: 1, because: 'holds' }] });
  });
});

describe('what a wait ends at', () => {
  test('a writer stopped before a free lock has not asked yet: a reader may take it first', () => {
    // T1 stops before write-locking A (free); T2 then read-locks A: it must be able to run.
    const r = run((w) => threads(w, [['A', X]], [['A', R]]), replay([1, 2]));
    expect(r.end).toEqual({ kind: 'done' });
    expect(r.choices.slice(0, 3)).toEqual([1, 2, 2]);
  });

  test('a lock an ended thread left held: the waiters are stuck, not deadlocked, and the chain says who holds it', () => {
    const { w } = smallWorld();
    const leaker: ThreadSpec = { id: 1, name: 'leaker', body: function* (): Body { yield* lock(w, 'A'); } };
    const waiter: ThreadSpec = { id: 2, name: 'waiter', body: nested(w, [['A', X]]) };
    const r = runSchedule(w, [leaker, waiter], nonPreemptive);
    expect(r.end).toMatchObject({ kind: 'stuck', lock: 'A', holder: 1, chain: [{ thread: 2, waitsFor: 1, because: 'holds' }] });
  });
});

describe('exploration', () => {
  const abba = (w: World) => threads(w, [['A', X], ['B', X]], [['B', X], ['A', X]]);

  test('PCT is deterministic by seed and finds the depth-2 AB-BA within its bound', () => {
    const choicesOf = (seed: number) => run(abba, pct({ depth: 2, steps: 8, seed })).choices.join('');
    expect(choicesOf(5)).toBe(choicesOf(5));
    const hits = Array.from({ length: 200 }, (_, seed) => run(abba, pct({ depth: 2, steps: 8, seed })).end.kind === 'deadlock').filter(Boolean).length;
    // PCT's guarantee for n = 2 threads, k = 8 steps, d = 2: at least 1/(n k) = 1/16 of runs.
    expect(hits).toBeGreaterThanOrEqual(200 / 16);
  });

  test('a failing schedule shrinks to fewer forced choices that still fail', () => {
    const fails = (s: readonly number[]) => {
      const r = run(abba, replay(s));
      return r.end.kind === 'deadlock' ? r : undefined;
    };
    const long = [1, 2, 1, 2, 1, 2, 2, 1];
    expect(fails(long)).toBeDefined();
    const short = shrinkSchedule(long, fails);
    expect(fails(short)).toBeDefined();
    expect(short.length).toBeLessThan(long.length);
    expect(short).toEqual([1, 1, 2]);
    const r = run(abba, replay(short));
    expect(preemptionsOf(r.choices, r.enabled)).toBe(1);
  });
});

describe('what the scheduler refuses and stops', () => {
  test('a thread body that is not a generator: the sequential model cannot run threads', () => {
    const { w } = smallWorld();
    const end = runSchedule(w, [{ id: 1, name: 'plain', body: () => 0 }], nonPreemptive).end;
    expect(end.kind).toBe('crash');
    expect(end.kind === 'crash' && String(end.error)).toMatch(/threads run only in the concurrent build/);
  });

  test('a thread that never stops ends the run at the step limit, not a hang', () => {
    const { w } = smallWorld();
    const spin: ThreadSpec = { id: 1, name: 'spin', body: function* (): Body { for (;;) yield { kind: 'resched', site: 'spin' }; } };
    expect(runSchedule(w, [spin], nonPreemptive).end).toEqual({ kind: 'step-limit', steps: 10_000 });
  });

  test('each thread sees its own call stack and fault plan across switches', () => {
    const { w } = smallWorld();
    const seen: string[] = [];
    const body = (name: string) => function* (): Body {
      w.stack.push(name);
      yield { kind: 'resched', site: name };
      seen.push(`${w.thread}:${w.stack.join('/')}`);
      w.stack.pop();
    };
    runSchedule(w, [{ id: 1, name: 'a', body: body('a') }, { id: 2, name: 'b', body: body('b') }], replay([1, 2, 1, 2]));
    expect(seen).toEqual(['1:a', '2:b']);
    expect(w.stack).toEqual([]);
  });
});
