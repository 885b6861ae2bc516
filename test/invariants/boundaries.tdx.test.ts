import { expect } from 'vitest';
import { tdxOf } from '../../model/backends/tdx/access.js';
import { TDX_SHARED_BIT } from '../../model/backends/tdx/uapi.js';
import { BASE_GFN as G, GMEM_GUP_NPAGES as N, PS, SLOT_PAGES, SRC, initMemRegion, setupOps } from '../model/fixtures.js';
import { populateTable, type PopulateRow } from './populateTable.js';

/**
 * KVM_TDX_INIT_MEM_REGION at the same boundaries. TDX always required page-aligned sources, and
 * populates one page per kvm_gmem_populate() call, so GMEM_GUP_NPAGES does not cap anything.
 */
const S = setupOps();
const done = (pages: number, at = 0) => ({ ret: 0, out: { source_addr: SRC + pages * PS, gpa: (G + at + pages) * PS, nr_pages: 0 } });
const rejected = (o: { source_addr?: number; gpa?: number; nr_pages?: number } = {}) => ({ ret: -22, out: { source_addr: o.source_addr ?? SRC, gpa: o.gpa ?? G * PS, nr_pages: o.nr_pages ?? 1 } });

const rows: PopulateRow[] = [
  { name: 'one page, measured', ops: [...S, initMemRegion()], want: { '*': { ...done(1), check: (r) => expect(tdxOf(r.world).module.mrtd).toHaveLength(17) } } },
  { name: 'one page, unmeasured', ops: [...S, initMemRegion({ flags: 0 })], want: { '*': { ...done(1), check: (r) => expect(tdxOf(r.world).module.mrtd).toHaveLength(1) } } },
  { name: 'the last page of the slot', ops: [...S, initMemRegion({ at: SLOT_PAGES - 1 })], want: { '*': done(1, SLOT_PAGES - 1) } },
  { name: 'exactly to the slot end', ops: [...S, initMemRegion({ at: 4, nr_pages: 4 })], want: { '*': done(4, 4) } },
  {
    name: 'past the slot end: two pages, then -EINVAL with the rest written back',
    ops: [...S, initMemRegion({ at: 6, nr_pages: 4 })],
    want: { '*': { ret: -22, out: { source_addr: SRC + 2 * PS, gpa: (G + 8) * PS, nr_pages: 2 } } },
  },
  { name: 'GMEM_GUP_NPAGES - 1 pages', ops: [...S, initMemRegion({ nr_pages: N - 1 })], want: { '*': done(N - 1) } },
  { name: 'GMEM_GUP_NPAGES pages', ops: [...S, initMemRegion({ nr_pages: N })], want: { '*': done(N) } },
  { name: 'GMEM_GUP_NPAGES + 1 pages', ops: [...S, initMemRegion({ nr_pages: N + 1 })], want: { '*': done(N + 1) } },
  { name: 'unaligned source (offset 1)', ops: [...S, initMemRegion({ source_addr: SRC + 1 })], want: { '*': rejected({ source_addr: SRC + 1 }) } },
  { name: 'unaligned source (offset PAGE_SIZE-1)', ops: [...S, initMemRegion({ source_addr: SRC + PS - 1 })], want: { '*': rejected({ source_addr: SRC + PS - 1 }) } },
  { name: 'unaligned gpa', ops: [...S, initMemRegion({ gpa: G * PS + 1 })], want: { '*': rejected({ gpa: G * PS + 1 }) } },
  { name: 'shared gpa', ops: [...S, initMemRegion({ gpa: G * PS + TDX_SHARED_BIT })], want: { '*': rejected({ gpa: G * PS + TDX_SHARED_BIT }) } },
  { name: 'nr_pages 0', ops: [...S, initMemRegion({ nr_pages: 0 })], want: { '*': rejected({ nr_pages: 0 }) } },
  // u64 arithmetic: with 64-byte pages `nr_pages << PAGE_SHIFT` wraps from 2^58 on. A sum of
  // doubles (gpa + 2^58 * 64 = gpa + 2^64 > gpa) would pass the overflow check here.
  { name: 'nr_pages 2^58: the size wraps to 0, refused', ops: [...S, initMemRegion({ nr_pages: 2n ** 58n })], want: { '*': rejected({ nr_pages: 2 ** 58 }) } },
  {
    name: 'nr_pages 2^58 - 1: the end wraps below the start, refused',
    ops: [...S, initMemRegion({ nr_pages: 2n ** 58n - 1n })],
    want: { '*': rejected({ nr_pages: Number(2n ** 58n - 1n) }) },
  },
  {
    name: 'nr_pages 2^58 + 1: a one-page size passes the check, and the loop walks on to the slot end (-EINVAL there)',
    ops: [...S, initMemRegion({ nr_pages: 2n ** 58n + 1n })],
    want: { '*': { ret: -22, out: { source_addr: SRC + SLOT_PAGES * PS, gpa: (G + SLOT_PAGES) * PS, nr_pages: Number(2n ** 58n + 1n - BigInt(SLOT_PAGES)) } } },
  },
  { name: 'unknown flag', ops: [...S, initMemRegion({ flags: 2 })], want: { '*': { ret: -22 } } },
  {
    name: 'source_addr 0',
    ops: [...S, initMemRegion({ source_addr: 0 })],
    want: {
      // kvm-x86-next-2025.11.07 GUPs address 0 in the callback; rfc-v1 (B3) "adds" from a wild pointer; v7.0 has no
      // source page (-EOPNOTSUPP); kvm-x86-next rejects it up front.
      'kvm-x86-next-2025.11.07': { ret: -14, out: { source_addr: 0, nr_pages: 1 } },
      'rfc-v1': { ret: 0, out: { source_addr: PS, nr_pages: 0 } },
      'v7.0': { ret: -95, out: { source_addr: 0, nr_pages: 1 } },
      'kvm-x86-next': rejected({ source_addr: 0 }),
    },
  },
  {
    name: 'a source hole in the second page',
    ops: [...setupOps({ holes: [1] }), initMemRegion({ nr_pages: 2 })],
    want: { '*': { ret: -14, out: { source_addr: SRC + PS, gpa: (G + 1) * PS, nr_pages: 1 } } },
  },
  {
    name: 'after KVM_TDX_FINALIZE_VM the initial memory is fixed',
    ops: [...S, { kind: 'tdx_finalize_vm', faults: [] }, initMemRegion()],
    want: { '*': { ...rejected(), check: (r) => expect(r.world.kvm.pre_fault_allowed).toBe(true) } },
  },
];

populateTable('tdx', 'KVM_TDX_INIT_MEM_REGION boundaries', rows);
