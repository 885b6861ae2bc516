import { EFAULT, EINTR, EINVAL, EIO, EEXIST, EOPNOTSUPP } from '../kernel/errno.js';
import { u64_add, u64_div_long, u64_shl, u64_sub, u64_sub_pages, u64ToGfn, u64ToIndex } from '../kernel/u64.js';
import type { Impl } from '../kernel/bind.js';
import { IS_ERR, NULL, PTR_ERR } from '../kernel/services/errptr.js';
import { KVM, type Kvm, type KvmMemorySlot } from '../kernel/services/kvmcore.js';
import { current } from '../kernel/services/sched.js';
import { fieldRef, IS_ALIGNED } from '../kernel/ref.js';
import { KVM_MEMORY_ATTRIBUTE_PRIVATE } from '../world/kvmState.js';
import {
  KVM_SEV_SNP_PAGE_TYPE_CPUID, KVM_SEV_SNP_PAGE_TYPE_NORMAL, KVM_SEV_SNP_PAGE_TYPE_SECRETS, KVM_SEV_SNP_PAGE_TYPE_UNMEASURED,
  KVM_SEV_SNP_PAGE_TYPE_ZERO, PG_LEVEL_4K, SEV_CMD_SNP_LAUNCH_UPDATE, SEV_RET_INVALID_PARAM,
  type SevGmemPopulateArgs,
} from '../backends/snp/uapi.js';
import { KVM_TDX_MEASURE_MEMORY_REGION, type TdxGmemPostPopulateArg } from '../backends/tdx/uapi.js';
import { opaqueAs, type PopulateOpaque, type Revision, type X86K } from './Revision.js';
import { gmemV70, type GetPfnOutV70, type kvm_gmem_populate_cb_v70 } from './v7.0.js';
import { nextFns, type NextFns } from './kvm-x86-next.js';

/**
 * Ackerley Tng's guest_memfd in-place conversion series, v8 (2026-06-18, 46 patches on kvm-x86/next
 * b7fbe9a1bf9e; https://lore.kernel.org/all/20260618-gmem-inplace-conversion-v8-0-9d2959357853@google.com/),
 * its populate path: the tree is kvm-x86's of June 2026 with v7.1's SEV launch fixes and, assumed
 * (no v8 hunk shows it), the may_writeback_src fixes of 20260522-fix-sev-gmem-post-populate: v7
 * names that series as its prerequisite, and Sean Christopherson cites f13e90059908 as applied
 * on 2026-06-23. On top of it:
 *
 * - 21/46 "Zero page while getting pfn": __kvm_gmem_get_pfn() clears a folio that is not uptodate
 *   and marks it, so populate (and the guest's fault) never hand out stale memory (B17's fix);
 * - 10/46, 16/46, 24/46: __kvm_gmem_populate() asks kvm_gmem_range_is_private(): the file's own
 *   attributes (the maple tree under the invalidate lock) when `gmem_in_place_conversion` is on,
 *   the VM's attributes otherwise (CONFIG_KVM_VM_MEMORY_ATTRIBUTES=y, as every cell here assumes);
 * - 22/46 (SNP): a NULL source of a non-ZERO type is refused only when in-place conversion is off:
 *   with it on the destination page is loaded as the VMM left it (written through its mapping
 *   while shared); the CPUID write-back keeps its `&& src_page` guard (B18: in v6, v7 and v8);
 * - 23/46 (TDX): `source_addr == 0` means "the destination is the source" (the TDX module's
 *   in-place PAGE.ADD) when in-place conversion is on, -EOPNOTSUPP otherwise.
 *
 * None of it refuses a NULL source on a guest_memfd created without GUEST_MEMFD_FLAG_MMAP, whose
 * pages the VMM cannot have written (B19: Yan Zhao's review of 23/46,
 * <ajjc0hw8PjGw69e9@yzhao56-desk.sh.intel.com>; Sean Christopherson answered that content is
 * userspace's business, <ajnf5Z9nWZxoLS4x@google.com>). The module parameter is on exactly in the
 * in-place cell (model/kernel/services/gmemfile.ts gmem_in_place_conversion()), where private
 * memory is the file's (Revision.gmemAttributes); v8 also lets an SNP/TDX VM create INIT_SHARED
 * files then (25/46), which the model does not (kvm_arch_supports_gmem_init_shared() stays false).
 * Research: /work/notes/v8-populate-research.md (a helper's reading of the stored v7/v8 mails).
 */
