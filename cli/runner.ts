import { Worker } from 'node:worker_threads';
import type { Scenario } from '../model/scenario/Scenario.js';
import type { Event } from '../model/world/events.js';
import type { ExplorationReport } from '../reports/checkReport.js';
import type { Comparison } from '../properties/compare.js';
import type { CompareTask, ExploreTask, RevisionSource, WorkerMessage, WorkerTask } from './workerProtocol.js';

/**
 * Runs revision code in a worker thread under a watchdog (the CLI side of workerProtocol.ts).
 * The model's own budget turns a loop over kernel calls into a soft-lockup finding inside the
 * worker; a loop that calls nothing, or a revision that allocates until the heap is gone, only
 * the wall clock and the worker's heap limit can stop. Then the worker is ended, the scenario it
 * was running is traced once more in a fresh worker (streaming every event, so the trace up to
 * the hang survives the second ending), and the outcome names that scenario.
 */

/** A scenario that makes no progress for this long is a hang (a normal one takes milliseconds). */
export function runTimeoutMs(): number {
  const raw = process.env.GMEMCHECK_RUN_TIMEOUT_MS;
  return raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : 10_000;
}

/** A worker's heap; a revision that outgrows it is reported, not the CLI's crash. */
export function workerHeapMb(): number {
  const raw = process.env.GMEMCHECK_WORKER_HEAP_MB;
  return raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : 2048;
}

export type TaskOutcome =
  | { readonly kind: 'done'; readonly report: ExplorationReport }
  | { readonly kind: 'compared'; readonly comparison: Comparison }
  | { readonly kind: 'not-reproduced'; readonly reason: string }
  /** The worker stopped reporting progress while running `scenario`. */
  | { readonly kind: 'hung'; readonly phase: 'explore' | 'shrink'; readonly run: number; readonly scenario: Scenario; readonly events: readonly Event[]; readonly seconds: number }
  /** The worker died under the revision (out of memory) while running `scenario`. */
  | { readonly kind: 'died'; readonly phase: 'explore' | 'shrink'; readonly run: number; readonly scenario: Scenario; readonly events: readonly Event[]; readonly error: string }
  | { readonly kind: 'failed'; readonly error: string }
  /** abort() ended it (Ctrl-C). */
  | { readonly kind: 'aborted' };

type Listener = (m: WorkerMessage) => void;

/** How long a fresh worker may take to start and run its first scenario. */
const STARTUP_MS = 60_000;

export class CheckRunner {
  private worker: Worker | undefined;
  private readonly listeners = new Map<number, Listener>();
  private nextId = 1;
  private exitListener: ((error: string) => void) | undefined;
  private aborted = false;

  private heapMb = 0;

  /** The watchdog's limit, read when a check runs (GMEMCHECK_RUN_TIMEOUT_MS) unless fixed here. */
  constructor(private readonly fixedTimeoutMs?: number) {}

  private get timeoutMs(): number {
    return this.fixedTimeoutMs ?? runTimeoutMs();
  }

  private spawn(): Worker {
    // A worker's heap limit is fixed when it starts: a check asking for another gets a new one.
    if (this.worker !== undefined && this.heapMb !== workerHeapMb()) void this.end();
    if (this.worker !== undefined) return this.worker;
    this.heapMb = workerHeapMb();
    const w = new Worker(new URL('./workerBoot.mjs', import.meta.url), {
      workerData: { entry: new URL('./checkWorker.ts', import.meta.url).href },
      resourceLimits: { maxOldGenerationSizeMb: this.heapMb },
    });
    w.on('message', (m: WorkerMessage) => this.listeners.get(m.id)?.(m));
    // Only the current worker's end concerns the run waiting: one ended on purpose (another heap
    // limit, a hang) must not end the run of its successor.
    w.on('error', (e) => {
      if (this.worker === w) this.exitListener?.(e instanceof Error ? `${e.name}: ${e.message}` : String(e));
    });
    w.on('exit', (code) => {
      if (this.worker !== w) return;
      this.worker = undefined;
      this.exitListener?.(`worker exited with status ${code}`);
    });
    w.unref();
    this.worker = w;
    return w;
  }

  private async end(): Promise<void> {
    const w = this.worker;
    const waiting = this.exitListener;
    this.worker = undefined;
    if (w !== undefined) await w.terminate();
    // A run waiting on the worker ended here (abort) learns of it from this, not from its exit
    // event; a run started since (after a heap-limit change) is not this worker's.
    if (waiting !== undefined && this.exitListener === waiting) waiting('worker ended');
  }

