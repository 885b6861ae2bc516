import fc from 'fast-check';
import type { Geometry } from '../model/geometry.js';

/**
 * Small pages keep runs fast; the arithmetic is the same as with 4096 (kernel-facts: every
 * check in the populate path is PAGE_SIZE-relative). PMD_ORDER is scaled down with them so page
 * counts around GMEM_GUP_NPAGES ± 1 are cheap (the RFC's 512 becomes 2, 4 or 8).
 */
export function geometryArb(): fc.Arbitrary<Geometry> {
  return fc.record({
    page_size: fc.constantFrom(64, 16, 32),
    pmd_order: fc.constantFrom(2, 1, 3),
    nr_host_pages: fc.constant(192),
  });
}
