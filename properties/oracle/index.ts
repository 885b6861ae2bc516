/**
 * The functional oracle: an executable specification of the populate ioctls per uAPI
 * generation (snp.ts, tdx.ts, cca.ts; SPECS in specs.ts), of the VM ioctls around them
 * (generic.ts), the rows they encode (rows.ts), the one table of which revision is held to which
 * generation (generations.ts), and what it predicts of one call (call.ts).
 * properties/invariants/functional-spec.ts compares runs with it.
 */
export { SPECS } from './specs.js';
export { predictCall, callRows, type CallPrediction } from './call.js';
export { generationOf, gmemApiOf, GENERATIONS, ARM_UAPI_GENERATION, type Generation, type GmemApi } from './generations.js';
export { predictGeneric, type GenericPrediction } from './generic.js';
export { ALL_ROWS, type Row } from './rows.js';
export type { PopulateSpec, Prediction } from './spec.js';
