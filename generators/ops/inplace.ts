import fc from 'fast-check';
import type { BackendId, Fault, Op } from '../../model/scenario/Scenario.js';
import { KVM_SEV_SNP_PAGE_TYPE_CPUID, KVM_SEV_SNP_PAGE_TYPE_NORMAL, KVM_SEV_SNP_PAGE_TYPE_UNMEASURED } from '../../model/backends/snp/uapi.js';
import type { Layout } from '../layout.js';
import { GUEST_MEMFD_FLAG_MMAP } from '../../model/kernel/guest_memfd.js';
import { GMEM_FD } from './common.js';

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
    ).map(({ type, faults }): Op => ({ kind: 'snp_launch_update', gfn_start: gfn, uaddr: 0, len: ps, type, flags: 0, faults }))
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
