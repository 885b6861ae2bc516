import { EFAULT, EINTR, EINVAL, EIO, EOPNOTSUPP } from './errno.js';
import { u64, u64_add, u64_sub, type u64 as U64 } from './u64.js';
import type { Impl } from './bind.js';
import type { KernelServices } from './Kernel.js';
import { KVM } from './services/kvmcore.js';
import type { UserStructRef } from '../backends/snp/uapi.js';

/** `struct kvm_pre_fault_memory` (include/uapi/linux/kvm.h): three __u64s and padding. */
export interface KvmPreFaultMemory {
  gpa: U64;
  size: U64;
  flags: U64;
}

/** The vCPU whose fd the ioctl comes through (`struct kvm_vcpu`: its id and its mutex). */
export interface PreFaultVcpu {
  readonly vcpu_id: number;
  readonly mutex: string;
}

/**
 * KVM_PRE_FAULT_MEMORY, a vCPU ioctl since v6.11 (CONFIG_KVM_GENERIC_PRE_FAULT_MEMORY, x86):
 * virt/kvm/kvm_main.c's handler as Isaku Yamahata's series added it (its x86 patch:
 * https://lore.kernel.org/all/9b866a0ae7147f96571c439e75429a03dcb659b6.1712785629.git.isaku.yamahata@intel.com/;
 * later trees only renamed its SRCU calls), and x86's kvm_arch_vcpu_pre_fault_memory() up to its
 * first test.
 *
 * A confidential VM refuses it until its launch is over: `kvm->arch.pre_fault_allowed` is false
 * for an SNP or TDX VM from kvm_arch_init_vm() until snp_launch_finish() or tdx_td_finalize()
 * sets it (5932ca411e53, "disallow pre-fault for SNP VMs before initialization", v6.11-rc,
 * https://lore.kernel.org/all/20240726185157.72821-2-pbonzini@redhat.com/; TDX was merged with
 * it), and it is kvm_arch_vcpu_pre_fault_memory()'s first test in every tree since, so before
 * then every call answers -EOPNOTSUPP with nothing mapped and the range as it was (kernel-facts
 * §2.5, §3.4). That is the part modelled: the call around populate. Once the launch is finished
 * it would fault gfns into the guest (kvm_tdp_map_page(): kvm_gmem_get_pfn() and SNP's
 * sev_gmem_prepare() or TDX's TDH.MEM.PAGE.AUG), which is the guest's runtime fault path, not
 * populate's, and is not modelled: the scenario schema refuses KVM_PRE_FAULT_MEMORY after a
 * launch-finishing op, and a revision that allows it earlier stops the run with a model error
 * rather than a verdict.
 */
export interface PreFaultMemoryFns {
  /** kvm_vcpu_ioctl()'s KVM_PRE_FAULT_MEMORY case, under the vCPU's mutex as every locked vCPU ioctl. */
  kvm_vcpu_ioctl_pre_fault_memory(vcpu: PreFaultVcpu, argp: UserStructRef<KvmPreFaultMemory>): number;
  kvm_vcpu_pre_fault_memory(vcpu: PreFaultVcpu, range: KvmPreFaultMemory): number;
  /** The arch's step: how many bytes from `range.gpa` it mapped, or -errno. */
  kvm_arch_vcpu_pre_fault_memory(vcpu: PreFaultVcpu, range: KvmPreFaultMemory): number;
}

type K = KernelServices & PreFaultMemoryFns;

/** The generic handler (virt/kvm/kvm_main.c). */
export const preFaultMemory: Impl<Omit<PreFaultMemoryFns, 'kvm_arch_vcpu_pre_fault_memory'>, K> = {
  kvm_vcpu_ioctl_pre_fault_memory(k, vcpu, argp) {
    // mutex_lock_killable(&vcpu->mutex): killable only while it sleeps, never here.
    return k.guard_mutex(vcpu.mutex, () => {
      const range = k.copy_struct_from_user(argp);
      let r = k.kvm_vcpu_pre_fault_memory(vcpu, range);
      // The range left is passed back whatever happened.
      if (k.copy_struct_to_user(argp, range)) r = -EFAULT;
      return r;
    });
  },

  kvm_vcpu_pre_fault_memory(k, vcpu, range) {
    if (range.flags !== 0n) return -EINVAL;
    const ps = u64(k.PAGE_SIZE);
    if (range.gpa % ps !== 0n || range.size % ps !== 0n || u64_add(range.gpa, range.size) <= range.gpa) return -EINVAL;
    // vcpu_load() is not modelled (it touches no page).
    k.read_lock(KVM.srcu);
    const full_size = range.size;
    let r: number;
    do {
      if (k.signal_pending('current')) {
        r = -EINTR;
        break;
      }
      r = k.kvm_arch_vcpu_pre_fault_memory(vcpu, range);
      if (k.WARN_ON_ONCE(r === 0 || r === -EIO)) break;
      if (r < 0) break;
      range.size = u64_sub(range.size, u64(r));
      range.gpa = u64_add(range.gpa, u64(r));
      k.cond_resched();
    } while (range.size !== 0n);
    k.read_unlock(KVM.srcu);
    // Success if at least one page was mapped.
    return full_size === range.size ? r : 0;
  },
};

/** x86 (arch/x86/kvm/mmu/mmu.c): the same first test in every tree from v6.11 on. */
export const x86PreFaultMemory: Impl<Pick<PreFaultMemoryFns, 'kvm_arch_vcpu_pre_fault_memory'>, K> = {
  kvm_arch_vcpu_pre_fault_memory(k) {
    if (!k.pre_fault_allowed(KVM)) return -EOPNOTSUPP;
    throw new Error('kvm_arch_vcpu_pre_fault_memory(): a fault once the launch is finished (pre_fault_allowed set) is not modelled');
  },
};
