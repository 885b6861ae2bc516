import { EFAULT, EHWPOISON, EINTR, EINVAL, EIO, EEXIST, ENOMEM } from '../kernel/errno.js';
import type { Impl } from '../kernel/bind.js';
import { ERR_PTR, IS_ERR, PTR_ERR } from '../kernel/services/errptr.js';
import type { Kvm, KvmMemorySlot } from '../kernel/services/kvmcore.js';
import { current } from '../kernel/services/sched.js';
import { GFP_KERNEL, type PagePtrArray } from '../kernel/services/slab.js';
import { fieldRef, IS_ALIGNED } from '../kernel/ref.js';
import { KVM_MEMORY_ATTRIBUTE_PRIVATE } from '../world/kvmState.js';
import {
  KVM_SEV_SNP_PAGE_TYPE_CPUID, KVM_SEV_SNP_PAGE_TYPE_ZERO, PG_LEVEL_4K, SEV_CMD_SNP_LAUNCH_UPDATE, SEV_RET_INVALID_PARAM,
  type KvmSevCmd, type KvmSevSnpLaunchUpdate,
} from '../backends/snp/uapi.js';
import { KVM_TDX_MEASURE_MEMORY_REGION, type KvmTdxCmd, type Vcpu } from '../backends/tdx/uapi.js';
import { opaqueAs, type PopulateOpaque, type Revision, type X86K } from './Revision.js';
import { snp_launch_update_old, tdx_vcpu_init_mem_region_old } from './kvm-x86-next-2025.11.07.js';
import { gmemBindLoff, type GmemBindFns } from '../kernel/guest_memfd_bind.js';
import { gmemCreateV618, type GmemCreateFns } from '../kernel/guest_memfd_create.js';
import { gmemFaultV618, type GmemFaultFns } from '../kernel/guest_memfd_fault.js';
import { gmemAllocateV611, type GmemAllocateFns } from '../kernel/guest_memfd_allocate.js';
import { kvm_gmem_max_order_huge } from '../kernel/hugepages.js';

/**
 * Michael Roth's RFC v1 (2025-11-13), patches 1/3 (remove preparation tracking) and 3/3 (GUP
 * source pages prior to populating guest memory), over the kvm-x86-next-2025.11.07 form:
 * https://lore.kernel.org/all/20251113230759.1562024-1-michael.roth@amd.com/ ,
 * 3/3 = https://lore.kernel.org/all/20251113230759.1562024-4-michael.roth@amd.com/ .
 * kvm_gmem_populate() pins up to GMEM_GUP_NPAGES (+1 when unaligned) source pages before taking
 * the invalidate lock and hands the callback `&src_pages[i]` plus `src_offset`, so SNP copies a
 * page-straddling source from two pages. As posted, the TDX callback indexes `src_pages[i]`
 * with `i` uninitialised (B3); that is undefined behaviour, modelled as a value the scenario
 * picks. `KVM_BUG_ON(src_offset)` lacked its `kvm` argument (B4, a build failure with TDX
 * enabled); a build failure has no run-time behaviour, so it is modelled as the fix reads.
 */

/** `typedef int (*kvm_gmem_populate_cb)(kvm, gfn, pfn, struct page **src_pages, loff_t src_offset, int order, void *opaque)`. */
export type kvm_gmem_populate_cb_rfc_v1 = (
  kvm: Kvm, gfn: number, pfn: number, src_pages: PagePtrArray | null, src_offset: number, order: number, opaque: PopulateOpaque,
) => number;

/** `kvm_pfn_t *pfn, int *max_order` out-parameters (1/3 dropped `is_prepared`). */
export interface GetPfnOutRfc {
  pfn: number;
  max_order: number;
}

