import fc from 'fast-check';

/**
 * Byte offset of the source within its page: mostly 0 (what v7.0 requires), and otherwise
 * biased to the edges 1 and PAGE_SIZE - 1, where a straddling copy splits a page 1:PS-1.
 */
export function srcOffsetArb(page_size: number): fc.Arbitrary<number> {
  return fc.oneof(
    { arbitrary: fc.constant(0), weight: 12 },
    { arbitrary: fc.constantFrom(1, page_size - 1), weight: 2 },
    { arbitrary: fc.integer({ min: 1, max: page_size - 1 }), weight: 1 },
  );
}
