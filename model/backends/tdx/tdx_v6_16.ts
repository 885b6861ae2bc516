import { EBUSY, EFAULT, EINTR, EINVAL, EIO } from '../../kernel/errno.js';
import type { Impl } from '../../kernel/bind.js';
import { KVM, type Kvm } from '../../kernel/services/kvmcore.js';
import type { GmemGetPfnFns, GmemPfnPage } from '../../revisions/kvm-x86-next-2025.11.07.js';
import { KVM_MEMORY_ATTRIBUTE_PRIVATE } from '../../world/kvmState.js';
import { PG_LEVEL_4K, RET_PF_FIXED, RET_PF_RETRY, RET_PF_SPURIOUS, type RetPf, type TdxK } from './tdx.js';
import { TDX_EPT_ENTRY_STATE_INCORRECT, TDX_OPERAND_ID_RCX, type KvmTdxVcpuCmd, type SeamcallResult, type Vcpu } from './uapi.js';

/**
 * arch/x86/kvm/vmx/tdx.c and the TDP MMU as v6.16 .. v6.18 have them, before Sean's TDX MMU
 * rework (kvm-x86-tdx-6.19, https://lore.kernel.org/all/20251030200951.3402865-1-seanjc@google.com/)
 * replaced all of this: kernelorg-mirror/virt_kvm_kvm:arch/x86/kvm/vmx/tdx.c@6249af4632166284e82033226a1679e38cb3e6e8,
 * and kvm_tdp_map_page() from the body v6.19 renamed kvm_tdp_page_prefault() (6de2fb089bb2).
 *
 * What differs from model/backends/tdx/tdx.ts, each deciding verdicts of its own:
 * - the populate callback maps the gfn by simulating a private prefetch fault,
 *   kvm_tdp_map_page(), which re-enters guest_memfd (kvm_gmem_get_pfn(): the folio is not yet
 *   uptodate, so it is cleared and marked prepared before TDH.MEM.PAGE.ADD runs: B21);
 * - setting a private SPTE pins the page (get_page()) and, before the TD is runnable, only counts
 *   it (`nr_premapped`); the pin goes only with a removal that succeeded, or a premapped entry
 *   zapped before its PAGE.ADD;
 * - KVM_TDX_FINALIZE_VM refuses while `nr_premapped` is not zero;
 * - the vCPU sub-ioctls run under vcpu->mutex only (no VM state guard).
 */
export interface TdxV616Fns extends GmemGetPfnFns {
  kvm_vcpu_ioctl(vcpu: Vcpu, cmd: KvmTdxVcpuCmd): number;
  tdx_vcpu_ioctl(vcpu: Vcpu, cmd: KvmTdxVcpuCmd): number;
  tdx_td_finalize(kvm: Kvm): number;
  kvm_tdp_map_page(vcpu: Vcpu, gpa: number, error_code: number): number;
  /** kvm_mmu_do_page_fault() of a private prefetch fault on the TDP MMU (kvm_tdp_mmu_page_fault()). */
  kvm_mmu_do_page_fault(vcpu: Vcpu, gpa: number, error_code: number, prefetch: boolean): RetPf | number;
  kvm_tdp_mmu_map(vcpu: Vcpu, gfn: number, pfn: number): RetPf;
  tdx_sept_set_private_spte(kvm: Kvm, gfn: number, level: number, pfn: number): number;
  tdx_mem_page_record_premap_cnt(kvm: Kvm, gfn: number, level: number, pfn: number): number;
  tdx_sept_remove_private_spte(kvm: Kvm, gfn: number, level: number, pfn: number): number;
  tdx_sept_zap_private_spte(kvm: Kvm, gfn: number, level: number, pfn: number): number;
  tdx_sept_drop_private_spte(kvm: Kvm, gfn: number, level: number, pfn: number): number;
  tdx_is_sept_zap_err_due_to_premap(kvm: Kvm, r: SeamcallResult, level: number): boolean;
  tdx_unpin(kvm: Kvm, page: number): void;
}

export const PFERR_GUEST_FINAL_MASK = 2 ** 32;
export const PFERR_PRIVATE_ACCESS = 2 ** 49;

type K = Omit<TdxK, keyof TdxV616Fns> & TdxV616Fns;

function tdh_do_no_vcpus(k: K, seamcall: () => SeamcallResult): SeamcallResult {
  const r = seamcall();
  // tdx_no_vcpus_enter_start()/_stop() around the one retry.
  return k.tdx_operand_busy(r.err) ? seamcall() : r;
}

