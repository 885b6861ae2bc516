import fc from 'fast-check';

/**
 * Every run is reproducible: the seed comes from FC_SEED or defaults to the suite's fixed seed,
 * and CI refuses to run with anything else but an explicit number.
 */
export const SUITE_SEED = 20261122;

const raw = process.env.FC_SEED;
if (raw !== undefined && !/^-?\d+$/.test(raw)) throw new Error(`FC_SEED must be an integer, got ${JSON.stringify(raw)}`);
fc.configureGlobal({ ...fc.readConfigureGlobal(), seed: raw === undefined ? SUITE_SEED : Number(raw) });
