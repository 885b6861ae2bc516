import { EINTR, EINVAL, EIO, EEXIST, ENOMEM, EFAULT } from '../kernel/errno.js';
import { u64_add, u64_div_long, u64_shl, u64_sub, u64_sub_pages, u64ToGfn, u64ToIndex } from '../kernel/u64.js';
import type { Impl } from '../kernel/bind.js';
import { NULL } from '../kernel/services/errptr.js';
import { KVM, type Kvm, type KvmMemorySlot } from '../kernel/services/kvmcore.js';
import type { KvmMainK } from '../kernel/kvm_main.js';
import { current } from '../kernel/services/sched.js';
import { FOLL_WRITE } from '../kernel/services/gup.js';
import { fieldRef, IS_ALIGNED } from '../kernel/ref.js';
import {
  KVM_SEV_SNP_PAGE_TYPE_CPUID, KVM_SEV_SNP_PAGE_TYPE_NORMAL, KVM_SEV_SNP_PAGE_TYPE_SECRETS, KVM_SEV_SNP_PAGE_TYPE_UNMEASURED,
  KVM_SEV_SNP_PAGE_TYPE_ZERO, PG_LEVEL_4K, SEV_CMD_SNP_LAUNCH_UPDATE, SEV_RET_INVALID_PARAM,
  INITIAL_VMSA_GPA, SVM_VCPU0,
  type KvmSevCmd, type KvmSevSnpLaunchUpdate, type SevGmemPopulateArgs,
} from '../backends/snp/uapi.js';
import { snp_issue_vmsa_update, type SevVmsaFns } from '../backends/snp/sev_vmsa.js';
import { KVM_TDX_MEASURE_MEMORY_REGION, type KvmTdxCmd, type TdxGmemPostPopulateArg, type Vcpu } from '../backends/tdx/uapi.js';
import { opaqueAs, type PopulateOpaque, type Revision, type X86K } from './Revision.js';
import { gmemV70, type GetPfnOutV70, type kvm_gmem_populate_cb_v70 } from './v7.0.js';
import { gmemBindUoff, type GmemBindFns } from '../kernel/guest_memfd_bind.js';
import { gmemCreateV618, type GmemCreateFns } from '../kernel/guest_memfd_create.js';
import { gmemFaultV618, type GmemFaultFns } from '../kernel/guest_memfd_fault.js';
import { gmemAllocateV611, type GmemAllocateFns } from '../kernel/guest_memfd_allocate.js';

/**
 * The newest kvm-x86 trees (2026): v7.0 plus "guest_memfd fixes for bind and populate"
 * (applied 2026-05-27: f13e90059908 pins the source for write when SNP may write CPUID data
 * back, 138f5f9cbe37 unmaps kmaps in LIFO order, 97cd21d57e9b marks the source dirty;
 * https://lore.kernel.org/all/20260522-fix-sev-gmem-post-populate-v1-0-9fc8d6437b65@google.com/)
 * and the June 2026 follow-up that rejects a NULL source up front (SNP `!params.uaddr`, TDX
 * `!region.source_addr`) instead of warning in the callback; and v7.1's SEV launch fixes
 * (LAUNCH_FINISH refuses a vCPU whose VMSA the firmware already has, all vCPUs locked).
 */
/** virt/kvm/guest_memfd.c of the newest trees: vendor-neutral, reused by the newest Arm revision. */
export interface GmemNextFns {
  kvm_gmem_get_folio(inode: number, index: number): number;
  __kvm_gmem_get_pfn(file: number, slot: KvmMemorySlot, index: number, out: GetPfnOutV70): number;
  __kvm_gmem_populate(kvm: Kvm, slot: KvmMemorySlot, file: number, gfn: number, src_page: number, post_populate: kvm_gmem_populate_cb_v70, opaque: PopulateOpaque): number;
  kvm_gmem_populate(kvm: Kvm, start_gfn: number, src: number, npages: number, may_writeback_src: boolean, post_populate: kvm_gmem_populate_cb_v70, opaque: PopulateOpaque): number;
}

