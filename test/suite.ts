import fc from 'fast-check';

/** The seed every property in this run uses (see setup.ts). */
export function suiteSeed(): number {
  const seed = fc.readConfigureGlobal().seed;
  if (seed === undefined) throw new Error('seed must be configured globally (test/setup.ts)');
  return seed;
}

/** Runs per matrix cell: FC_NUM_RUNS or the default budget the matrix is calibrated for. */
export const DEFAULT_RUNS = 300;

export function cellRuns(): number {
  const raw = process.env.FC_NUM_RUNS;
  return raw === undefined ? DEFAULT_RUNS : Number(raw);
}