export interface InPlacePopulateFns {
  kvm_gmem_range_is_private(file: number, index: number, nr: number, kvm: Kvm, gfn: number): boolean;
}

type K = X86K & NextFns & InPlacePopulateFns;
export type InPlaceFns = NextFns & InPlacePopulateFns;

/** v8 21/46: v7.0's __kvm_gmem_get_pfn() with the fault path's clearing moved to its end. */
function __kvm_gmem_get_pfn_v8(k: K, file: number, slot: KvmMemorySlot, index: number, out: GetPfnOutV70): number {
  const folio = gmemV70.__kvm_gmem_get_pfn(k, file, slot, index, out);
  if (IS_ERR(folio)) return folio;
  if (!k.folio_test_uptodate(folio)) {
    k.clear_highpage(k.folio_page(folio, 0));
    k.folio_mark_uptodate(folio);
  }
  return folio;
}

/**
 * __kvm_gmem_populate() of the series (v7 06/42, v8 10/46 + 16/46): v7.0's with the private check
 * asked of guest_memfd. Both mark the folio uptodate after a successful callback; in v8 that is a
 * no-op after 21/46, whose lookup has marked it already (Ackerley agreed to drop it,
 * <CAEvNRgE=-cdbiToHEu-FCks2XSh3inVDdW3r+h9VYYbE4REttw@mail.gmail.com>); in v7, whose lookup clears
 * nothing, it is what keeps a failed page from the next fault uncleared. `uptodateOnSuccess` false
 * marks it whatever the callback returned: an injected bug (model/revisions/mutants.ts).
 */
export function kvmGmemPopulateInPlace(uptodateOnSuccess: boolean): Impl<InPlaceFns, K>['__kvm_gmem_populate'] {
  return (k, kvm, slot, file, gfn, src_page, post_populate, opaque) => __kvm_gmem_populate_inplace(k, kvm, slot, file, gfn, src_page, post_populate, opaque, uptodateOnSuccess);
}

function __kvm_gmem_populate_inplace(k: K, kvm: Kvm, slot: KvmMemorySlot, file: number, gfn: number, src_page: number, post_populate: kvm_gmem_populate_cb_v70, opaque: PopulateOpaque, uptodateOnSuccess: boolean): number {
  const index = k.kvm_gmem_get_index(slot, gfn);
  let ret: number;
  k.filemap_invalidate_lock(file);
  out_unlock: {
    // Stryker disable next-line ObjectLiteral: got.pfn is read only after a successful lookup.
    const got: GetPfnOutV70 = { pfn: 0 };
    const folio = k.__kvm_gmem_get_pfn(file, slot, index, got);
    if (IS_ERR(folio)) {
      ret = PTR_ERR(folio);
      break out_unlock;
    }
    k.folio_unlock(folio);
    out_put_folio: {
      if (!k.kvm_gmem_range_is_private(file, index, 1, kvm, gfn)) {
        ret = -EINVAL;
        break out_put_folio;
      }
      ret = post_populate(kvm, gfn, got.pfn, src_page, opaque);
      if (!ret || !uptodateOnSuccess) k.folio_mark_uptodate(folio);
    }
    k.folio_put(folio);
  }
  k.filemap_invalidate_unlock(file);
  return ret;
}

/**
 * v8 22/46's sev_gmem_post_populate(). In place there is no source page to write the firmware's
 * corrected CPUID table back to: the copy-back is guarded `&& src_page` in every posted version
 * (v6 21/43, v7 20/42, v8 22/46), each carrying Ackerley Tng's changelog note that he added the
 * check to the error path, so the patch he started from lacked it (Michael Roth's AMDESE commit,
 * not read here): B18. `srcPageGuard` false is that form, an injected bug (model/revisions/mutants.ts).
 */