  /** Runs one exploration (or replay, or comparison); never hangs, whatever the revision does. */
  async run(task: Omit<ExploreTask, 'id' | 'kind'> | Omit<CompareTask, 'id'>): Promise<TaskOutcome> {
    if (this.aborted) return { kind: 'aborted' };
    const id = this.nextId++;
    const w = this.spawn();
    w.ref();
    let scenario: Scenario | undefined;
    let phase: 'explore' | 'shrink' = 'explore';
    let run = -1;
    let since = Date.now();
    type Raw = TaskOutcome | { kind: 'timeout' } | { kind: 'exited'; error: string };
    const outcome = await new Promise<Raw>((resolve) => {
      // Starting a worker (tsx, the model's modules, a reviewer's module) is not the revision's time.
      let timer = setTimeout(() => resolve({ kind: 'timeout' }), Math.max(this.timeoutMs, STARTUP_MS));
      const finish = (o: Raw): void => {
        clearTimeout(timer);
        this.listeners.delete(id);
        this.exitListener = undefined;
        resolve(o);
      };
      this.exitListener = (error) => finish({ kind: 'exited', error });
      this.listeners.set(id, (m) => {
        clearTimeout(timer);
        timer = setTimeout(() => finish({ kind: 'timeout' }), this.timeoutMs);
        since = Date.now();
        if (m.kind === 'run') {
          scenario = m.scenario;
          phase = m.phase;
          if (m.phase === 'explore') run++;
        } else if (m.kind === 'done') finish({ kind: 'done', report: m.report });
        else if (m.kind === 'compared') finish({ kind: 'compared', comparison: m.comparison });
        else if (m.kind === 'not-reproduced') finish({ kind: 'not-reproduced', reason: m.reason });
        else if (m.kind === 'failed') finish({ kind: 'failed', error: m.error });
      });
      w.postMessage(('other' in task ? { ...task, id } : { ...task, kind: 'explore', id }) satisfies WorkerTask);
    });
    if (outcome.kind !== 'timeout' && outcome.kind !== 'exited') {
      this.worker?.unref();
      return outcome;
    }
    const seconds = (Date.now() - since) / 1000;
    await this.end();
    if (this.aborted) return { kind: 'aborted' };
    if (scenario === undefined) return { kind: 'failed', error: outcome.kind === 'exited' ? outcome.error : `the worker made no progress for ${seconds.toFixed(1)} s before running any scenario` };
    const events = await this.traceUntilHang(task.revision, task.backend, scenario);
    return outcome.kind === 'timeout' ? { kind: 'hung', phase, run, scenario, events, seconds } : { kind: 'died', phase, run, scenario, events, error: outcome.error };
  }

  /** Runs `scenario` traced in a fresh worker, collecting its events until it ends or hangs again. */
  private async traceUntilHang(revision: RevisionSource, backend: ExploreTask['backend'], scenario: Scenario): Promise<Event[]> {
    const id = this.nextId++;
    const w = this.spawn();
    w.ref();
    const events: Event[] = [];
    await new Promise<void>((resolve) => {
      let timer = setTimeout(resolve, Math.max(this.timeoutMs, STARTUP_MS));
      this.exitListener = () => resolve();
      this.listeners.set(id, (m) => {
        if (m.kind === 'event') {
          events.push(m.event);
          clearTimeout(timer);
          timer = setTimeout(resolve, this.timeoutMs);
        } else if (m.kind === 'traced' || m.kind === 'failed') {
          clearTimeout(timer);
          resolve();
        }
      });
      w.postMessage({ kind: 'trace', id, backend, revision, scenario } satisfies WorkerTask);
    });
    this.listeners.delete(id);
    this.exitListener = undefined;
    await this.end();
    return events;
  }

  /**
   * Runs `scenario` traced in a fresh worker, and returns its events up to where it ended, hung or
   * ran out of heap: how fuzz (whose pool ends a hung worker itself) gets a hang's trace.
   */
  async trace(revision: RevisionSource, backend: ExploreTask['backend'], scenario: Scenario): Promise<Event[]> {
    await this.end();
    return this.traceUntilHang(revision, backend, scenario);
  }

  /** A new check starts: a previous one's abort() no longer applies. */
  begin(): void {
    this.aborted = false;
  }

  /** Ends whatever runs now; run() then returns `aborted`, and every later run() of this check too. */
  async abort(): Promise<void> {
    this.aborted = true;
    await this.end();
  }

  async close(): Promise<void> {
    await this.end();
  }
}

let shared: CheckRunner | undefined;

/**
 * The process's runner: its worker (idle between checks, and never keeping the process alive)
 * serves every check the process makes, so a second check does not pay for starting TypeScript
 * and the model again.
 */
export function sharedRunner(): CheckRunner {
  shared ??= new CheckRunner();
  return shared;
}
