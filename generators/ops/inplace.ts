import fc from 'fast-check';
import type { BackendId, Fault, Op } from '../../model/scenario/Scenario.js';
import { KVM_SEV_SNP_PAGE_TYPE_CPUID, KVM_SEV_SNP_PAGE_TYPE_NORMAL, KVM_SEV_SNP_PAGE_TYPE_UNMEASURED } from '../../model/backends/snp/uapi.js';
import type { Layout } from '../layout.js';
import { GUEST_MEMFD_FLAG_MMAP } from '../../model/kernel/guest_memfd.js';
import { GMEM_FD } from './common.js';
import { KVM_ARM_RMI_POPULATE_FLAGS_MEASURE } from '../../model/backends/cca/uapi.js';
import { gmemUserAddress } from '../../model/world/userspaceMm.js';
import { MADV_DONTNEED, MADV_PAGEOUT, MADV_REMOVE, type Madvice } from '../../model/scenario/userspace.js';

/**
 * The VMM loading its initial image in place (the in-place what-if): a page of the memslot
 * populated from a NULL source, either as the guest_memfd holds it untouched (B17, B19), or after
 * the VMM wrote it the way Yan Zhao spells out on v8 23/46: convert it to shared, fault it in and
 * write it through the mapping, convert it back to private, populate. On SNP now and then the page
 * is a CPUID table the firmware corrects, whose write-back has no source in place (the `&& src_page`
 * guard of 22/46: B18). Meant to run before any other populate (a conversion to shared of a bound
 * page after one is not modelled: model/scenario/schema.ts).
 */
export function inPlaceImageArb(backend: Exclude<BackendId, 'cca'>, l: Layout): fc.Arbitrary<readonly Op[]> {
  const ps = l.geometry.page_size;
  const { base_gfn, npages, pgoff } = l.slot;
  // The corrected CPUID table only on an untouched page: a written page is one to load.
  const populate = (gfn: number, written: boolean): fc.Arbitrary<Op> => (backend === 'snp'
    ? fc.oneof(
      { arbitrary: fc.constantFrom(KVM_SEV_SNP_PAGE_TYPE_NORMAL, KVM_SEV_SNP_PAGE_TYPE_UNMEASURED).map((type) => ({ type, faults: [] as Fault[] })), weight: 4 },
      { arbitrary: fc.constant({ type: KVM_SEV_SNP_PAGE_TYPE_CPUID, faults: [{ kind: 'fw', cmd: 'SNP_LAUNCH_UPDATE', condition: 'cpuid_table', nth: 1 }] as Fault[] }), weight: written ? 0 : 1 },
    ).map(({ type, faults }): Op => ({ kind: 'snp_launch_update', gfn_start: BigInt(gfn), uaddr: 0, len: BigInt(ps), type, flags: 0, faults }))
    : fc.constantFrom(0, 1).map((flags): Op => ({ kind: 'tdx_init_mem_region', source_addr: 0, gpa: gfn * ps, nr_pages: 1n, flags, faults: [] })));
  // Written three times in four where the VMM can map the file; where it cannot (no
  // GUEST_MEMFD_FLAG_MMAP: B19's case) the fault would only fail, so the page goes untouched.
  const mappable = (l.gmemFlags & BigInt(GUEST_MEMFD_FLAG_MMAP)) !== 0n;
  const written = mappable ? fc.oneof({ arbitrary: fc.constant(true), weight: 3 }, { arbitrary: fc.constant(false), weight: 1 }) : fc.constant(false);
  return fc.record({ page: fc.nat({ max: npages - 1 }), written })
    .chain(({ page, written }) => populate(base_gfn + page, written).map((op): readonly Op[] => {
      if (!written) return [op];
      const convert = (to: 'shared' | 'private'): Op => ({ kind: 'gmem_convert', guest_memfd: GMEM_FD, offset: (pgoff + page) * ps, size: ps, to });
      return [convert('shared'), { kind: 'gmem_user_fault', guest_memfd: GMEM_FD, offset: (pgoff + page) * ps, write: true }, convert('private'), op];
    }));
}

