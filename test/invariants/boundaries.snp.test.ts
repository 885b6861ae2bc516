import { expect } from 'vitest';
import { snpOf } from '../../model/backends/snp/access.js';
import {
  KVM_SEV_SNP_PAGE_TYPE_CPUID, KVM_SEV_SNP_PAGE_TYPE_NORMAL, KVM_SEV_SNP_PAGE_TYPE_SECRETS, KVM_SEV_SNP_PAGE_TYPE_UNMEASURED,
  KVM_SEV_SNP_PAGE_TYPE_VMSA, KVM_SEV_SNP_PAGE_TYPE_ZERO, snpPageTypeName,
} from '../../model/backends/snp/uapi.js';
import { BASE_GFN as G, GMEM_GUP_NPAGES as N, PS, SLOT_PAGES, SRC, launchUpdate, setupOps } from '../model/fixtures.js';
import { populateTable, type PopulateRow } from './populateTable.js';

/**
 * SNP_LAUNCH_UPDATE at the boundaries the design names: source offset 0 and PAGE_SIZE-1, one
 * page, exactly to the slot end and past it, GMEM_GUP_NPAGES ± 1, every page type, and the
 * argument checks. Slot: 8 pages at gfn 0x10, all private; source: 9 pages at 0x40000.
 */
const S = setupOps();
const done = (pages: number, uaddr = SRC) => ({ ret: 0, out: { gfn_start: G + pages, uaddr: uaddr + pages * PS, len: 0, error: 0 } });
const partial = (pages: number, asked: number, uaddr = SRC) => ({ ret: 0, out: { gfn_start: G + pages, uaddr: uaddr + pages * PS, len: (asked - pages) * PS } });
const rejected = (uaddr = SRC, npages = 1) => ({ ret: -22, out: { gfn_start: G, uaddr, len: npages * PS, error: 0 } });

