import { EEXIST, EFAULT, EHWPOISON, EINTR, EINVAL, EIO, ENOMEM } from '../kernel/errno.js';
import { u64_add, u64_div_long, u64_shl, u64_sub, u64_sub_pages, u64ToGfn, u64ToIndex } from '../kernel/u64.js';
import type { Impl } from '../kernel/bind.js';
import { ERR_PTR, IS_ERR, NULL, PTR_ERR } from '../kernel/services/errptr.js';
import type { Kvm, KvmMemorySlot } from '../kernel/services/kvmcore.js';
import type { KvmMainK } from '../kernel/kvm_main.js';
import { current } from '../kernel/services/sched.js';
import { fieldRef, IS_ALIGNED } from '../kernel/ref.js';
import { KVM } from '../kernel/services/kvmcore.js';
import { KVM_MEMORY_ATTRIBUTE_PRIVATE } from '../world/kvmState.js';
import {
  KVM_SEV_SNP_PAGE_TYPE_CPUID, KVM_SEV_SNP_PAGE_TYPE_NORMAL, KVM_SEV_SNP_PAGE_TYPE_SECRETS,
  KVM_SEV_SNP_PAGE_TYPE_UNMEASURED, KVM_SEV_SNP_PAGE_TYPE_ZERO, PG_LEVEL_4K, SEV_CMD_SNP_LAUNCH_UPDATE,
  SEV_RET_INVALID_PARAM, type KvmSevCmd, type KvmSevSnpLaunchUpdate, type SevGmemPopulateArgs,
} from '../backends/snp/uapi.js';
import { KVM_TDX_MEASURE_MEMORY_REGION, type KvmTdxCmd, type TdxGmemPostPopulateArg, type Vcpu } from '../backends/tdx/uapi.js';
import { opaqueAs, type PopulateOpaque, type Revision, type X86K } from './Revision.js';
import { gmemBindLoff, type GmemBindFns } from '../kernel/guest_memfd_bind.js';
import { gmemCreateV618, type GmemCreateFns } from '../kernel/guest_memfd_create.js';
import { gmemFaultV618, type GmemFaultFns } from '../kernel/guest_memfd_fault.js';
import { gmemAllocateV611, type GmemAllocateFns } from '../kernel/guest_memfd_allocate.js';
import { kvm_gmem_max_order_huge } from '../kernel/hugepages.js';

/**
 * The tree Roth's RFC v1 was written against (kvm-x86 tag kvm-x86-next-2025.11.07), so that
 * rfc-v1 is a true diff over it: the "old" populate path of v6.11 .. v6.19 (kvm_gmem_populate()
 * holds the filemap invalidate lock across the whole loop and hands the vendor callback a user
 * pointer; the callback copies (SNP: copy_from_user) or pins (TDX: GUP) under that lock, B2;
 * preparation is the folio's uptodate flag, -EEXIST), plus two things no release of that form
 * had: "Reject non-positive effective lengths during SNP_LAUNCH_UPDATE" (`!params.len`) and
 * Sean's TDX MMU rework (page_add_src, kvm_tdp_mmu_map_private_pfn, no nr_premapped, no page
 * pinning). The released form of v6.16 .. v6.18 is `v6.17` (model/revisions/v6.17.ts).
 */

/** `typedef int (*kvm_gmem_populate_cb)(kvm, gfn, pfn, void __user *src, int order, void *opaque)`. */
export type kvm_gmem_populate_cb_v611 = (kvm: Kvm, gfn: number, pfn: number, src: number, order: number, opaque: PopulateOpaque) => number;

/** `kvm_pfn_t *pfn, bool *is_prepared, int *max_order` out-parameters. */
export interface GetPfnOut {
  pfn: number;
  is_prepared: boolean;
  max_order: number;
}

/** virt/kvm/guest_memfd.c of this generation: vendor-neutral, reused by the Arm revisions of the time. */
export interface GmemV611Fns {
  kvm_gmem_get_folio(inode: number, index: number): number;
  __kvm_gmem_get_pfn(file: number, slot: KvmMemorySlot, index: number, out: GetPfnOut): number;
  kvm_gmem_mark_prepared(folio: number): void;
  kvm_gmem_populate(kvm: Kvm, start_gfn: number, src: number, npages: number, post_populate: kvm_gmem_populate_cb_v611, opaque: PopulateOpaque): number;
}

