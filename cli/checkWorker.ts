import { parentPort } from 'node:worker_threads';
import { runScenario } from '../model/scenario/runScenario.js';
import { compareRevisions } from '../properties/compare.js';
import { explore, shrinkSignature, type ExploreSpec } from '../properties/explore.js';
import { INVARIANTS } from '../properties/registry.js';
import { explorationReport } from '../reports/checkReport.js';
import { revisionOf } from './revisionSource.js';
import type { WorkerMessage, WorkerTask } from './workerProtocol.js';

/**
 * The worker thread that runs revision code for the CLI (workerProtocol.ts): explorations,
 * replays of one finding, differential comparisons, and traced runs streamed event by event.
 */
const port = parentPort;
if (port === null) throw new Error('cli/checkWorker.ts runs as a worker thread');
const post = (m: WorkerMessage): void => port.postMessage(m);

async function handle(task: WorkerTask): Promise<void> {
  const revision = await revisionOf(task.revision);
  if (task.kind === 'trace') {
    runScenario(task.scenario, revision, { traceCalls: true, observers: [{ event: (event) => post({ kind: 'event', id: task.id, event }) }] });
    post({ kind: 'traced', id: task.id });
    return;
  }
  if (task.kind === 'compare') {
    const other = await revisionOf({ builtIn: task.other });
    const comparison = compareRevisions(task.backend, revision, other, task.runs, task.seed, revision, (scenario, phase) => post({ kind: 'run', id: task.id, phase, scenario }));
    post({ kind: 'compared', id: task.id, comparison });
    return;
  }
  const invariants = INVARIANTS.filter((i) => task.invariants.includes(i.id));
  const spec: ExploreSpec = {
    backend: task.backend,
    revision,
    ...(task.whatIf === undefined ? {} : { whatIf: task.whatIf }),
    invariants,
    runs: task.runs,
    seed: task.seed,
    onScenario: (scenario, phase) => post({ kind: 'run', id: task.id, phase, scenario }),
  };
  const t0 = performance.now();
  if (task.replay === undefined) {
    const x = explore(spec);
    post({ kind: 'done', id: task.id, report: explorationReport(x, revision, task.ref, invariants, performance.now() - t0) });
    return;
  }
  const r = shrinkSignature(spec, task.replay.signature, task.replay.path);
  if (r.kind === 'not-reproduced') {
    post({ kind: 'not-reproduced', id: task.id, reason: r.reason });
    return;
  }
  const x = { backend: task.backend, revision: revision.id, ...(task.whatIf === undefined ? {} : { whatIf: task.whatIf }), invariants: task.invariants, seed: task.seed, runs: task.runs, coverage: new Map<string, number>(), reached: new Map(), findings: [{ ...r.finding, firstRun: Number(task.replay.path.split(':')[0]), runsWithIt: 1 }], modelErrors: [] };
  post({ kind: 'done', id: task.id, report: explorationReport(x, revision, task.ref, invariants, performance.now() - t0) });
}

port.on('message', (task: WorkerTask) => {
  handle(task).catch((e: unknown) => post({ kind: 'failed', id: task.id, error: e instanceof Error ? (e.stack ?? e.message) : String(e) }));
});