export interface NextFns extends GmemNextFns, GmemBindFns, GmemCreateFns, GmemFaultFns, GmemAllocateFns, Pick<SevVmsaFns, 'sev_es_sync_vmsa' | 'snp_launch_update_vmsa'> {
  sev_gmem_post_populate: kvm_gmem_populate_cb_v70;
  snp_launch_update(kvm: Kvm, argp: KvmSevCmd<KvmSevSnpLaunchUpdate>): number;
  tdx_gmem_post_populate: kvm_gmem_populate_cb_v70;
  tdx_vcpu_init_mem_region(vcpu: Vcpu, cmd: KvmTdxCmd): number;
}

type K = X86K & NextFns;

export const gmemNext: Impl<GmemNextFns, KvmMainK & GmemNextFns> = {
  ...gmemV70,

  // ---- virt/kvm/guest_memfd.c @ kvm-x86/linux:5e38e1bd4e7bbed05481fd358ed47396930b7d1a ----

  kvm_gmem_populate(k, kvm, start_gfn, src, npages, may_writeback_src, post_populate, opaque) {
    let ret = 0;
    let i: number;
    k.lockdep_assert_held(kvm.slots_lock);
    // Stryker disable all: both callers refuse these first (SNP: !params.len, an unaligned
    // uaddr; TDX: one page a call, an unaligned source_addr).
    if (k.WARN_ON_ONCE(npages <= 0)) return -EINVAL;
    if (k.WARN_ON_ONCE(!IS_ALIGNED(src, k.PAGE_SIZE))) return -EINVAL;
    // Stryker restore all
    const slot = k.gfn_to_memslot(kvm, start_gfn);
    // Stryker disable next-line ConditionalExpression: kvm_slot_has_gmem(NULL) is false (kvm_host.h), so `slot === null` only saves the call.
    if (slot === null || !k.kvm_slot_has_gmem(slot)) return -EINVAL;
    return k.CLASS_gmem_get_file(slot, (file) => {
      if (!file) return -EFAULT;
      npages = Math.min(slot.npages - (start_gfn - slot.base_gfn), npages);
      for (i = 0; i < npages; i++) {
        const src_page = k.local_page_ptrs('src_page', 1);
        src_page.set(0, NULL);
        if (k.signal_pending(current)) {
          ret = -EINTR;
          break;
        }
        if (src) {
          const uaddr = src + i * k.PAGE_SIZE;
          const flags = may_writeback_src ? FOLL_WRITE : 0;
          ret = k.get_user_pages_fast(uaddr, 1, flags, src_page);
          // get_user_pages_fast() of one page returns 1 or -errno, never 0 (mm/gup.c: -EFAULT
          // when nothing was pinned), so `ret != 1` is defensive.
          // Stryker disable next-line EqualityOperator: see above.
          if (ret < 0) break;
          // Stryker disable all: see above.
          if (ret !== 1) {
            ret = -ENOMEM;
            break;
          }
        }
        // Stryker restore all
        ret = k.__kvm_gmem_populate(kvm, slot, file, start_gfn + i, src_page.at(0), post_populate, opaque);
        if (src_page.at(0)) k.put_page(src_page.at(0));
        if (ret) break;
      }
      return ret && !i ? ret : i;
    });
  },
};