/** `kvm_pfn_t *pfn, struct page **page` out-parameters of the 6.13+ kvm_gmem_get_pfn(). */
export interface GmemPfnPage {
  pfn: number;
  page: number;
}

/** The fault path's side of guest_memfd.c in the same generation (6.13 .. v6.19). */
export interface GmemGetPfnFns {
  kvm_gmem_prepare_folio(kvm: Kvm, slot: KvmMemorySlot, gfn: number, folio: number): number;
  kvm_gmem_get_pfn(kvm: Kvm, slot: KvmMemorySlot, gfn: number, out: GmemPfnPage): number;
}

export interface V611Fns extends GmemV611Fns, GmemBindFns, GmemCreateFns, GmemFaultFns, GmemAllocateFns {
  sev_gmem_post_populate: kvm_gmem_populate_cb_v611;
  snp_launch_update(kvm: Kvm, argp: KvmSevCmd<KvmSevSnpLaunchUpdate>): number;
  tdx_gmem_post_populate: kvm_gmem_populate_cb_v611;
  tdx_vcpu_init_mem_region(vcpu: Vcpu, cmd: KvmTdxCmd): number;
}

type K = X86K & V611Fns;

// ---- arch/x86/kvm/svm/sev.c @ torvalds/linux:0097f9df996fe9c4a66a9f96a492391a8432affd
//      with kvm-x86 5b66e335ead6 ("Reject non-positive effective lengths", v6.18) ----

/**
 * snp_launch_update() from v6.18 through RFC v1, written once for any callback type (the C text
 * is the same against either typedef). v6.16/v6.17's, without `!params.len`, is v6.17's own.
 */
export function snp_launch_update_old<Cb>(
  k: X86K & { kvm_gmem_populate(kvm: Kvm, gfn: number, src: number, npages: number, cb: Cb, opaque: PopulateOpaque): number; sev_gmem_post_populate: Cb },
  kvm: Kvm,
  argp: KvmSevCmd<KvmSevSnpLaunchUpdate>,
): number {
  const sev_populate_args: SevGmemPopulateArgs = { tag: 'sev_gmem_populate_args', type: 0, sev_fd: 0, fw_error: 0 };
  let ret: number;
  if (!k.sev_snp_guest(kvm) || !k.sev_snp_context(kvm)) return -EINVAL;
  const params = k.copy_struct_from_user(argp.data);
  if (!params.len || !IS_ALIGNED(params.len, k.PAGE_SIZE) || params.flags ||
      (params.type !== KVM_SEV_SNP_PAGE_TYPE_NORMAL &&
       params.type !== KVM_SEV_SNP_PAGE_TYPE_ZERO &&
       params.type !== KVM_SEV_SNP_PAGE_TYPE_UNMEASURED &&
       params.type !== KVM_SEV_SNP_PAGE_TYPE_SECRETS &&
       params.type !== KVM_SEV_SNP_PAGE_TYPE_CPUID)) return -EINVAL;
  const npages = u64_div_long(params.len, k.PAGE_SIZE);
  // slots_lock guards against attribute and memslot updates while the checks run.
  k.mutex_lock(kvm.slots_lock);
  out: {
    const memslot = k.gfn_to_memslot(kvm, u64ToGfn(params.gfn_start));
    if (!k.kvm_slot_can_be_private(memslot)) {
      ret = -EINVAL;
      break out;
    }
    sev_populate_args.sev_fd = argp.sev_fd;
    sev_populate_args.type = params.type;
    const src = params.type === KVM_SEV_SNP_PAGE_TYPE_ZERO ? NULL : params.uaddr;
    const count = k.kvm_gmem_populate(kvm, u64ToGfn(params.gfn_start), src, npages, k.sev_gmem_post_populate, sev_populate_args);
    // Stryker disable next-line EqualityOperator: kvm_gmem_populate() never returns 0: its clamped loop runs at least once.
    if (count < 0) {
      argp.error = sev_populate_args.fw_error;
      ret = -EIO;
    } else {
      params.gfn_start = u64_add(params.gfn_start, BigInt(count));
      params.len = u64_sub_pages(params.len, count, k.PAGE_SIZE);
      if (params.type !== KVM_SEV_SNP_PAGE_TYPE_ZERO) params.uaddr += count * k.PAGE_SIZE;
      ret = 0;
      if (k.copy_struct_to_user(argp.data, params)) ret = -EFAULT;
    }
  }
  k.mutex_unlock(kvm.slots_lock);
  return ret;
}