export interface RfcV1Fns extends GmemBindFns, GmemCreateFns, GmemFaultFns, GmemAllocateFns {
  kvm_gmem_get_folio(inode: number, index: number): number;
  __kvm_gmem_get_pfn(file: number, slot: KvmMemorySlot, index: number, out: GetPfnOutRfc): number;
  kvm_gmem_populate(kvm: Kvm, start_gfn: number, src: number, npages: number, post_populate: kvm_gmem_populate_cb_rfc_v1, opaque: PopulateOpaque): number;
  sev_gmem_post_populate: kvm_gmem_populate_cb_rfc_v1;
  snp_launch_update(kvm: Kvm, argp: KvmSevCmd<KvmSevSnpLaunchUpdate>): number;
  tdx_gmem_post_populate: kvm_gmem_populate_cb_rfc_v1;
  tdx_vcpu_init_mem_region(vcpu: Vcpu, cmd: KvmTdxCmd): number;
}

type K = X86K & RfcV1Fns;

export const rfcV1Fns: Impl<RfcV1Fns, K> = {
  // RFC v1 applies to a v6.18-era tree: the loff_t bind (model/kernel/guest_memfd_bind.ts).
  kvm_gmem_bind: gmemBindLoff.kvm_gmem_bind,
  // v6.18+: GUEST_MEMFD_FLAG_MMAP for every VM, and a fault without INIT_SHARED is SIGBUS before any
  // lock (model/kernel/guest_memfd_create.ts, guest_memfd_fault.ts).
  kvm_gmem_create: gmemCreateV618.kvm_gmem_create,
  kvm_gmem_fault_user_mapping: gmemFaultV618.kvm_gmem_fault_user_mapping,
  kvm_gmem_allocate: gmemAllocateV611.kvm_gmem_allocate,

  // ---- virt/kvm/guest_memfd.c (1/3 + 3/3) ----

  kvm_gmem_get_folio: (k, inode, index) => k.filemap_grab_folio(inode, index),

  /** Returns a locked folio on success. */
  __kvm_gmem_get_pfn(k, file, slot, index, out) {
    const gmem_file = slot.gmem_file;
    if (file !== gmem_file) {
      k.WARN_ON_ONCE(gmem_file !== 0);
      return ERR_PTR(-EFAULT);
    }
    if (k.kvm_gmem_bindings_load(file, index) !== slot.id) {
      k.WARN_ON_ONCE(k.kvm_gmem_bindings_load(file, index) !== null);
      return ERR_PTR(-EIO);
    }
    const folio = k.kvm_gmem_get_folio(file, index);
    if (IS_ERR(folio)) return folio;
    if (k.folio_test_hwpoison(folio)) {
      k.folio_unlock(folio);
      k.folio_put(folio);
      return ERR_PTR(-EHWPOISON);
    }
    out.pfn = k.folio_file_pfn(folio, index);
    // `*max_order = 0;` here: kvm_gmem_max_order_huge() is that 0 except under the hugepages what-if.
    out.max_order = kvm_gmem_max_order_huge(k, slot, index, folio);
    return folio;
  },

  kvm_gmem_populate(k, kvm, start_gfn, src, npages, post_populate, opaque) {
    /* #define GMEM_GUP_NPAGES (1UL << PMD_ORDER) */
    const GMEM_GUP_NPAGES = 1 << k.PMD_ORDER;
    let src_pages: PagePtrArray | null = null;
    let ret = 0;
    let max_order = 0;
    let src_offset = 0;
    let i: number;
    let src_npages = 0;
    k.lockdep_assert_held(kvm.slots_lock);
    if (k.WARN_ON_ONCE(npages <= 0)) return -EINVAL;
    const slot = k.gfn_to_memslot(kvm, start_gfn);
    if (slot === null || !k.kvm_slot_has_gmem(slot)) return -EINVAL;
    return k.CLASS_gmem_get_file(slot, (file) => {
      if (!file) return -EFAULT;
      npages = Math.min(slot.npages - (start_gfn - slot.base_gfn), npages);
      npages = Math.min(npages, GMEM_GUP_NPAGES);
      if (src) {
        src_npages = IS_ALIGNED(src, k.PAGE_SIZE) ? npages : npages + 1;
        src_pages = k.kmalloc_array(src_npages, 8, GFP_KERNEL);
        if (!src_pages) return -ENOMEM;
        ret = k.get_user_pages_fast(src, src_npages, 0, src_pages);
        if (ret < 0) return ret; // B7: src_pages leaked
        if (ret !== src_npages) return -ENOMEM; // B7: src_pages and the pinned pages leaked
        src_offset = src - Math.floor(src / k.PAGE_SIZE) * k.PAGE_SIZE; // src - PTR_ALIGN_DOWN(src, PAGE_SIZE)
      }
      k.filemap_invalidate_lock(file);
      for (i = 0; i < npages; i += 1 << max_order) {
        const gfn = start_gfn + i;
        const index = k.kvm_gmem_get_index(slot, gfn);
        if (k.signal_pending(current)) {
          ret = -EINTR;
          break;
        }
        const got: GetPfnOutRfc = { pfn: 0, max_order: 0 };
        const folio = k.__kvm_gmem_get_pfn(file, slot, index, got);
        if (IS_ERR(folio)) {
          ret = PTR_ERR(folio);
          break;
        }
        max_order = got.max_order;
        k.folio_unlock(folio);
        k.WARN_ON(!IS_ALIGNED(gfn, 1 << max_order) || npages - i < 1 << max_order);
        ret = -EINVAL;
        put_folio_and_exit: {
          while (!k.kvm_range_has_memory_attributes(kvm, gfn, gfn + (1 << max_order), KVM_MEMORY_ATTRIBUTE_PRIVATE, KVM_MEMORY_ATTRIBUTE_PRIVATE)) {
            if (!max_order) break put_folio_and_exit;
            max_order--;
          }
          ret = post_populate(kvm, gfn, got.pfn, src_pages !== null ? src_pages.plus(i) : null, src_offset, max_order, opaque);
          if (!ret) k.folio_mark_uptodate(folio);
        }
        k.folio_put(folio);
        if (ret) break;
      }
      k.filemap_invalidate_unlock(file);
      if (src_pages !== null) {
        for (let j = 0; j < src_npages; j++) k.put_page(src_pages.at(j));
        k.kfree(src_pages);
      }
      return ret && !i ? ret : i;
    });
  },

  // ---- arch/x86/kvm/svm/sev.c (3/3) ----

  sev_gmem_post_populate(k, kvm, gfn_start, pfn, src_pages, src_offset, order, opaque) {
    const sev_populate_args = opaqueAs(opaque, 'sev_gmem_populate_args');
    const PAGE_SIZE = k.PAGE_SIZE;
    let n_private = 0;
    let ret: number;
    let i = 0;
    const npages = 1 << order;
    if (k.WARN_ON_ONCE(sev_populate_args.type !== KVM_SEV_SNP_PAGE_TYPE_ZERO && !src_pages)) return -EINVAL;
    err: {
      fw_err: {
        for (let gfn = gfn_start; gfn < gfn_start + npages; gfn++, i++) {
          const { ret: lookup, assigned } = k.snp_lookup_rmpentry(pfn + i);
          if (lookup || assigned) {
            ret = lookup ? -EINVAL : -EEXIST;
            break err;
          }
          if (src_pages) {
            let src_vaddr = k.kmap_local_pfn(k.page_to_pfn(src_pages.at(i)));
            const dst_vaddr = k.kmap_local_pfn(pfn + i);
            k.memcpy(dst_vaddr, src_vaddr + src_offset, PAGE_SIZE - src_offset);
            k.kunmap_local(src_vaddr);
            if (src_offset) {
              src_vaddr = k.kmap_local_pfn(k.page_to_pfn(src_pages.at(i + 1)));
              k.memcpy(dst_vaddr + PAGE_SIZE - src_offset, src_vaddr, src_offset);
              k.kunmap_local(src_vaddr);
            }
            k.kunmap_local(dst_vaddr);
          }
          ret = k.rmp_make_private(pfn + i, gfn * PAGE_SIZE, PG_LEVEL_4K, k.sev_get_asid(kvm), true);
          if (ret) break err;
          n_private++;
          const fw_args = { gctx_paddr: 0, address: pfn + i, page_size: PG_LEVEL_4K, page_type: sev_populate_args.type };
          ret = k.__sev_issue_cmd(sev_populate_args.sev_fd, SEV_CMD_SNP_LAUNCH_UPDATE, { cmd: SEV_CMD_SNP_LAUNCH_UPDATE, data: fw_args }, fieldRef(sev_populate_args, 'fw_error'));
          if (ret) break fw_err;
        }
        return 0;
      }
      if (!k.snp_page_reclaim(kvm, pfn + i) &&
          sev_populate_args.type === KVM_SEV_SNP_PAGE_TYPE_CPUID &&
          sev_populate_args.fw_error === SEV_RET_INVALID_PARAM) {
        let src_vaddr = k.kmap_local_pfn(k.page_to_pfn(k.page_ptrs_index(src_pages, i)));
        const dst_vaddr = k.kmap_local_pfn(pfn + i);
        k.memcpy(src_vaddr + src_offset, dst_vaddr, PAGE_SIZE - src_offset);
        k.kunmap_local(src_vaddr);
        if (src_offset) {
          src_vaddr = k.kmap_local_pfn(k.page_to_pfn(k.page_ptrs_index(src_pages, i + 1)));
          k.memcpy(src_vaddr, dst_vaddr + PAGE_SIZE - src_offset, src_offset);
          k.kunmap_local(src_vaddr);
        }
        k.kunmap_local(dst_vaddr);
      }
      /* pfn + i is hypervisor-owned now, so skip below cleanup for it. */
      n_private--;
    }
    k.pr_debug(`exiting with error ret ${ret} (fw_error ${sev_populate_args.fw_error}), restoring ${n_private} gmem PFNs to shared.`);
    for (i = 0; i < n_private; i++) k.kvm_rmp_make_shared(kvm, pfn + i, PG_LEVEL_4K);
    return ret;
  },

  snp_launch_update: snp_launch_update_old,

  // ---- arch/x86/kvm/vmx/tdx.c (3/3) ----

  tdx_gmem_post_populate(k, kvm, gfn, pfn, src_pages, src_offset, _order, _arg) {
    const arg = opaqueAs(_arg, 'tdx_gmem_post_populate_arg');
    const kvm_tdx = k.to_kvm_tdx(kvm);
    const gpa = gfn * k.PAGE_SIZE;
    if (k.KVM_BUG_ON(kvm_tdx.page_add_src !== 0, kvm)) return -EIO;
    /* Source should be page-aligned, in which case src_offset will be 0. */
    if (k.KVM_BUG_ON(src_offset !== 0, kvm)) return -EINVAL;
    // `int ret, i;`: i is read here before anything assigned it (B3).
    kvm_tdx.page_add_src = k.page_ptrs_index(src_pages, k.uninitialized_var('i'));
    const ret = k.kvm_tdp_mmu_map_private_pfn(arg.vcpu, gfn, pfn);
    kvm_tdx.page_add_src = 0;
    if (ret || !(arg.flags & KVM_TDX_MEASURE_MEMORY_REGION)) return ret;
    for (let i = 0; i < k.PAGE_SIZE; i += k.TDX_EXTENDMR_CHUNKSIZE) {
      const { err, entry, level_state } = k.tdh_mr_extend('td', gpa + i);
      if (k.TDX_BUG_ON_2(err, 'TDH_MR_EXTEND', entry, level_state, kvm)) return -EIO;
    }
    return 0;
  },

  tdx_vcpu_init_mem_region: tdx_vcpu_init_mem_region_old,
};

export const rfc_v1: Revision = {
  id: 'rfc-v1',
  title: 'Roth RFC v1: bulk GUP of up to GMEM_GUP_NPAGES source pages before the invalidate lock, src_offset straddling copy',
  backends: ['snp', 'tdx'],
  cites: [
    'https://lore.kernel.org/all/20251113230759.1562024-2-michael.roth@amd.com/ (1/3)',
    'https://lore.kernel.org/all/20251113230759.1562024-4-michael.roth@amd.com/ (3/3)',
  ],
  fns: rfcV1Fns,
};