export function sevGmemPostPopulateInPlace(srcPageGuard: boolean): Impl<InPlaceFns, K>['sev_gmem_post_populate'] {
  return (k, kvm, gfn, pfn, src_page, opaque) => {
    const sev_populate_args = opaqueAs(opaque, 'sev_gmem_populate_args');
    let ret: number;
    if (!k.gmem_in_place_conversion() && sev_populate_args.type !== KVM_SEV_SNP_PAGE_TYPE_ZERO && !src_page) return -EINVAL;
    out: {
      const { ret: lookup, assigned } = k.snp_lookup_rmpentry(pfn);
      if (lookup || assigned) {
        // Stryker disable next-line UnaryOperator: every guest_memfd page is in the RMP, so the lookup never fails.
        ret = lookup ? -EINVAL : -EEXIST;
        break out;
      }
      if (src_page) {
        const src_vaddr = k.kmap_local_page(src_page);
        const dst_vaddr = k.kmap_local_pfn(pfn);
        k.memcpy(dst_vaddr, src_vaddr, k.PAGE_SIZE);
        k.kunmap_local(dst_vaddr);
        k.kunmap_local(src_vaddr);
      }
      ret = k.rmp_make_private(pfn, gfn * k.PAGE_SIZE, PG_LEVEL_4K, k.sev_get_asid(kvm), true);
      if (ret) break out;
      const fw_args = { gctx_paddr: 0, address: pfn, page_size: PG_LEVEL_4K, page_type: sev_populate_args.type };
      ret = k.__sev_issue_cmd(sev_populate_args.sev_fd, SEV_CMD_SNP_LAUNCH_UPDATE, { cmd: SEV_CMD_SNP_LAUNCH_UPDATE, data: fw_args }, fieldRef(sev_populate_args, 'fw_error'));
      if (ret && !k.snp_page_reclaim(kvm, pfn) &&
          // Stryker disable ConditionalExpression: as kvm-x86-next.ts: only a CPUID page draws
          // SEV_RET_INVALID_PARAM, and a copy back of a page the firmware did not rewrite puts the
          // source's own bytes back through its FOLL_WRITE pin.
          sev_populate_args.type === KVM_SEV_SNP_PAGE_TYPE_CPUID &&
          sev_populate_args.fw_error === SEV_RET_INVALID_PARAM &&
          // Stryker restore ConditionalExpression
          (!srcPageGuard || src_page)) {
        const src_vaddr = k.kmap_local_page(src_page);
        const dst_vaddr = k.kmap_local_pfn(pfn);
        k.memcpy(src_vaddr, dst_vaddr, k.PAGE_SIZE);
        k.set_page_dirty(src_page);
        k.kunmap_local(dst_vaddr);
        k.kunmap_local(src_vaddr);
      }
    }
    if (ret) k.pr_debug(`error updating GFN ${gfn.toString(16)}, return code ${ret} (fw_error ${sev_populate_args.fw_error})`);
    return ret;
  };
}

