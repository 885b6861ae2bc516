import { EBUSY, EINTR, EINVAL, EIO } from '../../kernel/errno.js';
import type { Impl } from '../../kernel/bind.js';
import type { KernelServices } from '../../kernel/Kernel.js';
import type { KvmMainFns } from '../../kernel/kvm_main.js';
import { KVM, type Kvm } from '../../kernel/services/kvmcore.js';
import type { TdxServices } from './services.js';
import type { KvmTdxCmd, KvmTdxInitVcpuCmd, KvmTdxVcpuCmd, SeamcallResult, Vcpu } from './uapi.js';

/**
 * The parts of arch/x86/kvm/vmx/tdx.c and arch/x86/kvm/mmu/ that no modelled revision changes,
 * mirrored from kvm-x86/linux:arch/x86/kvm/vmx/tdx.c@09c6f74ecb863f76e2486a960431fe6e2b86f2c7
 * and Sean's TDX MMU series (https://lore.kernel.org/all/20251030200951.3402865-1-seanjc@google.com/,
 * in every modelled tree from the RFC v1 base on). A revision provides tdx_vcpu_init_mem_region()
 * and the populate callback.
 */
export const PG_LEVEL_4K = 1;
export const RET_PF_RETRY = 'RET_PF_RETRY';
export const RET_PF_FIXED = 'RET_PF_FIXED';
export const RET_PF_SPURIOUS = 'RET_PF_SPURIOUS';
export type RetPf = typeof RET_PF_RETRY | typeof RET_PF_FIXED | typeof RET_PF_SPURIOUS;

export interface TdxCommonFns {
  /**
   * The vCPU ioctl KVM_MEMORY_ENCRYPT_OP as virt/kvm/kvm_main.c dispatches it: from v6.19 the
   * arch's unlocked handler runs first, before vcpu->mutex (kvm_arch_vcpu_unlocked_ioctl() ->
   * tdx_vcpu_unlocked_ioctl()); v6.16 .. v6.18 take vcpu->mutex and call tdx_vcpu_ioctl().
   */
  kvm_vcpu_ioctl(vcpu: Vcpu, cmd: KvmTdxVcpuCmd): number;
  /** KVM_MEMORY_ENCRYPT_OP on a vCPU fd: `tdx_vcpu_unlocked_ioctl()`. */
  tdx_vcpu_unlocked_ioctl(vcpu: Vcpu, cmd: KvmTdxVcpuCmd): number;
  /**
   * KVM_TDX_INIT_VCPU: `tdx_vcpu_init()`, the same checks in every modelled tree (v6.16 calls it
   * from tdx_vcpu_ioctl() under vcpu->mutex, v6.19 on from the unlocked handler under the VM
   * state guard). The TDH.VP.CREATE/ADDCX/INIT it issues (tdx_td_vcpu_init()) and the x2APIC set-up are
   * not modelled: they touch no guest_memfd page, and are taken to succeed.
   */
  tdx_vcpu_init(vcpu: Vcpu, cmd: KvmTdxInitVcpuCmd): number;
  /**
   * KVM_TDX_FINALIZE_VM: `tdx_td_finalize()` under the VM state guard tdx_vm_ioctl() takes (every
   * vcpu->mutex too, as the vCPU sub-ioctls).
   */
  tdx_td_finalize(kvm: Kvm): number;
  kvm_tdp_mmu_map_private_pfn(vcpu: Vcpu, gfn: number, pfn: number): number;
  /** The private 4K leaf case of kvm_tdp_mmu_map(), with its set_external_spte hook. */
  kvm_tdp_mmu_map(vcpu: Vcpu, gfn: number, pfn: number): RetPf;
  tdx_sept_map_leaf_spte(kvm: Kvm, gfn: number, level: number, pfn: number): number;
  tdx_mem_page_add(kvm: Kvm, gfn: number, level: number, pfn: number): number;
  tdx_track(kvm: Kvm): void;
  tdx_sept_remove_private_spte(kvm: Kvm, gfn: number, level: number, pfn: number): void;
  /** Zap of private mappings in [start, end): kvm_mmu_unmap_gfn_range() on the mirror root. */
  tdx_zap_private_range(kvm: Kvm, start: number, end: number): void;
}

export interface TdxRevisionEntry {
  tdx_vcpu_init_mem_region(vcpu: Vcpu, cmd: KvmTdxCmd): number;
}

export type TdxK = KernelServices & TdxServices & TdxCommonFns & TdxRevisionEntry & Pick<KvmMainFns, 'kvm_lock_all_vcpus' | 'kvm_unlock_all_vcpus'>;

/**
 * `CLASS(tdx_vm_state_guard, guard)(kvm)` around `body`: kvm->lock, then every vcpu->mutex
 * (kvm_lock_all_vcpus()), then kvm->slots_lock ("the unintuitive ordering"), released in reverse
 * (tdx_acquire_vm_state_locks() / tdx_release_vm_state_locks(),
 * kvm-x86/linux:arch/x86/kvm/vmx/tdx.c@09c6f74ecb863f76e2486a960431fe6e2b86f2c7). Its -EBUSY while
 * `kvm->created_vcpus != online_vcpus` cannot happen: every vCPU exists before the first op.
 */