export const tdxV616: Impl<Omit<TdxV616Fns, keyof GmemGetPfnFns>, K> = {
  /** kvm_vcpu_ioctl(): no unlocked arch handler yet, so vcpu->mutex and then the arch's ioctl. */
  kvm_vcpu_ioctl(k, vcpu, cmd) {
    return k.guard_mutex(vcpu.mutex, () => k.tdx_vcpu_ioctl(vcpu, cmd));
  },

  tdx_vcpu_ioctl(k, vcpu, cmd) {
    const kvm_tdx = k.to_kvm_tdx(KVM);
    if (!kvm_tdx.hkid_assigned || kvm_tdx.state === 'TD_STATE_RUNNABLE') return -EINVAL;
    if (cmd.hw_error) return -EINVAL;
    switch (cmd.id) {
      case 'KVM_TDX_INIT_MEM_REGION': return k.tdx_vcpu_init_mem_region(vcpu, cmd);
      case 'KVM_TDX_INIT_VCPU': return k.tdx_vcpu_init(vcpu, cmd);
    }
  },

  /** A VM ioctl: tdx_vm_ioctl() holds kvm->lock. */
  tdx_td_finalize(k, kvm) {
    return k.guard_mutex(kvm.lock, () =>
      k.guard_mutex(kvm.slots_lock, () => {
        const kvm_tdx = k.to_kvm_tdx(kvm);
        if (!kvm_tdx.hkid_assigned || kvm_tdx.state === 'TD_STATE_RUNNABLE') return -EINVAL;
        /*
         * Pages are pending for KVM_TDX_INIT_MEM_REGION to issue TDH.MEM.PAGE.ADD(): the S-EPT
         * entries were set by the prefetch fault but their pages never added.
         */
        if (kvm_tdx.nr_premapped !== 0) return -EINVAL;
        const { err, entry, level_state } = k.tdh_mr_finalize('td');
        if (k.tdx_operand_busy(err)) return -EBUSY;
        if (k.TDX_BUG_ON_2(err, 'TDH_MR_FINALIZE', entry, level_state, kvm)) return -EIO;
        kvm_tdx.state = 'TD_STATE_RUNNABLE';
        k.set_pre_fault_allowed(kvm, true);
        return 0;
      }),
    );
  },

  /**
   * Exported for TDX's populate: fault the GPA in as the guest would, retrying while the MMU says
   * so. `mmu->page_fault` is always kvm_tdp_page_fault() for a TD (no -EOPNOTSUPP here).
   */
  kvm_tdp_map_page(k, vcpu, gpa, error_code) {
    const kvm = KVM;
    let r: RetPf | number;
    do {
      if (k.signal_pending('current')) return -EINTR;
      if (k.kvm_vm_dead(kvm)) return -EIO; // kvm_check_request(KVM_REQ_VM_DEAD)
      k.cond_resched();
      r = k.kvm_mmu_do_page_fault(vcpu, gpa, error_code, true);
    } while (r === RET_PF_RETRY);
    if (typeof r === 'number') return r;
    switch (r) {
      case RET_PF_FIXED:
      case RET_PF_SPURIOUS:
        return 0;
    }
    // RET_PF_WRITE_PROTECTED (0) and RET_PF_EMULATE (-ENOENT) need write-tracked or MMIO gfns,
    // which a private gfn of a guest_memfd slot is not: the model's fault never returns them.
    k.WARN(true, 'could not fix page fault during prefault');
    return -EIO;
  },

  /**
   * kvm_tdp_page_fault() -> kvm_tdp_mmu_page_fault() for a private 4K prefetch: the pfn comes from
   * guest_memfd (kvm_mmu_faultin_pfn() -> kvm_mmu_faultin_pfn_private() -> kvm_gmem_get_pfn()),
   * then the mirror SPTE is set under mmu_lock (read), and kvm_mmu_finish_page_fault() drops the
   * folio reference kvm_gmem_get_pfn() handed over. mmu_topup_memory_caches() and the
   * invalidation-retry checks are not modelled (one thread, no allocation fault there).
   */
  kvm_mmu_do_page_fault(k, vcpu, gpa, _error_code, _prefetch) {
    const kvm = KVM;
    const gfn = Math.floor(gpa / k.PAGE_SIZE);
    const slot = k.gfn_to_memslot(kvm, gfn);
    // A private fault on a gfn whose attribute is shared, or outside a gmem slot: a memory-fault
    // exit (kvm_mmu_prepare_memory_fault_exit()), -EFAULT.
    if (!k.kvm_range_has_memory_attributes(kvm, gfn, gfn + 1, KVM_MEMORY_ATTRIBUTE_PRIVATE, KVM_MEMORY_ATTRIBUTE_PRIVATE)) return -EFAULT;
    if (slot === null || !k.kvm_slot_can_be_private(slot)) return -EFAULT;
    const got: GmemPfnPage = { pfn: 0, page: 0 };
    const r = k.kvm_gmem_get_pfn(kvm, slot, gfn, got);
    if (r) return r;
    k.read_lock(kvm.mmu_lock);
    const ret = k.kvm_tdp_mmu_map(vcpu, gfn, got.pfn);
    // kvm_mmu_finish_page_fault() -> kvm_release_faultin_page(): put_page() of a folio's page,
    // that is folio_put() of the folio kvm_gmem_get_pfn() referenced.
    k.folio_put(got.page);
    k.read_unlock(kvm.mmu_lock);
    return ret;
  },

  /** As in tdx.ts, with this tree's set_external_spte hook; any hook error is RET_PF_RETRY. */
  kvm_tdp_mmu_map(k, _vcpu, gfn, pfn) {
    const kvm = KVM;
    if (k.tdp_mmu_mirror_spte(kvm, gfn) !== 0) return RET_PF_SPURIOUS;
    k.tdp_mmu_set_mirror_spte(kvm, gfn, pfn);
    if (k.tdx_sept_set_private_spte(kvm, gfn, PG_LEVEL_4K, pfn) !== 0) {
      k.tdp_mmu_set_mirror_spte(kvm, gfn, 0);
      return RET_PF_RETRY;
    }
    return RET_PF_FIXED;
  },

  tdx_sept_set_private_spte(k, kvm, gfn, level, pfn) {
    if (k.KVM_BUG_ON(level !== PG_LEVEL_4K, kvm)) return -EINVAL;
    /*
     * Because guest_memfd doesn't support page migration with a_ops->migrate_folio (yet), no
     * callback is triggered for KVM on page migration. Until guest_memfd supports page
     * migration, prevent page migration.
     */
    k.get_page(pfn);
    if (k.to_kvm_tdx(kvm).state === 'TD_STATE_RUNNABLE') {
      // tdx_mem_page_aug(): guest faults after finalization, not on the populate path.
      k.tdx_unpin(kvm, pfn);
      return -EIO;
    }
    return k.tdx_mem_page_record_premap_cnt(kvm, gfn, level, pfn);
  },

  /**
   * Before the TD is runnable the S-EPT is not touched here: KVM_TDX_INIT_MEM_REGION issues
   * TDH.MEM.PAGE.ADD after the fault returns. The pin stays (the KVM_BUG_ON path keeps it too).
   */
  tdx_mem_page_record_premap_cnt(k, kvm) {
    if (k.KVM_BUG_ON(k.pre_fault_allowed(kvm), kvm)) return -EINVAL;
    k.to_kvm_tdx(kvm).nr_premapped++;
    return 0;
  },

  /** Its result is KVM_BUG_ON()'d by the TDP MMU caller; every error path here has bugged the VM already. */
  tdx_sept_remove_private_spte(k, kvm, gfn, level, pfn) {
    if (k.KVM_BUG_ON(!k.to_kvm_tdx(kvm).hkid_assigned, kvm)) return -EINVAL;
    const ret = k.tdx_sept_zap_private_spte(kvm, gfn, level, pfn);
    if (ret <= 0) return ret;
    /* TDX requires TLB tracking before dropping private page. */
    k.tdx_track(kvm);
    return k.tdx_sept_drop_private_spte(kvm, gfn, level, pfn);
  },

  tdx_sept_zap_private_spte(k, kvm, gfn, level, pfn) {
    const kvm_tdx = k.to_kvm_tdx(kvm);
    k.WARN_ON_ONCE(level !== PG_LEVEL_4K);
    const r = tdh_do_no_vcpus(k, () => k.tdh_mem_range_block('td', gfn * k.PAGE_SIZE));
    if (k.tdx_is_sept_zap_err_due_to_premap(kvm, r, level) && !k.KVM_BUG_ON(kvm_tdx.nr_premapped === 0, kvm)) {
      kvm_tdx.nr_premapped--;
      k.tdx_unpin(kvm, pfn);
      return 0;
    }
    if (k.TDX_BUG_ON_2(r.err, 'TDH_MEM_RANGE_BLOCK', r.entry, r.level_state, kvm)) return -EIO;
    return 1;
  },

  /**
   * Removed before the TD is runnable: if the entry was only premapped (its PAGE.ADD never
   * happened), BLOCK finds a FREE leaf.
   */
  tdx_is_sept_zap_err_due_to_premap(k, kvm, r, level) {
    const entry_present_rwx_leaf = r.entry !== 0n;
    return r.err !== 0n && k.to_kvm_tdx(kvm).state !== 'TD_STATE_RUNNABLE' && level === PG_LEVEL_4K &&
      r.err === (TDX_EPT_ENTRY_STATE_INCORRECT | TDX_OPERAND_ID_RCX) && !entry_present_rwx_leaf;
  },

  /** The pin is dropped only once the page is removed and its cache lines written back. */
  tdx_sept_drop_private_spte(k, kvm, gfn, level, pfn) {
    if (k.KVM_BUG_ON(level !== PG_LEVEL_4K, kvm)) return -EINVAL;
    if (k.KVM_BUG_ON(!k.to_kvm_tdx(kvm).hkid_assigned, kvm)) return -EINVAL;
    let r = tdh_do_no_vcpus(k, () => k.tdh_mem_page_remove('td', gfn * k.PAGE_SIZE));
    if (k.TDX_BUG_ON_2(r.err, 'TDH_MEM_PAGE_REMOVE', r.entry, r.level_state, kvm)) return -EIO;
    r = k.tdh_phymem_page_wbinvd_hkid(0, pfn);
    if (k.TDX_BUG_ON(r.err, 'TDH_PHYMEM_PAGE_WBINVD', kvm)) return -EIO;
    k.tdx_clear_page(pfn);
    k.tdx_unpin(kvm, pfn);
    return 0;
  },

  tdx_unpin: (k, _kvm, page) => k.put_page(page),
};
