import { ENOMEM } from '../../kernel/errno.js';
import type { Impl } from '../../kernel/bind.js';
import { KVM, type Kvm } from '../../kernel/services/kvmcore.js';
import type { SnpK } from './sev.js';
import {
  INITIAL_VMSA_GPA, KVM_SEV_SNP_PAGE_TYPE_VMSA, PG_LEVEL_4K, SEV_CMD_SNP_LAUNCH_UPDATE, SVM_VCPU0,
  type KvmSevCmd, type SvmVcpu,
} from './uapi.js';

/**
 * The vCPU side of an SNP launch: each vCPU's VMSA page, handed to the firmware by
 * KVM_SEV_SNP_LAUNCH_FINISH and taken back when the vCPU is freed. One vCPU is modelled.
 */
export interface SevVmsaFns {
  /**
   * The VMSA allocation at vCPU creation: `svm->sev_es.vmsa = page_address(snp_safe_alloc_page())`,
   * in svm_vcpu_create() up to v6.17 and in sev_vcpu_create() (svm/sev.c) after Sean
   * Christopherson's move (https://lore.kernel.org/all/20250819234833.3080255-5-seanjc@google.com/).
   */
  sev_vcpu_create(vcpu: SvmVcpu): number;
  /** sev_free_vcpu(): the VMSA back to the hypervisor, then freed (leaked if the RMP will not let go). */
  sev_free_vcpu(vcpu: SvmVcpu): void;
  /** Writes the vCPU's register state into its VMSA page (the host writes it in the clear). */
  sev_es_sync_vmsa(vcpu: SvmVcpu): number;
  /** "Measure all vCPUs using LAUNCH_UPDATE before finalizing the launch flow." */
  snp_launch_update_vmsa(kvm: Kvm, argp: KvmSevCmd<Record<string, never>>): number;
}

/**
 * `data.address = __sme_pa(svm->sev_es.vmsa); __sev_issue_cmd(argp->sev_fd,
 * SEV_CMD_SNP_LAUNCH_UPDATE, &data, &argp->error)` with `data.page_type = SNP_PAGE_TYPE_VMSA`:
 * the same lines in every form of snp_launch_update_vmsa() (SNP v15 to v7.1).
 */
export function snp_issue_vmsa_update(k: Pick<SnpK, '__sev_issue_cmd'>, argp: KvmSevCmd<Record<string, never>>, pfn: number): number {
  const error = { value: argp.error };
  const ret = k.__sev_issue_cmd(argp.sev_fd, SEV_CMD_SNP_LAUNCH_UPDATE, {
    cmd: SEV_CMD_SNP_LAUNCH_UPDATE,
    data: { gctx_paddr: 0, address: pfn, page_size: PG_LEVEL_4K, page_type: KVM_SEV_SNP_PAGE_TYPE_VMSA },
  }, error);
  argp.error = error.value;
  return ret;
}

/**
 * The form of v6.11 .. v7.0, mirrored from
 * torvalds/linux:arch/x86/kvm/svm/sev.c@0097f9df996fe9c4a66a9f96a492391a8432affd (v7.0 has the
 * same: 7.0.1 backports the fixes below). Nothing remembers that LAUNCH_FINISH ran, so a second
 * one (or a retry after the firmware's LAUNCH_FINISH failed) syncs the VMSA again: a host write
 * into a page the RMP now gives the guest, an RMP #PF in sev_es_sync_vmsa() (Jethro Beekman's
 * report, https://lore.kernel.org/all/d98692e2-d96b-4c36-8089-4bc1e5cc3d57@fortanix.com/; fixed
 * in v7.1 by 9b9f7962e3e8, whose form kvm-x86-next.ts mirrors). No vcpu->mutex is taken here.
 *
 * Not modelled: the guest_debug / DR7 check (the model's vCPU has no debug state) and
 * svm_enable_lbrv(); on free, sev_flush_encrypted_page() (cache lines are not modelled on SNP).
 * The RMP #PF of a host write into a guest-owned page is reported (no-double-private's
 * hostAccessPrivate) and the run goes on, as for every host access the model judges; the C
 * oopses there, so what the model shows after it in the same ioctl (G26's privateTwice, the
 * LAUNCH_FINISH retry on a leaked VMSA in G27) is the path the kernel would take if the write
 * had not faulted, not a path it takes.
 */
export const sevVmsa: Impl<SevVmsaFns, SnpK & SevVmsaFns> = {
  sev_vcpu_create(k, vcpu) {
    const svm = k.to_svm(vcpu);
    const vmsa_page = k.snp_safe_alloc_page();
    if (!vmsa_page) return -ENOMEM;
    svm.vmsa = vmsa_page;
    return 0;
  },

  sev_free_vcpu(k, vcpu) {
    const svm = k.to_svm(vcpu);
    // "If it's an SNP guest, then the VMSA was marked in the RMP table as a guest-owned page.
    // Transition the page to hypervisor state before releasing it back to the system."
    if (k.sev_snp_guest(KVM) && k.kvm_rmp_make_shared(KVM, svm.vmsa, PG_LEVEL_4K)) return;
    k.__free_page(svm.vmsa);
  },

  sev_es_sync_vmsa(k, vcpu) {
    const svm = k.to_svm(vcpu);
    k.sev_es_copy_save_area(svm.vmsa);
    return 0;
  },

  snp_launch_update_vmsa(k, kvm, argp) {
    // kvm_for_each_vcpu()
    for (const vcpu of [SVM_VCPU0]) {
      const svm = k.to_svm(vcpu);
      const pfn = svm.vmsa;
      let ret = k.sev_es_sync_vmsa(vcpu);
      if (ret) return ret;
      // Transition the VMSA page to a firmware state.
      ret = k.rmp_make_private(pfn, INITIAL_VMSA_GPA, PG_LEVEL_4K, k.sev_get_asid(kvm), true);
      if (ret) return ret;
      ret = snp_issue_vmsa_update(k, argp, pfn);
      if (ret) {
        // The reclaim's result is ignored: a failure has bugged the VM and leaked the page.
        k.snp_page_reclaim(kvm, pfn);
        return ret;
      }
      svm.guest_state_protected = true;
    }
    return 0;
  },
};
