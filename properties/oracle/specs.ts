import { r12Spec, r9Spec, rnSpec } from './cca.js';
import type { Generation } from './generations.js';
import { snpSpec } from './snp.js';
import type { PopulateSpec } from './spec.js';
import { tdxSpec } from './tdx.js';

/** Each uAPI generation's populate specification. */
export const SPECS: Readonly<Record<Generation, PopulateSpec>> = {
  S1: snpSpec('S1'),
  S2: snpSpec('S2'),
  S3: snpSpec('S3'),
  T1: tdxSpec('T1'),
  T2: tdxSpec('T2'),
  T3: tdxSpec('T3'),
  R9: r9Spec,
  R12: r12Spec,
  RN: rnSpec,
};
