import { EINVAL, EIO, ENOTTY } from '../../kernel/errno.js';
import type { Impl } from '../../kernel/bind.js';
import type { KernelServices } from '../../kernel/Kernel.js';
import type { Kvm } from '../../kernel/services/kvmcore.js';
import type { SnpServices } from './services.js';
import type { SevVmsaFns } from './sev_vmsa.js';
import {
  PG_LEVEL_4K, SEV_CMD_SNP_LAUNCH_FINISH, SEV_CMD_SNP_PAGE_RECLAIM,
  type KvmSevCmd, type KvmSevSnpLaunchUpdate,
} from './uapi.js';

/**
 * The parts of arch/x86/kvm/svm/sev.c that no modelled revision changes, mirrored from
 * kvm-x86/linux:arch/x86/kvm/svm/sev.c@1a27afa0511e404fd87c1a5e643945940ef72f90 (identical in
 * this respect back to v6.11). A revision provides snp_launch_update() and the callback.
 */
export interface SevCommonFns {
  snp_page_reclaim(kvm: Kvm, pfn: number): number;
  kvm_rmp_make_shared(kvm: Kvm, pfn: number, level: number): number;
  /** kvm_arch_gmem_invalidate() for SNP: runs when a guest_memfd folio is freed. */
  sev_gmem_invalidate(start: number, end: number): void;
  snp_launch_start(kvm: Kvm, argp: KvmSevCmd<Record<string, never>>): number;
  snp_launch_finish(kvm: Kvm, argp: KvmSevCmd<Record<string, never>>): number;
  /** KVM_MEMORY_ENCRYPT_OP for the SNP launch commands (`sev_mem_enc_ioctl`). */
  sev_mem_enc_ioctl(kvm: Kvm, cmd: SevIoctl): number;
}

export type SevIoctl =
  | { readonly id: 'KVM_SEV_SNP_LAUNCH_START'; readonly argp: KvmSevCmd<Record<string, never>> }
  | { readonly id: 'KVM_SEV_SNP_LAUNCH_UPDATE'; readonly argp: KvmSevCmd<KvmSevSnpLaunchUpdate> }
  | { readonly id: 'KVM_SEV_SNP_LAUNCH_FINISH'; readonly argp: KvmSevCmd<Record<string, never>> };

/** What every SNP revision must provide. */
export interface SnpRevisionEntry {
  snp_launch_update(kvm: Kvm, argp: KvmSevCmd<KvmSevSnpLaunchUpdate>): number;
}

export type SnpK = KernelServices & SnpServices & SevCommonFns & SevVmsaFns & SnpRevisionEntry;

export const sevCommon: Impl<SevCommonFns, SnpK> = {
  /** Bug the VM and leak the page if RMPUPDATE to shared fails. */
  kvm_rmp_make_shared(k, kvm, pfn, level) {
    if (k.KVM_BUG_ON(k.rmp_make_shared(pfn, level) !== 0, kvm)) {
      k.snp_leak_pages(pfn, 1);
      return -EIO;
    }
    return 0;
  },

  /** Bug the VM and leak the page if reclaim fails, or if the RMP entry can't be made shared. */
  snp_page_reclaim(k, kvm, pfn) {
    const fw_err = { value: 0 };
    const rc = k.sev_do_cmd(SEV_CMD_SNP_PAGE_RECLAIM, { cmd: SEV_CMD_SNP_PAGE_RECLAIM, data: { paddr: pfn } }, fw_err);
    if (k.KVM_BUG(rc !== 0, kvm, `Failed to reclaim PFN ${pfn.toString(16)}, rc ${rc} fw_err ${fw_err.value}`)) {
      k.snp_leak_pages(pfn, 1);
      return -EIO;
    }
    if (k.kvm_rmp_make_shared(kvm, pfn, PG_LEVEL_4K) !== 0) return -EIO;
    return rc;
  },

  /** 4K-only form of sev_gmem_invalidate(): RMP entries back to shared; a failure only WARNs. */
  sev_gmem_invalidate(k, start, end) {
    for (let pfn = start; pfn < end; pfn++) {
      const { ret: rc, assigned } = k.snp_lookup_rmpentry(pfn);
      if (rc !== 0 || !assigned) continue;
      const r = k.rmp_make_shared(pfn, PG_LEVEL_4K);
      if (k.WARN(r !== 0, `SEV: Failed to update RMP entry for PFN 0x${pfn.toString(16)} error ${r}`)) continue;
      k.cond_resched();
    }
  },

  /**
   * One guest context per VM: a second KVM_SEV_SNP_LAUNCH_START is refused. The op carries
   * `flags` 0 and a policy the host supports, so the params checks between are not modelled.
   */
  snp_launch_start(k, kvm, _argp) {
    if (!k.sev_snp_guest(kvm)) return -ENOTTY;
    if (k.sev_snp_context(kvm)) return -EINVAL;
    k.snp_context_create(kvm);
    return 0;
  },

  /**
   * The vCPUs' VMSAs measured (snp_launch_update_vmsa(), whose form changed in v7.1: see
   * sev_vmsa.ts), then SNP_LAUNCH_FINISH. The params (ID block, host data) are not modelled.
   */
  snp_launch_finish(k, kvm, argp) {
    if (!k.sev_snp_guest(kvm)) return -ENOTTY;
    if (!k.sev_snp_context(kvm)) return -EINVAL;
    const vmsa = k.snp_launch_update_vmsa(kvm, argp);
    if (vmsa) return vmsa;
    const error = { value: argp.error };
    const ret = k.sev_do_cmd(SEV_CMD_SNP_LAUNCH_FINISH, { cmd: SEV_CMD_SNP_LAUNCH_FINISH, data: {} }, error);
    argp.error = error.value;
    if (ret !== 0) return ret;
    k.set_pre_fault_allowed(kvm, true);
    return 0;
  },

  sev_mem_enc_ioctl(k, kvm, cmd) {
    return k.guard_mutex(kvm.lock, () => {
      switch (cmd.id) {
        case 'KVM_SEV_SNP_LAUNCH_START': return k.snp_launch_start(kvm, cmd.argp);
        case 'KVM_SEV_SNP_LAUNCH_UPDATE': return k.snp_launch_update(kvm, cmd.argp);
        case 'KVM_SEV_SNP_LAUNCH_FINISH': return k.snp_launch_finish(kvm, cmd.argp);
      }
    });
  },
};