function tdx_vm_state_guard(k: TdxK, kvm: Kvm, body: () => number): number {
  k.mutex_lock(kvm.lock);
  const r = k.kvm_lock_all_vcpus(kvm);
  if (r) {
    k.mutex_unlock(kvm.lock);
    return r;
  }
  k.mutex_lock(kvm.slots_lock);
  try {
    return body();
  } finally {
    k.mutex_unlock(kvm.slots_lock);
    k.kvm_unlock_all_vcpus(kvm);
    k.mutex_unlock(kvm.lock);
  }
}

/**
 * The tdh_do_no_vcpus() macro: a SEAMCALL that finds the TD's S-EPT contended is retried once
 * with vCPUs kept out of the guest (wait_for_sept_zap, KVM_REQ_OUTSIDE_GUEST_MODE), after which
 * "the second retry is expected to succeed".
 */
function tdh_do_no_vcpus(k: TdxK, seamcall: () => SeamcallResult): SeamcallResult {
  const r = seamcall();
  return k.tdx_operand_busy(r.err) ? seamcall() : r;
}

export const tdxCommon: Impl<TdxCommonFns, TdxK> = {
  kvm_vcpu_ioctl: (k, vcpu, cmd) => k.tdx_vcpu_unlocked_ioctl(vcpu, cmd),

  /**
   * tdx_get_cmd() first (a non-zero `hw_error` from userspace is -EINVAL, before any lock:
   * kvm-x86/linux:arch/x86/kvm/vmx/tdx.c@09c6f74ecb863f76e2486a960431fe6e2b86f2c7, the same in
   * torvalds/linux@01f492e1; its -EFAULT for a command that cannot be copied is not modelled:
   * the model's commands are records), then CLASS(tdx_vm_state_guard) (tdx_vm_state_guard()).
   */
  tdx_vcpu_unlocked_ioctl(k, vcpu, cmd) {
    const kvm = KVM;
    if (cmd.hw_error) return -EINVAL;
    return tdx_vm_state_guard(k, kvm, () => {
      const kvm_tdx = k.to_kvm_tdx(kvm);
      if (!kvm_tdx.hkid_assigned || kvm_tdx.state === 'TD_STATE_RUNNABLE') return -EINVAL;
      switch (cmd.id) {
        case 'KVM_TDX_INIT_MEM_REGION': return k.tdx_vcpu_init_mem_region(vcpu, cmd);
        case 'KVM_TDX_INIT_VCPU': return k.tdx_vcpu_init(vcpu, cmd);
      }
    });
  },

  tdx_vcpu_init(k, vcpu, cmd) {
    const tdx = k.to_tdx(vcpu);
    if (cmd.flags !== 0) return -EINVAL;
    if (tdx.state !== 'VCPU_TD_STATE_UNINITIALIZED') return -EINVAL;
    tdx.state = 'VCPU_TD_STATE_INITIALIZED';
    return 0;
  },

  tdx_td_finalize(k, kvm) {
    return tdx_vm_state_guard(k, kvm, () => {
      const kvm_tdx = k.to_kvm_tdx(kvm);
      if (!kvm_tdx.hkid_assigned || kvm_tdx.state === 'TD_STATE_RUNNABLE') return -EINVAL;
      const { err, entry, level_state } = k.tdh_mr_finalize('td');
      if (k.tdx_operand_busy(err)) return -EBUSY;
      if (k.TDX_BUG_ON_2(err, 'TDH_MR_FINALIZE', entry, level_state, kvm)) return -EIO;
      kvm_tdx.state = 'TD_STATE_RUNNABLE';
      k.set_pre_fault_allowed(kvm, true);
      return 0;
    });
  },

  kvm_tdp_mmu_map_private_pfn(k, vcpu, gfn, pfn) {
    const kvm = KVM;
    k.lockdep_assert_held(kvm.slots_lock);
    let r: RetPf;
    do {
      if (k.signal_pending('current')) return -EINTR;
      if (k.kvm_vm_dead(kvm)) return -EIO;
      k.cond_resched();
      k.read_lock(kvm.mmu_lock);
      r = k.kvm_tdp_mmu_map(vcpu, gfn, pfn);
      k.read_unlock(kvm.mmu_lock);
    } while (r === RET_PF_RETRY);
    if (r !== RET_PF_FIXED) return -EIO;
    return 0;
  },

  /**
   * A present leaf is RET_PF_SPURIOUS (prefetch faults never overwrite); otherwise the mirror
   * SPTE is set and the external (S-EPT) hook runs; any hook error restores the old SPTE and
   * becomes RET_PF_RETRY (`tdp_mmu_map_handle_target_level`, v6.18 tdp_mmu.c).
   */
  kvm_tdp_mmu_map(k, _vcpu, gfn, pfn) {
    const kvm = KVM;
    if (k.tdp_mmu_mirror_spte(kvm, gfn) !== 0) return RET_PF_SPURIOUS;
    k.tdp_mmu_set_mirror_spte(kvm, gfn, pfn);
    if (k.tdx_sept_map_leaf_spte(kvm, gfn, PG_LEVEL_4K, pfn) !== 0) {
      k.tdp_mmu_set_mirror_spte(kvm, gfn, 0);
      return RET_PF_RETRY;
    }
    return RET_PF_FIXED;
  },

  tdx_sept_map_leaf_spte(k, kvm, gfn, level, pfn) {
    if (k.KVM_BUG_ON(level !== PG_LEVEL_4K, kvm)) return -EIO;
    if (k.to_kvm_tdx(kvm).state !== 'TD_STATE_RUNNABLE') return k.tdx_mem_page_add(kvm, gfn, level, pfn);
    // TDH.MEM.PAGE.AUG (guest faults after finalization) is not on the populate path.
    return -EIO;
  },

  tdx_mem_page_add(k, kvm, gfn, _level, pfn) {
    const kvm_tdx = k.to_kvm_tdx(kvm);
    k.lockdep_assert_held(kvm.slots_lock);
    if (k.KVM_BUG_ON(k.pre_fault_allowed(kvm), kvm) || k.KVM_BUG_ON(kvm_tdx.page_add_src === 0, kvm)) return -EIO;
    const { err, entry, level_state } = k.tdh_mem_page_add('td', gfn * k.PAGE_SIZE, pfn, kvm_tdx.page_add_src);
    if (k.tdx_operand_busy(err)) return -EBUSY;
    if (k.TDX_BUG_ON_2(err, 'TDH_MEM_PAGE_ADD', entry, level_state, kvm)) return -EIO;
    return 0;
  },

  /**
   * "TDX requires TLB tracking before dropping private page": TRACK advances the TD's epoch, then
   * every vCPU is kicked out of the guest. Before the TD is runnable no vCPU has run, so there
   * is nothing to track. A failure bugs the VM but the caller carries on (the C returns void).
   */
  tdx_track(k, kvm) {
    if (k.to_kvm_tdx(kvm).state !== 'TD_STATE_RUNNABLE') return;
    const r = tdh_do_no_vcpus(k, () => k.tdh_mem_track('td'));
    k.TDX_BUG_ON(r.err, 'TDH_MEM_TRACK', kvm);
  },

  /**
   * BLOCK, TRACK, REMOVE, then WBINVD of the page, each a SEAMCALL of its own. A contended
   * BLOCK or REMOVE is retried once with every vCPU kept out (tdh_do_no_vcpus()); any other
   * failure, or a second contention, bugs the VM and returns at once: the page stays the TD's
   * (BLOCK, REMOVE) or keeps TD-keyed cache lines (WBINVD), and guest_memfd frees it all the
   * same. No page reference is held ("Drop superfluous page pinning in S-EPT management",
   * https://lore.kernel.org/all/20250807094241.4523-1-yan.y.zhao@intel.com/).
   */
  tdx_sept_remove_private_spte(k, kvm, gfn, level, pfn) {
    const kvm_tdx = k.to_kvm_tdx(kvm);
    const gpa = gfn * k.PAGE_SIZE;
    k.lockdep_assert_held(kvm.mmu_lock);
    if (k.KVM_BUG_ON(!kvm_tdx.hkid_assigned, kvm)) return;
    if (k.KVM_BUG_ON(level !== PG_LEVEL_4K, kvm)) return;
    let r = tdh_do_no_vcpus(k, () => k.tdh_mem_range_block('td', gpa));
    if (k.TDX_BUG_ON_2(r.err, 'TDH_MEM_RANGE_BLOCK', r.entry, r.level_state, kvm)) return;
    k.tdx_track(kvm);
    r = tdh_do_no_vcpus(k, () => k.tdh_mem_page_remove('td', gpa));
    if (k.TDX_BUG_ON_2(r.err, 'TDH_MEM_PAGE_REMOVE', r.entry, r.level_state, kvm)) return;
    r = k.tdh_phymem_page_wbinvd_hkid(0, pfn);
    if (k.TDX_BUG_ON(r.err, 'TDH_PHYMEM_PAGE_WBINVD', kvm)) return;
    k.tdx_quirk_reset_page(pfn);
  },

  tdx_zap_private_range(k, kvm, start, end) {
    k.write_lock(kvm.mmu_lock);
    for (let gfn = start; gfn < end; gfn++) {
      const pfn = k.tdp_mmu_mirror_spte(kvm, gfn);
      if (pfn === 0) continue;
      k.tdp_mmu_set_mirror_spte(kvm, gfn, 0);
      k.tdx_sept_remove_private_spte(kvm, gfn, PG_LEVEL_4K, pfn);
    }
    k.write_unlock(kvm.mmu_lock);
  },
};
