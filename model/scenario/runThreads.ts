import { nonPreemptive, runSchedule, replay, type Chooser, type ScheduleRun, type ThreadSpec } from '../concurrent/scheduler.js';
import type { Revision } from '../revisions/Revision.js';
import type { Crash } from '../world/lockup.js';
import { runOp, startRun, type Run, type RunOptions, type RunResult } from './runScenario.js';
import type { Op, Scenario } from './Scenario.js';

/** A concurrent run: the sequential result shape, and how the threads were scheduled. */
export interface ThreadsResult extends RunResult {
  readonly schedule: ScheduleRun;
  /** Where each thread's operations start in the numbering (after the scenario's `ops`). */
  readonly firstOpOf: readonly number[];
}

export interface ThreadsOptions extends RunOptions {
  /** Overrides the scenario's `schedule` (random or exhaustive exploration). */
  readonly choose?: Chooser;
}

/** Thrown out of a thread whose kernel code crashed, to end the run at the scheduler. */
class ThreadCrashed extends Error {
  constructor(readonly opIndex: number, readonly crash: Crash) {
    super(`thread crashed in operation ${opIndex}`);
  }
}

/**
 * Runs a scenario's `ops` on one thread, then its `threads` concurrently under the scheduler
 * (model/concurrent/scheduler.ts), every observer watching every event as it happens. Runs only
 * in the concurrent build (model/concurrent/load.ts); in the sequential model it refuses.
 */
export function runThreads(scenario: Scenario, revision: Revision, options: ThreadsOptions = {}): ThreadsResult {
  const run = startRun(scenario, revision, options);
  // The set-up runs as thread 0, alone: the threads start once it is done.
  const setup = runSchedule(run.w, [{ id: 0, name: 'set-up', body: () => threadBody(run, 0, scenario.ops, false) }], nonPreemptive);
  if (setup.end.kind !== 'done') return ended(run, setup, []);
  const firstOpOf: number[] = [];
  let next = scenario.ops.length;
  const specs: ThreadSpec[] = (scenario.threads ?? []).map((ops, i) => {
    const first = next;
    firstOpOf.push(first);
    next += ops.length;
    return { id: i + 1, name: threadName(ops), body: () => threadBody(run, first, ops, true) };
  });
  return ended(run, runSchedule(run.w, specs, options.choose ?? replay(scenario.schedule ?? [])), firstOpOf);
}

function ended(run: Run, schedule: ScheduleRun, firstOpOf: readonly number[]): ThreadsResult {
  const end = schedule.end;
  if (end.kind !== 'crash') return { world: run.w, results: run.results, schedule, firstOpOf };
  if (end.error instanceof ThreadCrashed) return { world: run.w, results: run.results, crash: { opIndex: end.error.opIndex, crash: end.error.crash }, schedule, firstOpOf };
  throw end.error;
}

function threadBody(run: Run, first: number, ops: readonly Op[], shared: boolean): void {
  for (const [j, op] of ops.entries()) {
    const crash = runOp(run, first + j, op, shared);
    if (crash !== undefined) throw new ThreadCrashed(first + j, crash);
  }
}

/** `snp_launch_update`, `gmem_user_fault + munmap`: what a thread does, for timelines. */
export function threadName(ops: readonly Op[]): string {
  return ops.map((o) => o.kind).join(' + ');
}
