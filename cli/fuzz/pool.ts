import { Tinypool } from 'tinypool';
import type { Scenario } from '../../model/scenario/Scenario.js';
import type { Event } from '../../model/world/events.js';
import { CheckRunner, runTimeoutMs, workerHeapMb } from '../runner.js';
import { createHeartbeat, HeartbeatReader } from './heartbeat.js';
import type { UnitDone, UnitTask } from './unitTask.js';

/**
 * The campaign's worker threads: a tinypool pool running one unit per worker, under the same
 * watchdog as `check` (cli/runner.ts). Each unit beats before every scenario (heartbeat.ts, a
 * shared buffer the pool polls); one that does not beat for the run timeout has hung in revision code that calls no kernel function,
 * and one whose worker dies has exhausted its heap. Either way its worker is ended (tinypool
 * replaces it), the scenario it was in is traced once more in a fresh worker, and the unit's
 * outcome names that scenario: a finding about the revision, never a crash of the campaign.
 */

export type UnitOutcome =
  | { readonly kind: 'done'; readonly done: UnitDone }
  | { readonly kind: 'hung'; readonly run: number; readonly scenario: Scenario; readonly events: readonly Event[]; readonly seconds: number }
  | { readonly kind: 'died'; readonly run: number; readonly scenario: Scenario; readonly events: readonly Event[]; readonly error: string }
  /** The unit could not run at all (a model bug, a module that no longer loads). */
  | { readonly kind: 'failed'; readonly error: string }
  /** Ended by abandonAll() (Ctrl-C): not done, so a resume runs it again. */
  | { readonly kind: 'abandoned' };

/** How long a fresh worker may take to start and run its first scenario (tsx, the model's modules). */
const STARTUP_MS = 60_000;
/** How often the pool looks at a unit's heartbeat, at most (a quarter of a short run timeout). */
const POLL_MS = 250;

function errorText(e: unknown): string {
  return e instanceof Error ? (e.stack ?? `${e.name}: ${e.message}`) : String(e);
}

function outOfMemory(e: unknown): boolean {
  return e instanceof Error && 'code' in e && e.code === 'ERR_WORKER_OUT_OF_MEMORY';
}

export class UnitPool {
  private readonly pool: Tinypool;
  private readonly abandoners = new Set<() => void>();
  /** Runners tracing a hung scenario now: one each, as two units can hang at once. */
  private readonly tracers = new Set<CheckRunner>();
  private abandoned = false;

  constructor(workers: number) {
    this.pool = new Tinypool({
      filename: new URL('./unitWorker.mjs', import.meta.url).href,
      minThreads: workers,
      maxThreads: workers,
      resourceLimits: { maxOldGenerationSizeMb: workerHeapMb() },
    });
  }

  /**
   * Runs one unit; never hangs, whatever the revision does. `onRuns` hears, every poll, how many
   * scenarios the unit's exploration has run.
   */
  async run(task: Omit<UnitTask, 'heartbeat'>, onRuns: (runs: number) => void): Promise<UnitOutcome> {
    if (this.abandoned) return { kind: 'abandoned' };
    const timeout = runTimeoutMs();
    const heartbeat = createHeartbeat();
    const beats = new HeartbeatReader(heartbeat);
    const ac = new AbortController();
    let why: 'hung' | 'abandoned' | undefined;
    let seq = 0;
    let since = Date.now();
    const abandon = (): void => {
      why ??= 'abandoned';
      ac.abort();
    };
    const poll = setInterval(() => {
      const now = beats.seq();
      if (now !== seq) {
        seq = now;
        since = Date.now();
        onRuns(beats.exploreRuns());
      } else if (Date.now() - since > (seq === 0 ? Math.max(timeout, STARTUP_MS) : timeout)) {
        why ??= 'hung';
        ac.abort();
      }
    }, Math.max(1, Math.min(POLL_MS, Math.floor(timeout / 4))));
    this.abandoners.add(abandon);
    try {
      // The worker's own task module made this value (unitTask.ts); structured cloning keeps its shape.
      const done = (await this.pool.run({ ...task, heartbeat }, { signal: ac.signal })) as UnitDone;
      return { kind: 'done', done };
    } catch (e) {
      if (why === 'abandoned') return { kind: 'abandoned' };
      const died = outOfMemory(e);
      if (why !== 'hung' && !died) return { kind: 'failed', error: errorText(e) };
      const seconds = (Date.now() - since) / 1000;
      // The unit has stopped writing: its last heartbeat is whole unless it died inside one.
      const last = beats.last();
      const run = beats.exploreRuns() - 1;
      if (last === undefined) return { kind: 'failed', error: died ? errorText(e) : `the worker made no progress for ${seconds.toFixed(1)} s before running a scenario` };
      const backend = task.unit.kind === 'explore' ? task.unit.cell.backend : task.unit.backend;
      const tracer = new CheckRunner();
      this.tracers.add(tracer);
      let events: Event[];
      try {
        events = await tracer.trace(task.revision, backend, last.scenario);
      } finally {
        this.tracers.delete(tracer);
        await tracer.close();
      }
      if (this.abandoned) return { kind: 'abandoned' };
      return died ? { kind: 'died', run, scenario: last.scenario, events, error: errorText(e).split('\n')[0] ?? '' } : { kind: 'hung', run, scenario: last.scenario, events, seconds };
    } finally {
      clearInterval(poll);
      this.abandoners.delete(abandon);
    }
  }

  /** Ends every unit running now (Ctrl-C); they, and every run() after, return `abandoned`. */
  abandonAll(): void {
    this.abandoned = true;
    for (const a of this.abandoners) a();
    for (const t of this.tracers) void t.abort();
  }

  async destroy(): Promise<void> {
    await this.pool.destroy();
  }
}
