import fc from 'fast-check';

/**
 * Pages to populate from `room` pages left in the slot: biased to 1, to exactly the slot end,
 * to GMEM_GUP_NPAGES ± 1 (RFC v1 caps one call at GMEM_GUP_NPAGES and GUPs one page more when
 * unaligned), and past the slot end (silently truncated by kvm_gmem_populate).
 */
export function pageCountArb(room: number, gmemGupNpages: number): fc.Arbitrary<number> {
  const gup = [gmemGupNpages - 1, gmemGupNpages, gmemGupNpages + 1].filter((n) => n >= 1);
  return fc.oneof(
    { arbitrary: fc.constant(1), weight: 3 },
    { arbitrary: fc.constant(Math.max(1, room)), weight: 3 },
    { arbitrary: fc.constantFrom(...gup), weight: 3 },
    { arbitrary: fc.integer({ min: 1, max: Math.max(1, room + 2) }), weight: 2 },
  );
}