export const nextFns: Impl<NextFns, K> = {
  // kvm-x86@5e38e1bd: the uoff_t bind (model/kernel/guest_memfd_bind.ts).
  kvm_gmem_bind: gmemBindUoff.kvm_gmem_bind,
  // v6.18+: GUEST_MEMFD_FLAG_MMAP for every VM, and a fault without INIT_SHARED is SIGBUS before any
  // lock (model/kernel/guest_memfd_create.ts, guest_memfd_fault.ts).
  kvm_gmem_create: gmemCreateV618.kvm_gmem_create,
  kvm_gmem_fault_user_mapping: gmemFaultV618.kvm_gmem_fault_user_mapping,
  kvm_gmem_allocate: gmemAllocateV611.kvm_gmem_allocate,

  ...gmemNext,

  // ---- arch/x86/kvm/svm/sev.c @ kvm-x86/linux:1a27afa0511e404fd87c1a5e643945940ef72f90 ----

  sev_gmem_post_populate(k, kvm, gfn, pfn, src_page, opaque) {
    const sev_populate_args = opaqueAs(opaque, 'sev_gmem_populate_args');
    let ret: number;
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
          // Stryker disable ConditionalExpression: only a CPUID page draws SEV_RET_INVALID_PARAM
          // (other types were refused before), and copying back a page the firmware did not
          // rewrite puts the source's own bytes back through a FOLL_WRITE pin, dirtied.
          sev_populate_args.type === KVM_SEV_SNP_PAGE_TYPE_CPUID &&
          sev_populate_args.fw_error === SEV_RET_INVALID_PARAM) {
        // Stryker restore ConditionalExpression
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
  },

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
    let src: number;
    if (params.type === KVM_SEV_SNP_PAGE_TYPE_ZERO) src = NULL;
    else if (!params.uaddr || !IS_ALIGNED(params.uaddr, k.PAGE_SIZE)) return -EINVAL;
    else src = params.uaddr;
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
      if (params.type !== KVM_SEV_SNP_PAGE_TYPE_ZERO) params.uaddr += count * k.PAGE_SIZE;
      if (k.copy_struct_to_user(argp.data, params)) return -EFAULT;
      return 0;
    });
  },

  /**
   * v7.1's SEV launch fixes (Sean Christopherson, March 2026, in this tree): "Reject attempts to
   * sync VMSA of an already-launched/encrypted vCPU" (9b9f7962e3e8, after Jethro Beekman's report
   * of an RMP #PF on a second LAUNCH_FINISH) and the vCPU mutex that "Lock all vCPUs when
   * synchronzing VMSAs for SNP launch finish" (cb923ee6a80f) now holds here.
   */
  sev_es_sync_vmsa(k, vcpu) {
    const svm = k.to_svm(vcpu);
    k.lockdep_assert_held(vcpu.mutex);
    if (svm.guest_state_protected) return -EINVAL;
    k.sev_es_copy_save_area(svm.vmsa);
    return 0;
  },

  /**
   * cb923ee6a80f: every vCPU locked (kvm_lock_all_vcpus(), under kvm->lock) for the whole loop;
   * 624bf3440d72's -EBUSY while a vCPU is being created cannot happen here (the one vCPU exists
   * before the scenario starts).
   */
  snp_launch_update_vmsa(k, kvm, argp) {
    let ret = k.kvm_lock_all_vcpus(kvm);
    if (ret) return ret;
    out: for (const vcpu of [SVM_VCPU0]) {
      const svm = k.to_svm(vcpu);
      const pfn = svm.vmsa;
      ret = k.sev_es_sync_vmsa(vcpu);
      if (ret) break out;
      ret = k.rmp_make_private(pfn, INITIAL_VMSA_GPA, PG_LEVEL_4K, k.sev_get_asid(kvm), true);
      if (ret) break out;
      ret = snp_issue_vmsa_update(k, argp, pfn);
      if (ret) {
        k.snp_page_reclaim(kvm, pfn);
        break out;
      }
      svm.guest_state_protected = true;
    }
    k.kvm_unlock_all_vcpus(kvm);
    return ret;
  },

  // ---- arch/x86/kvm/vmx/tdx.c @ kvm-x86/linux:09c6f74ecb863f76e2486a960431fe6e2b86f2c7 ----

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
    /*
     * MR.EXTEND can fail only if the S-EPT mapping were removed between mapping the pfn and now:
     * slots_lock, filemap_invalidate_lock() and the TDP MMU's own exclusion rule that out.
     */
    for (let i = 0; i < k.PAGE_SIZE; i += k.TDX_EXTENDMR_CHUNKSIZE) {
      const { err, entry, level_state } = k.tdh_mr_extend('td', gpa + i);
      // Stryker disable next-line UnaryOperator: the TDX loop below turns every return but 1 into -EIO.
      if (k.TDX_BUG_ON_2(err, 'TDH_MR_EXTEND', entry, level_state, kvm)) return -EIO;
    }
    return 0;
  },

  tdx_vcpu_init_mem_region(k, vcpu, cmd) {
    const kvm = KVM;
    const kvm_tdx = k.to_kvm_tdx(kvm);
    const tdx = k.to_tdx(vcpu);
    if (tdx.state !== 'VCPU_TD_STATE_INITIALIZED') return -EINVAL;
    /* Once TD is finalized, the initial guest memory is fixed. */
    // Stryker disable next-line all: dead in the C too: tdx_vcpu_unlocked_ioctl() (its
    // tdx_vm_state_guard) refuses a runnable TD before it gets here.
    if (kvm_tdx.state === 'TD_STATE_RUNNABLE') return -EINVAL;
    if (cmd.flags & ~KVM_TDX_MEASURE_MEMORY_REGION) return -EINVAL;
    const region = k.copy_struct_from_user(cmd.data);
    const size = u64_shl(region.nr_pages, k.PAGE_SHIFT);
    if (!IS_ALIGNED(region.source_addr, k.PAGE_SIZE) || !region.source_addr ||
        !IS_ALIGNED(region.gpa, k.PAGE_SIZE) || !region.nr_pages || u64_add(region.gpa, size) <= region.gpa ||
        !k.vt_is_tdx_private_gpa(kvm, region.gpa) ||
        !k.vt_is_tdx_private_gpa(kvm, u64_sub(u64_add(region.gpa, size), 1n))) return -EINVAL;
    let ret = 0;
    while (region.nr_pages) {
      // Stryker disable next-line BlockStatement: a pending signal stays pending, and
      // kvm_gmem_populate() checks it before its one page: -EINTR all the same.
      if (k.signal_pending(current)) {
        ret = -EINTR;
        break;
      }
      const arg: TdxGmemPostPopulateArg = { tag: 'tdx_gmem_post_populate_arg', vcpu, flags: cmd.flags };
      const gmem_ret = k.kvm_gmem_populate(kvm, u64ToIndex(region.gpa, k.PAGE_SHIFT), region.source_addr, 1, false, k.tdx_gmem_post_populate, arg);
      // kvm_gmem_populate() of one page returns 1 or -errno, never 0, so `!= 1` is defensive.
      // Stryker disable next-line EqualityOperator: see above.
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
      region.source_addr += k.PAGE_SIZE;
      region.gpa = u64_add(region.gpa, BigInt(k.PAGE_SIZE));
      region.nr_pages--;
      k.cond_resched();
    }
    if (k.copy_struct_to_user(cmd.data, region)) ret = -EFAULT;
    return ret;
  },
};

export const kvm_x86_next: Revision = {
  id: 'kvm-x86-next',
  title: 'newest kvm-x86 (2026): v7.0 plus FOLL_WRITE/dirty/LIFO fixes for the CPUID write-back, NULL sources rejected up front, and v7.1\'s VMSA re-sync refusal',
  backends: ['snp', 'tdx'],
  cites: [
    'kvm-x86/linux:virt/kvm/guest_memfd.c@5e38e1bd4e7bbed05481fd358ed47396930b7d1a',
    'kvm-x86/linux:arch/x86/kvm/svm/sev.c@1a27afa0511e404fd87c1a5e643945940ef72f90',
    'kvm-x86/linux:arch/x86/kvm/vmx/tdx.c@09c6f74ecb863f76e2486a960431fe6e2b86f2c7',
    'https://lore.kernel.org/all/20260522-fix-sev-gmem-post-populate-v1-0-9fc8d6437b65@google.com/',
  ],
  fns: nextFns,
};