// ---- arch/x86/kvm/vmx/tdx.c @ kvm-x86-next-2025.11.07 (Sean's series, lore 20251030200951.3402865-1-seanjc@google.com) ----

/** tdx_vcpu_init_mem_region(), unchanged from here through v7.0: one page per kvm_gmem_populate(). */
export function tdx_vcpu_init_mem_region_old<Cb>(
  k: X86K & { kvm_gmem_populate(kvm: Kvm, gfn: number, src: number, npages: number, cb: Cb, opaque: PopulateOpaque): number; tdx_gmem_post_populate: Cb },
  vcpu: Vcpu,
  cmd: KvmTdxCmd,
): number {
  const kvm = KVM;
  const kvm_tdx = k.to_kvm_tdx(kvm);
  const tdx = k.to_tdx(vcpu);
  if (tdx.state !== 'VCPU_TD_STATE_INITIALIZED') return -EINVAL;
  /* Once TD is finalized, the initial guest memory is fixed. */
  // Stryker disable next-line all: dead in the C too: the vCPU ioctl dispatcher refuses a runnable TD before.
  if (kvm_tdx.state === 'TD_STATE_RUNNABLE') return -EINVAL;
  if (cmd.flags & ~KVM_TDX_MEASURE_MEMORY_REGION) return -EINVAL;
  const region = k.copy_struct_from_user(cmd.data);
  const size = u64_shl(region.nr_pages, k.PAGE_SHIFT);
  if (!IS_ALIGNED(region.source_addr, k.PAGE_SIZE) || !IS_ALIGNED(region.gpa, k.PAGE_SIZE) ||
      !region.nr_pages || u64_add(region.gpa, size) <= region.gpa ||
      !k.vt_is_tdx_private_gpa(kvm, region.gpa) ||
      !k.vt_is_tdx_private_gpa(kvm, u64_sub(u64_add(region.gpa, size), 1n))) return -EINVAL;
  let ret = 0;
  while (region.nr_pages) {
    // Stryker disable next-line BlockStatement: the signal stays pending and kvm_gmem_populate() checks it before its one page.
    if (k.signal_pending(current)) {
      ret = -EINTR;
      break;
    }
    const arg: TdxGmemPostPopulateArg = { tag: 'tdx_gmem_post_populate_arg', vcpu, flags: cmd.flags };
    const gmem_ret = k.kvm_gmem_populate(kvm, u64ToIndex(region.gpa, k.PAGE_SHIFT), region.source_addr, 1, k.tdx_gmem_post_populate, arg);
    // Stryker disable next-line EqualityOperator: kvm_gmem_populate() of one page returns 1 or -errno, never 0.
    if (gmem_ret < 0) {
      ret = gmem_ret;
      break;
    }
    if (gmem_ret !== 1) {
      ret = -EIO;
      break;
    }
    region.source_addr += k.PAGE_SIZE;
    region.gpa = u64_add(region.gpa, BigInt(k.PAGE_SIZE));
    region.nr_pages--;
    k.cond_resched();
  }
  if (k.copy_struct_to_user(cmd.data, region)) ret = -EFAULT;
  return ret;
}

