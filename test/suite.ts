import fc from 'fast-check';
import type { BackendId } from '../model/scenario/Scenario.js';
import { CELL_RUNS } from '../properties/explore.js';

/** The seed every property in this run uses (see setup.ts). */
export function suiteSeed(): number {
  const seed = fc.readConfigureGlobal().seed;
  if (seed === undefined) throw new Error('seed must be configured globally (test/setup.ts)');
  return seed;
}

/** Runs per matrix cell: FC_NUM_RUNS or the budget the matrix is calibrated for. */
export function cellRuns(backend: BackendId): number {
  const raw = process.env.FC_NUM_RUNS;
  return raw === undefined ? CELL_RUNS[backend] : Number(raw);
}
