import { r12Spec, r9Spec, rnSpec } from './cca.js';
import type { Generation } from './generations.js';
import { snpSpec } from './snp.js';
import type { PopulateSpec } from './spec.js';
import { tdxSpec } from './tdx.js';

/**
 * The functional oracle: an executable specification of the populate ioctls per uAPI
 * generation (snp.ts, tdx.ts, cca.ts), of the VM ioctls around them (generic.ts), the rows
 * they encode (rows.ts) and the one table of which revision is held to which generation
 * (generations.ts). properties/invariants/functional-spec.ts compares runs with it.
 */
export const SPECS: Readonly<Record<Generation, PopulateSpec>> = {
  S1: snpSpec('S1'),
  S2: snpSpec('S2'),
  T1: tdxSpec('T1'),
  T2: tdxSpec('T2'),
  R9: r9Spec,
  R12: r12Spec,
  RN: rnSpec,
};

export { generationOf, gmemApiOf, GENERATIONS, ARM_UAPI_GENERATION, type Generation, type GmemApi } from './generations.js';
export { predictGeneric, type GenericPrediction } from './generic.js';
export { ALL_ROWS, type Row } from './rows.js';
export type { PopulateSpec, Prediction } from './spec.js';
