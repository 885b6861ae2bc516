import fc from 'fast-check';
import type { Geometry } from '../model/geometry.js';
import type { u64 } from '../model/kernel/u64.js';
import type { Prot } from '../model/world/userspaceMm.js';
import { geometryArb } from './geometry.js';

/**
 * The VMM's set-up, chosen before any operation so that operations can draw valid-looking
 * arguments from it: one guest_memfd bound to one memslot, up to two source buffers (at any
 * size, sometimes read-only, sometimes with a hole), and which gfns start private.
 */
export interface Layout {
  readonly geometry: Geometry;
  readonly gmemPages: number;
  readonly gmemFlags: u64;
  readonly slot: { readonly base_gfn: number; readonly npages: number; readonly pgoff: number };
  readonly buffers: readonly { readonly addr: number; readonly npages: number; readonly prot: Prot; readonly holes: readonly number[] }[];
  /** Slot-relative page ranges [start, end) set private at set-up. */
  readonly privateRanges: readonly (readonly [number, number])[];
}

export const BUFFER_ADDRS = [0x40000, 0x80000] as const;

/**
 * `mmap`: whether the kernel accepts GUEST_MEMFD_FLAG_MMAP for the VM (v6.18+, or the in-place
 * what-if). Where it does not, the flag is one more invalid bit a fuzzer sends now and then.
 */
export function layoutArb(mmap = true, initShared = false): fc.Arbitrary<Layout> {
  return geometryArb().chain((geometry) => {
    const gup = 2 ** geometry.pmd_order;
    const slotPages = fc.oneof(
      { arbitrary: fc.integer({ min: 1, max: gup + 2 }), weight: 4 },
      { arbitrary: fc.constantFrom(1, gup, gup + 1), weight: 2 },
    );
    return fc.record({ npages: slotPages, pgoff: fc.constantFrom(0, 0, 1), base: fc.integer({ min: 0x10, max: 0x40 }) })
      .chain(({ npages, pgoff, base }) => layoutWith(geometry, { base_gfn: base, npages, pgoff }, npages + pgoff + 1, mmap, initShared));
  });
}

/**
 * A layout for the hugepages what-if (model/whatIf.ts) and the order of its huge folios:
 * PMD_ORDER, or PUD_ORDER (twice it) while a 1G folio stays at most 16 pages of this geometry.
 * The guest_memfd's size is a whole number of huge folios, most often with the slot binding
 * all of it from offset 0 or from a folio boundary, so the folios __kvm_gmem_get_pfn() reports
 * lie inside the binding; sometimes the slot is a page short or starts one page in, where
 * SNP v11 01/35 falls back to order 0 or cannot place a folio at all.
 */
export function hugeLayoutArb(mmap = true): fc.Arbitrary<{ layout: Layout; order: number }> {
  return geometryArb().chain((geometry) => {
    const pmd = geometry.pmd_order;
    const orders = 2 ** (2 * pmd) <= 16 ? [pmd, 2 * pmd] : [pmd];
    return fc.constantFrom(...orders).chain((order) => {
      const nr = 2 ** order;
      const slotPages = fc.oneof(
        { arbitrary: fc.constantFrom(nr, 2 * nr), weight: 6 },
        { arbitrary: fc.constantFrom(nr - 1, nr + 1, 2 * nr - 1).filter((n) => n >= 1), weight: 1 },
        { arbitrary: fc.integer({ min: 1, max: 2 * nr }), weight: 2 },
      );
      // Most often the slot's gfns and the file's indices share their alignment (base_gfn and
      // pgoff agree modulo the folio), as a VMM backing guest memory with huge pages lays them
      // out: only then does the old order loop find `gfn` aligned and hand a whole folio to
      // post_populate (paolo-v1, v6.17). A free base_gfn made that one layout in `nr`.
      const base = (pgoff: number) => fc.oneof(
        { arbitrary: fc.integer({ min: 0x10 / nr, max: 0x40 / nr - 1 }).map((m) => m * nr + (pgoff % nr)), weight: 3 },
        { arbitrary: fc.integer({ min: 0x10, max: 0x40 }), weight: 1 },
      );
      return fc.record({ npages: slotPages, pgoff: fc.oneof({ arbitrary: fc.constant(0), weight: 6 }, { arbitrary: fc.constantFrom(nr, 1), weight: 1 }) })
        .chain(({ npages, pgoff }) => base(pgoff).map((b) => ({ npages, pgoff, base: b })))
        .chain(({ npages, pgoff, base }) => {
          const gmemPages = Math.ceil((npages + pgoff) / nr) * nr;
          return layoutWith(geometry, { base_gfn: base, npages, pgoff }, gmemPages, mmap).map((layout) => ({ layout, order }));
        });
    });
  });
}

function layoutWith(geometry: Geometry, slot: Layout['slot'], gmemPages: number, mmap: boolean, initShared = false): fc.Arbitrary<Layout> {
  const { npages } = slot;
  const buffer = (addr: number) =>
    fc.record({
      addr: fc.constant(addr),
      npages: fc.integer({ min: 1, max: npages + 2 }),
      prot: fc.oneof({ arbitrary: fc.constant<Prot>('rw'), weight: 5 }, { arbitrary: fc.constant<Prot>('ro'), weight: 1 }),
      holes: fc.oneof({ arbitrary: fc.constant<number[]>([]), weight: 4 }, { arbitrary: fc.integer({ min: 0, max: npages + 1 }).map((h) => [h]), weight: 1 }),
    });
  const privateRanges = fc.oneof(
    { arbitrary: fc.constant<[number, number][]>([[0, npages]]), weight: 10 },
    { arbitrary: fc.integer({ min: 0, max: npages }).chain((a) => fc.integer({ min: a, max: npages }).map((b): [number, number][] => [[a, b]])), weight: 2 },
    { arbitrary: fc.constant<[number, number][]>([]), weight: 1 },
  );
  return fc.record({
    geometry: fc.constant(geometry),
    gmemPages: fc.constant(gmemPages),
    // MMAP or none where MMAP is accepted, else none; sometimes what a fuzzer sends: INIT_SHARED
    // (refused on SNP and TDX VMs), both bits, an unknown bit, one of the u64's upper half, the
    // top bit with MMAP (and MMAP itself where it is refused). Where the VM takes INIT_SHARED and
    // guest_memfd tracks each index (`initShared`: rmi-newest), one file in 15 starts shared
    // with MMAP, so its populates meet a shared index and the host can fault its pages.
    gmemFlags: mmap
      ? fc.oneof(
        { arbitrary: fc.constantFrom(1n, 0n), weight: 40 },
        { arbitrary: fc.constantFrom(2n, 3n, 4n, 0x80n, 1n << 32n, (1n << 63n) | 1n), weight: 1 },
        ...(initShared ? [{ arbitrary: fc.constant(3n), weight: 3 }] : []),
      )
      : fc.oneof({ arbitrary: fc.constant(0n), weight: 40 }, { arbitrary: fc.constantFrom(1n, 2n, 3n, 4n, 0x80n, 1n << 32n, (1n << 63n) | 1n), weight: 1 }),
    slot: fc.constant(slot),
    buffers: fc.oneof({ arbitrary: fc.tuple(buffer(BUFFER_ADDRS[0])), weight: 3 }, { arbitrary: fc.tuple(buffer(BUFFER_ADDRS[0]), buffer(BUFFER_ADDRS[1])), weight: 1 }),
    privateRanges,
  });
}
