import { EIO } from '../kernel/errno.js';
import type { Impl } from '../kernel/bind.js';
import { KVM_TDX_MEASURE_MEMORY_REGION } from '../backends/tdx/uapi.js';
import { opaqueAs, type Revision, type X86K } from './Revision.js';
import { rothV3PostedFns, type RothV3PostedFns } from './roth-v3-posted.js';

/**
 * roth-v2: Roth's v2 (2025-12-15) as posted, https://lore.kernel.org/all/20251215153411.3613928-1-michael.roth@amd.com/
 * (5 patches on kvm/next e0c26d47def7). v3 reposted 1/5-5/5 as 2/6-6/6 with three changes, so this
 * is roth-v3-posted (B31's unguarded WARN included: v2 1/5 introduced it) with v2's own forms of
 * what v3 changed:
 *
 * - tdx_gmem_post_populate() (5/5, ...-6-michael.roth@amd.com) has no `!src_page` check: a NULL
 *   source (KVM_TDX_INIT_MEM_REGION with source_addr 0, which tdx_vcpu_init_mem_region() does not
 *   refuse) reaches tdx_mem_page_add()'s KVM_BUG_ON(!kvm_tdx->page_add_src): the VM is bugged and
 *   the ioctl fails with -EIO, nothing added or measured. Yan Zhao asked for `-EOPNOTSUPP`
 *   (aU33Y56qBXgrL5/3@yzhao56-desk.sh.intel.com); v3 6/6 added it (B30).
 * - sev_gmem_post_populate() maps the source with kmap_local_pfn(page_to_pfn(src_page)); v3 uses
 *   kmap_local_page(src_page) (Kai Huang's nit, 8fe83dba66ca0fcaf94a990a30b4f7d8ea2ae37a.camel@intel.com).
 *   Without HIGHMEM these are the same mapping, and the model's page is its pfn, so the merged
 *   function stands for v2's (an assumption, stated here).
 * - Yan's kunmap_local() fix (B1) is not a separate patch: its copy_from_user() is gone once 5/5
 *   applies, so the series' end state has nothing to fix.
 */
export type RothV2Fns = RothV3PostedFns;

type K = X86K & RothV2Fns;

export const rothV2Fns: Impl<RothV2Fns, K> = {
  ...rothV3PostedFns,

  // ---- arch/x86/kvm/vmx/tdx.c (v2 5/5) ----

  tdx_gmem_post_populate(k, kvm, gfn, pfn, src_page, _arg) {
    const arg = opaqueAs(_arg, 'tdx_gmem_post_populate_arg');
    const kvm_tdx = k.to_kvm_tdx(kvm);
    const gpa = gfn * k.PAGE_SIZE;
    // Stryker disable next-line all: page_add_src is reset after every map, under slots_lock.
    if (k.KVM_BUG_ON(kvm_tdx.page_add_src !== 0, kvm)) return -EIO;
    kvm_tdx.page_add_src = src_page;
    const ret = k.kvm_tdp_mmu_map_private_pfn(arg.vcpu, gfn, pfn);
    kvm_tdx.page_add_src = 0;
    if (ret || !(arg.flags & KVM_TDX_MEASURE_MEMORY_REGION)) return ret;
    for (let i = 0; i < k.PAGE_SIZE; i += k.TDX_EXTENDMR_CHUNKSIZE) {
      const { err, entry, level_state } = k.tdh_mr_extend('td', gpa + i);
      // Stryker disable next-line UnaryOperator: tdx_vcpu_init_mem_region_old() turns every return but 1 into -EIO.
      if (k.TDX_BUG_ON_2(err, 'TDH_MR_EXTEND', entry, level_state, kvm)) return -EIO;
    }
    return 0;
  },
};

export const roth_v2: Revision = {
  id: 'roth-v2',
  title: 'Roth v2 as posted (Dec 2025): per-page GUP in common code, TDX callback without the NULL source check, the unguarded folio_order() WARN',
  backends: ['snp', 'tdx'],
  cites: [
    'https://lore.kernel.org/all/20251215153411.3613928-2-michael.roth@amd.com/ (1/5: kvm_gmem_get_folio)',
    'https://lore.kernel.org/all/20251215153411.3613928-6-michael.roth@amd.com/ (5/5: kvm_gmem_populate, SNP and TDX callbacks)',
    'https://lore.kernel.org/all/aU33Y56qBXgrL5/3@yzhao56-desk.sh.intel.com/ (Yan: NULL src_page -> -EOPNOTSUPP)',
  ],
  fns: rothV2Fns,
};
