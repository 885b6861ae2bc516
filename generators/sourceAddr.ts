import fc from 'fast-check';
import type { Layout } from './layout.js';
import { srcOffsetArb } from './srcOffset.js';

/**
 * A source address: mostly inside a mapped buffer (at a page, plus a byte offset biased to the
 * page edges), sometimes NULL (0), sometimes an address nothing maps.
 */
export function sourceAddrArb(l: Layout): fc.Arbitrary<number> {
  const ps = l.geometry.page_size;
  const inBuffer = fc.constantFrom(...l.buffers).chain((b) =>
    fc.tuple(fc.oneof({ arbitrary: fc.constant(0), weight: 3 }, { arbitrary: fc.integer({ min: 0, max: b.npages - 1 }), weight: 1 }), srcOffsetArb(ps)).map(([page, off]) => b.addr + page * ps + off),
  );
  return fc.oneof(
    { arbitrary: inBuffer, weight: 30 },
    { arbitrary: fc.constant(0), weight: 2 },
    { arbitrary: fc.constant(0x10000), weight: 1 },
  );
}

/** A gfn inside the slot, biased to its first page, sometimes just outside it. */
export function gfnInSlotArb(l: Layout): fc.Arbitrary<number> {
  const { base_gfn, npages } = l.slot;
  return fc.oneof(
    { arbitrary: fc.constant(base_gfn), weight: 6 },
    { arbitrary: fc.integer({ min: base_gfn, max: base_gfn + npages - 1 }), weight: 12 },
    { arbitrary: fc.constantFrom(base_gfn - 1, base_gfn + npages), weight: 1 },
  );
}