/**
 * A populate whose source is the VMM's own mapping of a guest_memfd (the in-place what-if, any
 * revision): the file's last page, which no memslot binds, converted to shared, then used as the
 * source of one private page. The VMM may have touched it first (a write fault through the
 * mapping: its PTE is there, GUP needs no fault), and then madvise()d it; else, or after a
 * DONTNEED or REMOVE, GUP or copy_from_user() faults it in under whatever the populate path holds
 * then: the invalidate lock exclusive on the old path (B2 in one thread: the fault takes that
 * lock shared), nothing on a path that pins the source first.
 * Needs GUEST_MEMFD_FLAG_MMAP (without it the address is a hole: -EFAULT, like every other
 * hole) and a page no memslot binds (sameFileNeighbourArb() or a body's memslot may: the caller
 * drops the flow then).
 */
export function gmemSourceArb(backend: BackendId, l: Layout): fc.Arbitrary<readonly Op[]> {
  const ps = l.geometry.page_size;
  const { base_gfn, npages } = l.slot;
  const index = l.gmemPages - 1;
  const src = gmemUserAddress(GMEM_FD, index, ps);
  const privatePages = l.privateRanges.flatMap(([a, b]) => Array.from({ length: b - a }, (_v, i) => a + i));
  const page = privatePages.length > 0 ? fc.constantFrom(...privatePages) : fc.nat({ max: npages - 1 });
  const populate = (gfn: number): fc.Arbitrary<Op> => {
    if (backend === 'snp') return fc.constant<Op>({ kind: 'snp_launch_update', gfn_start: BigInt(gfn), uaddr: src, len: BigInt(ps), type: KVM_SEV_SNP_PAGE_TYPE_NORMAL, flags: 0, faults: [] });
    if (backend === 'tdx') return fc.constantFrom(0, 1).map((flags): Op => ({ kind: 'tdx_init_mem_region', source_addr: src, gpa: gfn * ps, nr_pages: 1n, flags, faults: [] }));
    return fc.constantFrom(0, KVM_ARM_RMI_POPULATE_FLAGS_MEASURE).map((flags): Op => ({ kind: 'arm_rmi_populate', base: gfn * ps, size: BigInt(ps), source_uaddr: src, flags, reserved: 0, faults: [] }));
  };
  // The page untouched (GUP faults it in), touched (its PTE is there), or touched and then
  // madvise()d through the mapping (model/scenario/gmemMadvise.ts): DONTNEED drops the PTE (the
  // file keeps the bytes: the populate faults the same folio back), REMOVE punches it out of the
  // file (a fresh, cleared folio is faulted in), PAGEOUT does nothing (the mapping is unevictable).
  type Prep = { readonly touched: boolean; readonly advice?: Madvice };
  const prep = fc.oneof(
    { arbitrary: fc.constant<Prep>({ touched: false }), weight: 3 },
    { arbitrary: fc.constant<Prep>({ touched: true }), weight: 3 },
    { arbitrary: fc.constant<Prep>({ touched: true, advice: MADV_DONTNEED }), weight: 2 },
    { arbitrary: fc.constant<Prep>({ touched: true, advice: MADV_REMOVE }), weight: 2 },
    { arbitrary: fc.constant<Prep>({ touched: true, advice: MADV_PAGEOUT }), weight: 1 },
  );
  return fc.record({ page, prep }).chain(({ page: p, prep: { touched, advice: a } }) => populate(base_gfn + p).map((op): readonly Op[] => [
    { kind: 'gmem_convert', guest_memfd: GMEM_FD, offset: index * ps, size: ps, to: 'shared' },
    ...(touched ? [{ kind: 'gmem_user_fault', guest_memfd: GMEM_FD, offset: index * ps, write: true } as const] : []),
    ...(a === undefined ? [] : [{ kind: 'madvise', addr: src, length: ps, advice: a } as const]),
    op,
  ]));
}
