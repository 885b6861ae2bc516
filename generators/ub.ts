import fc from 'fast-check';
import type { BackendId } from '../model/scenario/Scenario.js';

/**
 * Values undefined behaviour takes: reads of uninitialised locals, by `function:variable`, for
 * the backends whose revisions read them. Adversarial rather than random: 0 (which often hides
 * the bug), 1 and 2 (a neighbouring element), -1 and INT_MAX (far out of bounds).
 */
export const UB_SITES: Readonly<Record<BackendId, readonly string[]>> = {
  snp: [],
  tdx: ['tdx_gmem_post_populate:i'],
  cca: [],
};

export function ubArb(backend: BackendId): fc.Arbitrary<Record<string, number>> {
  return fc.record(
    Object.fromEntries(UB_SITES[backend].map((site) => [site, fc.constantFrom(0, 1, 2, -1, 0x7fffffff)])),
  );
}