const rows: PopulateRow[] = [
  { name: 'one page, source offset 0', ops: [...S, launchUpdate()], want: { '*': done(1) } },
  {
    name: 'two pages, source offset PAGE_SIZE-1',
    ops: [...S, launchUpdate({ uaddr: SRC + PS - 1, npages: 2 })],
    want: { 'kvm-x86-next-2025.11.07': done(2, SRC + PS - 1), 'rfc-v1': done(2, SRC + PS - 1), 'v7.0': rejected(SRC + PS - 1, 2), 'kvm-x86-next': rejected(SRC + PS - 1, 2) },
  },
  {
    name: 'source offset 1',
    ops: [...S, launchUpdate({ uaddr: SRC + 1 })],
    want: { 'kvm-x86-next-2025.11.07': done(1, SRC + 1), 'rfc-v1': done(1, SRC + 1), 'v7.0': rejected(SRC + 1), 'kvm-x86-next': rejected(SRC + 1) },
  },
  { name: 'the last page of the slot', ops: [...S, launchUpdate({ at: SLOT_PAGES - 1 })], want: { '*': { ret: 0, out: { gfn_start: G + SLOT_PAGES, len: 0 } } } },
  { name: 'exactly to the slot end', ops: [...S, launchUpdate({ at: 4, npages: 4 })], want: { '*': { ret: 0, out: { gfn_start: G + 8, uaddr: SRC + 4 * PS, len: 0 } } } },
  { name: 'past the slot end: npages clamped', ops: [...S, launchUpdate({ at: 6, npages: 4 })], want: { '*': { ret: 0, out: { gfn_start: G + 8, uaddr: SRC + 2 * PS, len: 2 * PS } } } },
  { name: 'GMEM_GUP_NPAGES - 1 pages', ops: [...S, launchUpdate({ npages: N - 1 })], want: { '*': done(N - 1) } },
  { name: 'GMEM_GUP_NPAGES pages', ops: [...S, launchUpdate({ npages: N })], want: { '*': done(N) } },
  {
    name: 'GMEM_GUP_NPAGES + 1 pages: rfc-v1 caps one call at GMEM_GUP_NPAGES',
    ops: [...S, launchUpdate({ npages: N + 1 })],
    want: { '*': done(N + 1), 'rfc-v1': partial(N, N + 1) },
  },
  {
    name: 'GMEM_GUP_NPAGES + 1 pages from offset 1: rfc-v1 pins GMEM_GUP_NPAGES + 1 source pages',
    ops: [...S, launchUpdate({ uaddr: SRC + 1, npages: N + 1 })],
    want: { 'kvm-x86-next-2025.11.07': done(N + 1, SRC + 1), 'rfc-v1': partial(N, N + 1, SRC + 1), 'v7.0': rejected(SRC + 1, N + 1) },
  },
  {
    name: 'resuming after a capped call finishes the range',
    ops: [...S, launchUpdate({ npages: N + 1 }), launchUpdate({ at: N, uaddr: SRC + N * PS })],
    want: { 'rfc-v1': { ret: 0, out: { gfn_start: G + N + 1, uaddr: SRC + (N + 1) * PS, len: 0 } }, 'v7.0': { ret: -5, out: { gfn_start: G + N, error: 0 } } },
  },
  ...[KVM_SEV_SNP_PAGE_TYPE_NORMAL, KVM_SEV_SNP_PAGE_TYPE_UNMEASURED, KVM_SEV_SNP_PAGE_TYPE_SECRETS, KVM_SEV_SNP_PAGE_TYPE_CPUID].map((type): PopulateRow => ({
    name: `page type ${snpPageTypeName(type)}`,
    ops: [...S, launchUpdate({ type, npages: 2 })],
    want: {
      '*': {
        ...done(2),
        check: (r) => expect(snpOf(r.world).guest.ld.map((e) => e.what)).toEqual(Array<string>(2).fill(`SNP_LAUNCH_UPDATE ${snpPageTypeName(type)}`)),
      },
    },
  })),
  {
    name: 'page type ZERO: no source, uaddr not advanced',
    ops: [...S, launchUpdate({ type: KVM_SEV_SNP_PAGE_TYPE_ZERO, npages: 2, uaddr: 0x1234 })],
    want: { '*': { ret: 0, out: { gfn_start: G + 2, uaddr: 0x1234, len: 0 } } },
  },
  { name: 'VMSA is not a LAUNCH_UPDATE type', ops: [...S, launchUpdate({ type: KVM_SEV_SNP_PAGE_TYPE_VMSA })], want: { '*': rejected() } },
  { name: 'unknown type 7', ops: [...S, launchUpdate({ type: 7 })], want: { '*': rejected() } },
  // v6.16/v6.17 (and SNP v15 on Paolo's v1) had no `!params.len`, and kvm_gmem_populate() refused only npages < 0.
  { name: 'len 0', ops: [...S, launchUpdate({ len: 0 })], want: { '*': { ret: -22, out: { len: 0 } }, 'v6.17': { ret: 0, out: { len: 0 } }, 'paolo-v1': { ret: 0, out: { len: 0 } } } },
  { name: 'len not a page multiple', ops: [...S, launchUpdate({ len: PS + 1 })], want: { '*': { ret: -22, out: { len: PS + 1 } } } },
  { name: 'flags non-zero', ops: [...S, launchUpdate({ flags: 1 })], want: { '*': { ret: -22, out: { flags: 1 } } } },
  { name: 'gfn_start outside every memslot', ops: [...S, launchUpdate({ at: SLOT_PAGES })], want: { '*': { ret: -22, out: { gfn_start: G + SLOT_PAGES } } } },
  {
    name: 'a source hole in the second page',
    ops: [...setupOps({ holes: [1] }), launchUpdate({ npages: 2 })],
    // kvm-x86-next-2025.11.07: copy_from_user() faults on page 2 (B1 also leaks a kmap there, which refcount-balance reports).
    want: { '*': partial(1, 2), 'rfc-v1': { ret: -5, out: { gfn_start: G, error: 0 } } },
  },
];

populateTable('snp', 'KVM_SEV_SNP_LAUNCH_UPDATE boundaries', rows);
