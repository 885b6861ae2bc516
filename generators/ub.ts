import fc from 'fast-check';

/**
 * Values undefined behaviour takes: reads of uninitialised locals, by `function:variable`.
 * Adversarial rather than random: 0 (which often hides the bug), 1 and 2 (a neighbouring
 * element), -1 and INT_MAX (far out of bounds).
 */
export const UB_SITES = ['tdx_gmem_post_populate:i'] as const;

export function ubArb(): fc.Arbitrary<Record<string, number>> {
  return fc.record(
    Object.fromEntries(UB_SITES.map((site) => [site, fc.constantFrom(0, 1, 2, -1, 0x7fffffff)])),
  );
}