export const inPlaceV8Fns: Impl<InPlaceFns, K> = {
  ...nextFns,

  // ---- virt/kvm/guest_memfd.c (v8 10/46, 16/46, 21/46, 24/46) ----

  __kvm_gmem_get_pfn: __kvm_gmem_get_pfn_v8,
  __kvm_gmem_populate: kvmGmemPopulateInPlace(true),

  kvm_gmem_range_is_private(k, file, index, nr, kvm, gfn) {
    // The maple tree's external lock is the invalidate lock populate holds (lockdep_assert in
    // kvm_gmem_range_has_attributes()).
    if (k.gmem_in_place_conversion()) {
      for (let i = index; i < index + nr; i++) if (k.gmem_shareability_load(file, i) !== 'private') return false;
      return true;
    }
    return k.kvm_range_has_memory_attributes(kvm, gfn, gfn + nr, KVM_MEMORY_ATTRIBUTE_PRIVATE, KVM_MEMORY_ATTRIBUTE_PRIVATE);
  },

  // ---- arch/x86/kvm/svm/sev.c (v8 22/46) ----

  sev_gmem_post_populate: sevGmemPostPopulateInPlace(true),

  /**
   * The base tree's form, before the June 2026 follow-up that refuses `!params.uaddr` up front
   * (kvm-x86-next.ts): a NULL source passes the alignment check and means "no source".
   */
  snp_launch_update(k, kvm, argp) {
    const sev_populate_args: SevGmemPopulateArgs = { tag: 'sev_gmem_populate_args', type: 0, sev_fd: 0, fw_error: 0 };
    if (!k.sev_snp_guest(kvm) || !k.sev_snp_context(kvm)) return -EINVAL;
    const params = k.copy_struct_from_user(argp.data);
    if (!params.len || !IS_ALIGNED(params.len, k.PAGE_SIZE) || params.flags ||
        (params.type !== KVM_SEV_SNP_PAGE_TYPE_NORMAL &&
         params.type !== KVM_SEV_SNP_PAGE_TYPE_ZERO &&
         params.type !== KVM_SEV_SNP_PAGE_TYPE_UNMEASURED &&
         params.type !== KVM_SEV_SNP_PAGE_TYPE_SECRETS &&
         params.type !== KVM_SEV_SNP_PAGE_TYPE_CPUID)) return -EINVAL;
    const src = params.type === KVM_SEV_SNP_PAGE_TYPE_ZERO ? NULL : params.uaddr;
    if (!IS_ALIGNED(src, k.PAGE_SIZE)) return -EINVAL;
    const npages = u64_div_long(params.len, k.PAGE_SIZE);
    return k.guard_mutex(kvm.slots_lock, () => {
      const memslot = k.gfn_to_memslot(kvm, u64ToGfn(params.gfn_start));
      if (!k.kvm_slot_has_gmem(memslot)) return -EINVAL;
      sev_populate_args.sev_fd = argp.sev_fd;
      sev_populate_args.type = params.type;
      const count = k.kvm_gmem_populate(kvm, u64ToGfn(params.gfn_start), src, npages, params.type === KVM_SEV_SNP_PAGE_TYPE_CPUID, k.sev_gmem_post_populate, sev_populate_args);
      if (count < 0) {
        argp.error = sev_populate_args.fw_error;
        return -EIO;
      }
      params.gfn_start = u64_add(params.gfn_start, BigInt(count));
      params.len = u64_sub_pages(params.len, count, k.PAGE_SIZE);
      if (src &&
          // Stryker disable next-line ConditionalExpression: `src` is NULL for a ZERO page, so the type test only restates it.
          params.type !== KVM_SEV_SNP_PAGE_TYPE_ZERO) params.uaddr += count * k.PAGE_SIZE;
      if (k.copy_struct_to_user(argp.data, params)) return -EFAULT;
      return 0;
    });
  },

  // ---- arch/x86/kvm/vmx/tdx.c (v8 23/46) ----

  tdx_gmem_post_populate(k, kvm, gfn, pfn, src_page, _arg) {
    const arg = opaqueAs(_arg, 'tdx_gmem_post_populate_arg');
    const kvm_tdx = k.to_kvm_tdx(kvm);
    const gpa = gfn * k.PAGE_SIZE;
    // Stryker disable next-line all: page_add_src is reset after every map, under slots_lock.
    if (k.KVM_BUG_ON(kvm_tdx.page_add_src !== 0, kvm)) return -EIO;
    if (!src_page) {
      if (!k.gmem_in_place_conversion()) return -EOPNOTSUPP;
      src_page = k.pfn_to_page(pfn);
    }
    kvm_tdx.page_add_src = src_page;
    const ret = k.kvm_tdp_mmu_map_private_pfn(arg.vcpu, gfn, pfn);
    kvm_tdx.page_add_src = 0;
    if (ret || !(arg.flags & KVM_TDX_MEASURE_MEMORY_REGION)) return ret;
    for (let i = 0; i < k.PAGE_SIZE; i += k.TDX_EXTENDMR_CHUNKSIZE) {
      const { err, entry, level_state } = k.tdh_mr_extend('td', gpa + i);
      // Stryker disable next-line UnaryOperator: the loop below turns every return but 1 into -EIO.
      if (k.TDX_BUG_ON_2(err, 'TDH_MR_EXTEND', entry, level_state, kvm)) return -EIO;
    }
    return 0;
  },

  /**
   * The base tree's loop (kvm-x86-next.ts's, before the June 2026 `!region.source_addr` refusal)
   * with 23/46's one change: a NULL source stays NULL from page to page.
   */
  tdx_vcpu_init_mem_region(k, vcpu, cmd) {
    const kvm = KVM;
    const kvm_tdx = k.to_kvm_tdx(kvm);
    const tdx = k.to_tdx(vcpu);
    if (tdx.state !== 'VCPU_TD_STATE_INITIALIZED') return -EINVAL;
    // Stryker disable next-line all: dead in the C too (tdx_vm_state_guard refuses a runnable TD first).
    if (kvm_tdx.state === 'TD_STATE_RUNNABLE') return -EINVAL;
    if (cmd.flags & ~KVM_TDX_MEASURE_MEMORY_REGION) return -EINVAL;
    const region = k.copy_struct_from_user(cmd.data);
    const size = u64_shl(region.nr_pages, k.PAGE_SHIFT);
    if (!IS_ALIGNED(region.source_addr, k.PAGE_SIZE) ||
        !IS_ALIGNED(region.gpa, k.PAGE_SIZE) || !region.nr_pages || u64_add(region.gpa, size) <= region.gpa ||
        !k.vt_is_tdx_private_gpa(kvm, region.gpa) ||
        !k.vt_is_tdx_private_gpa(kvm, u64_sub(u64_add(region.gpa, size), 1n))) return -EINVAL;
    let ret = 0;
    while (region.nr_pages) {
      // Stryker disable next-line BlockStatement: kvm_gmem_populate() checks the same signal first.
      if (k.signal_pending(current)) {
        ret = -EINTR;
        break;
      }
      const arg: TdxGmemPostPopulateArg = { tag: 'tdx_gmem_post_populate_arg', vcpu, flags: cmd.flags };
      const gmem_ret = k.kvm_gmem_populate(kvm, u64ToIndex(region.gpa, k.PAGE_SHIFT), region.source_addr, 1, false, k.tdx_gmem_post_populate, arg);
      // Stryker disable next-line EqualityOperator: one page returns 1 or -errno, never 0.
      if (gmem_ret < 0) {
        ret = gmem_ret;
        break;
      }
      // Stryker disable all: see above.
      if (gmem_ret !== 1) {
        ret = -EIO;
        break;
      }
      // Stryker restore all
      if (region.source_addr) region.source_addr += k.PAGE_SIZE;
      region.gpa = u64_add(region.gpa, BigInt(k.PAGE_SIZE));
      region.nr_pages--;
      k.cond_resched();
    }
    if (k.copy_struct_to_user(cmd.data, region)) ret = -EFAULT;
    return ret;
  },
};

export const inplace_v8: Revision = {
  id: 'inplace-v8',
  title: 'in-place conversion v8 (Ackerley Tng, 2026-06-18) on kvm-x86: populate checks guest_memfd attributes, pages zeroed in __kvm_gmem_get_pfn(), a NULL source populates in place (SNP 22/46, TDX 23/46)',
  backends: ['snp', 'tdx'],
  cites: [
    'https://lore.kernel.org/all/20260618-gmem-inplace-conversion-v8-0-9d2959357853@google.com/ (10/46, 16/46, 21/46, 22/46, 23/46, 24/46)',
    'kvm-x86/linux:virt/kvm/guest_memfd.c@5e38e1bd4e7bbed05481fd358ed47396930b7d1a (the base populate loop)',
  ],
  gmemAttributes: true,
  fns: inPlaceV8Fns,
};