export const gmemV611: Impl<GmemV611Fns, KvmMainK & GmemV611Fns> = {
  // ---- virt/kvm/guest_memfd.c @ torvalds/linux:0f94e51b5320eacccc2626ab70b8d7e705332334 ----

  /* TODO: Support huge pages. */
  kvm_gmem_get_folio: (k, inode, index) => k.filemap_grab_folio(inode, index),

  /** Returns a locked folio on success. */
  __kvm_gmem_get_pfn(k, file, slot, index, out) {
    const gmem_file = slot.gmem_file; // READ_ONCE(slot->gmem.file)
    // Stryker disable next-line all: one thread: populate holds slots_lock and a reference on the file it took from this slot.
    if (file !== gmem_file) {
      // Stryker disable next-line all: see above.
      k.WARN_ON_ONCE(gmem_file !== 0);
      // Stryker disable next-line all: see above.
      return ERR_PTR(-EFAULT);
    }
    if (k.kvm_gmem_bindings_load(file, index) !== slot.id) {
      // Stryker disable next-line ConditionalExpression: in one thread the index is unbound here (B16's failed store), never another slot's.
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
    out.is_prepared = k.folio_test_uptodate(folio);
    return folio;
  },

  kvm_gmem_mark_prepared: (k, folio) => k.folio_mark_uptodate(folio),

  kvm_gmem_populate(k, kvm, start_gfn, src, npages, post_populate, opaque) {
    let ret = 0;
    let max_order: number;
    let i: number;
    k.lockdep_assert_held(kvm.slots_lock);
    if (k.WARN_ON_ONCE(npages <= 0)) return -EINVAL;
    const slot = k.gfn_to_memslot(kvm, start_gfn);
    // Stryker disable next-line ConditionalExpression: kvm_slot_has_gmem(NULL) is false (kvm_host.h), so `slot === null` only saves the call.
    if (slot === null || !k.kvm_slot_has_gmem(slot)) return -EINVAL;
    const file = k.kvm_gmem_get_file(slot);
    if (!file) return -EFAULT;
    k.filemap_invalidate_lock(file);
    npages = Math.min(slot.npages - (start_gfn - slot.base_gfn), npages);
    for (i = 0; i < npages; i += 1 << max_order) {
      const gfn = start_gfn + i;
      const index = k.kvm_gmem_get_index(slot, gfn);
      if (k.signal_pending(current)) {
        ret = -EINTR;
        break;
      }
      // Stryker disable next-line ObjectLiteral,BooleanLiteral: __kvm_gmem_get_pfn() writes every field before a successful return.
      const got: GetPfnOut = { pfn: 0, is_prepared: false, max_order: 0 };
      const folio = k.__kvm_gmem_get_pfn(file, slot, index, got);
      if (IS_ERR(folio)) {
        ret = PTR_ERR(folio);
        break;
      }
      max_order = got.max_order;
      if (got.is_prepared) {
        k.folio_unlock(folio);
        k.folio_put(folio);
        ret = -EEXIST;
        break;
      }
      k.folio_unlock(folio);
      k.WARN_ON(!IS_ALIGNED(gfn, 1 << max_order) || npages - i < 1 << max_order);
      ret = -EINVAL;
      put_folio_and_exit: {
        while (!k.kvm_range_has_memory_attributes(kvm, gfn, gfn + (1 << max_order), KVM_MEMORY_ATTRIBUTE_PRIVATE, KVM_MEMORY_ATTRIBUTE_PRIVATE)) {
          if (!max_order) break put_folio_and_exit;
          max_order--;
        }
        const p = src ? src + i * k.PAGE_SIZE : NULL;
        ret = post_populate(kvm, gfn, got.pfn, p, max_order, opaque);
        if (!ret) k.kvm_gmem_mark_prepared(folio);
      }
      k.folio_put(folio);
      if (ret) break;
    }
    k.filemap_invalidate_unlock(file);
    k.fput(file);
    return ret && !i ? ret : i;
  },
};

/**
 * kvm_gmem_get_pfn() and the preparation it runs on a folio not yet uptodate
 * (torvalds/linux:virt/kvm/guest_memfd.c@0f94e51b5320eacccc2626ab70b8d7e705332334): only the
 * fault path calls them; kvm_gmem_populate() looks the folio up itself.
 */
export const gmemGetPfnOld: Impl<GmemGetPfnFns, KvmMainK & GmemV611Fns & GmemGetPfnFns> = {
  kvm_gmem_prepare_folio(k, _kvm, _slot, _gfn, folio) {
    const nr_pages = k.folio_nr_pages(folio);
    for (let i = 0; i < nr_pages; i++) k.clear_highpage(k.folio_page(folio, i));
    // kvm_arch_gmem_prepare(): arm64 has none, and a TD none either (gmem_prepare is
    // KVM_X86_OP_OPTIONAL_RET0 and vt_x86_ops leaves it unset). SNP's sev_gmem_prepare() is on no
    // modelled path: SNP's populate never faults.
    k.kvm_gmem_mark_prepared(folio);
    return 0;
  },

  kvm_gmem_get_pfn(k, kvm, slot, gfn, out) {
    const index = k.kvm_gmem_get_index(slot, gfn);
    const file = k.kvm_gmem_get_file(slot);
    let r = 0;
    if (!file) return -EFAULT;
    // Stryker disable next-line ObjectLiteral,BooleanLiteral: __kvm_gmem_get_pfn() writes every field before a successful return.
    const got: GetPfnOut = { pfn: 0, is_prepared: false, max_order: 0 };
    const folio = k.__kvm_gmem_get_pfn(file, slot, index, got);
    out: {
      if (IS_ERR(folio)) {
        r = PTR_ERR(folio);
        break out;
      }
      out.pfn = got.pfn;
      if (!got.is_prepared) r = k.kvm_gmem_prepare_folio(kvm, slot, gfn, folio);
      k.folio_unlock(folio);
      // Stryker disable next-line ConditionalExpression: the callers read out.page only after a return of 0.
      if (!r) out.page = k.folio_file_page(folio, index);
      else k.folio_put(folio);
    }
    k.fput(file);
    return r;
  },
};

export const v611Fns: Impl<V611Fns, K> = {
  // The loff_t bind of v6.8 .. v7.0 (model/kernel/guest_memfd_bind.ts).
  kvm_gmem_bind: gmemBindLoff.kvm_gmem_bind,
  // v6.18+: GUEST_MEMFD_FLAG_MMAP for every VM, and a fault without INIT_SHARED is SIGBUS before any
  // lock (model/kernel/guest_memfd_create.ts, guest_memfd_fault.ts).
  kvm_gmem_create: gmemCreateV618.kvm_gmem_create,
  kvm_gmem_fault_user_mapping: gmemFaultV618.kvm_gmem_fault_user_mapping,
  kvm_gmem_allocate: gmemAllocateV611.kvm_gmem_allocate,

  ...gmemV611,

  // ---- arch/x86/kvm/svm/sev.c @ torvalds/linux:0097f9df996fe9c4a66a9f96a492391a8432affd ----

  sev_gmem_post_populate(k, kvm, gfn_start, pfn, src, order, opaque) {
    const sev_populate_args = opaqueAs(opaque, 'sev_gmem_populate_args');
    let n_private = 0;
    let ret: number;
    let i = 0;
    const npages = 1 << order;
    if (k.WARN_ON_ONCE(sev_populate_args.type !== KVM_SEV_SNP_PAGE_TYPE_ZERO && !src)) return -EINVAL;
    err: {
      fw_err: {
        for (let gfn = gfn_start; gfn < gfn_start + npages; gfn++, i++) {
          const { ret: lookup, assigned } = k.snp_lookup_rmpentry(pfn + i);
          if (lookup || assigned) {
            // Stryker disable next-line UnaryOperator: every guest_memfd page is in the RMP, so the lookup never fails.
            ret = lookup ? -EINVAL : -EEXIST;
            break err;
          }
          if (src) {
            const vaddr = k.kmap_local_pfn(pfn + i);
            if (k.copy_from_user(vaddr, src + i * k.PAGE_SIZE, k.PAGE_SIZE)) {
              ret = -EFAULT;
              break err; // B1: kunmap_local(vaddr) is skipped on this path
            }
            k.kunmap_local(vaddr);
          }
          ret = k.rmp_make_private(pfn + i, gfn * k.PAGE_SIZE, PG_LEVEL_4K, k.sev_get_asid(kvm), true);
          if (ret) break err;
          n_private++;
          const fw_args = { gctx_paddr: 0, address: pfn + i, page_size: PG_LEVEL_4K, page_type: sev_populate_args.type };
          ret = k.__sev_issue_cmd(sev_populate_args.sev_fd, SEV_CMD_SNP_LAUNCH_UPDATE, { cmd: SEV_CMD_SNP_LAUNCH_UPDATE, data: fw_args }, fieldRef(sev_populate_args, 'fw_error'));
          if (ret) break fw_err;
        }
        return 0;
      }
      /*
       * When invalid CPUID function entries are detected, firmware writes the expected values
       * into the page and leaves it unencrypted so it can be used for debugging and error-reporting.
       */
      if (!k.snp_page_reclaim(kvm, pfn + i) &&
          // Stryker disable next-line ConditionalExpression: only a CPUID page draws SEV_RET_INVALID_PARAM.
          sev_populate_args.type === KVM_SEV_SNP_PAGE_TYPE_CPUID &&
          // Stryker disable next-line ConditionalExpression: a copy back of a page the firmware did not rewrite puts the source's own bytes back.
          sev_populate_args.fw_error === SEV_RET_INVALID_PARAM) {
        const vaddr = k.kmap_local_pfn(pfn + i);
        if (k.copy_to_user(src + i * k.PAGE_SIZE, vaddr, k.PAGE_SIZE)) k.pr_debug('Failed to write CPUID page back to userspace');
        k.kunmap_local(vaddr);
      }
      /* pfn + i is hypervisor-owned now, so skip below cleanup for it. */
      n_private--;
    }
    k.pr_debug(`exiting with error ret ${ret} (fw_error ${sev_populate_args.fw_error}), restoring ${n_private} gmem PFNs to shared.`);
    for (i = 0; i < n_private; i++) k.kvm_rmp_make_shared(kvm, pfn + i, PG_LEVEL_4K);
    return ret;
  },

  snp_launch_update: snp_launch_update_old,

  // ---- arch/x86/kvm/vmx/tdx.c @ kvm-x86-next-2025.11.07 ----

  tdx_gmem_post_populate(k, kvm, gfn, pfn, src, _order, _arg) {
    const arg = opaqueAs(_arg, 'tdx_gmem_post_populate_arg');
    const kvm_tdx = k.to_kvm_tdx(kvm);
    const gpa = gfn * k.PAGE_SIZE;
    // Stryker disable next-line all: page_add_src is reset after every map, under slots_lock.
    if (k.KVM_BUG_ON(kvm_tdx.page_add_src !== 0, kvm)) return -EIO;
    /*
     * Get the source page if it has been faulted in. Return failure if the
     * source page has been swapped out or unmapped in primary memory.
     */
    const src_page = k.local_page_ptrs('src_page', 1);
    let ret = k.get_user_pages_fast(src, 1, 0, src_page);
    // Stryker disable next-line EqualityOperator: get_user_pages_fast() of one page returns 1 or -errno (mm/gup.c), never 0.
    if (ret < 0) return ret;
    // Stryker disable next-line all: see above.
    if (ret !== 1) return -ENOMEM;
    kvm_tdx.page_add_src = src_page.at(0);
    ret = k.kvm_tdp_mmu_map_private_pfn(arg.vcpu, gfn, pfn);
    kvm_tdx.page_add_src = 0;
    k.put_page(src_page.at(0));
    if (ret || !(arg.flags & KVM_TDX_MEASURE_MEMORY_REGION)) return ret;
    for (let i = 0; i < k.PAGE_SIZE; i += k.TDX_EXTENDMR_CHUNKSIZE) {
      const { err, entry, level_state } = k.tdh_mr_extend('td', gpa + i);
      // Stryker disable next-line UnaryOperator: the TDX loop above turns every return but 1 into -EIO.
      if (k.TDX_BUG_ON_2(err, 'TDH_MR_EXTEND', entry, level_state, kvm)) return -EIO;
    }
    return 0;
  },

  tdx_vcpu_init_mem_region: tdx_vcpu_init_mem_region_old,
};

export const kvm_x86_next_2025_11_07: Revision = {
  id: 'kvm-x86-next-2025.11.07',
  title: 'RFC v1 base (kvm-x86-next-2025.11.07): the old populate path with Sean\'s TDX MMU rework and the SNP zero-length check',
  backends: ['snp', 'tdx'],
  cites: [
    'torvalds/linux:virt/kvm/guest_memfd.c@0f94e51b5320eacccc2626ab70b8d7e705332334',
    'torvalds/linux:arch/x86/kvm/svm/sev.c@0097f9df996fe9c4a66a9f96a492391a8432affd',
    'https://lore.kernel.org/all/20251030200951.3402865-1-seanjc@google.com/ (TDX at the RFC v1 base)',
    'https://lore.kernel.org/all/20240507180729.3975856-8-pbonzini@redhat.com/',
  ],
  fns: v611Fns,
};
