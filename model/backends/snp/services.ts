import { EFAULT, EINVAL, EIO } from '../../kernel/errno.js';
import { emit, type World } from '../../world/World.js';
import { hostPage, isValidPfn } from '../../world/hostMemory.js';
import { invokeFirmware } from '../firmwareCommand.js';
import { snpOf } from './access.js';
import { RMPUPDATE } from './firmware/RMPUPDATE.js';
import { SNP_LAUNCH_FINISH } from './firmware/SNP_LAUNCH_FINISH.js';
import { SNP_LAUNCH_UPDATE } from './firmware/SNP_LAUNCH_UPDATE.js';
import { SNP_PAGE_RECLAIM } from './firmware/SNP_PAGE_RECLAIM.js';
import { rmpEntry, type SnpState } from './state.js';
import {
  SEV_CMD_SNP_LAUNCH_FINISH, SEV_CMD_SNP_LAUNCH_UPDATE, SEV_CMD_SNP_PAGE_RECLAIM, SEV_STATUS,
  type SevCmd, type SevDataSnpLaunchUpdate, type SvmVcpu,
} from './uapi.js';
import { allocPage, pageRefDec } from '../../kernel/pages.js';
import { fillBytes, writePage } from '../../kernel/services/memory.js';
import { PROV_GARBAGE } from '../../world/provenance.js';

/** An `int *` out-parameter: the callee writes `value`. */
export interface OutInt {
  value: number;
}

/** Firmware command data for __sev_issue_cmd()/sev_do_cmd(), by command. */
export type SevCmdData =
  | { readonly cmd: typeof SEV_CMD_SNP_LAUNCH_UPDATE; readonly data: SevDataSnpLaunchUpdate }
  | { readonly cmd: typeof SEV_CMD_SNP_PAGE_RECLAIM; readonly data: { readonly paddr: number } }
  | { readonly cmd: typeof SEV_CMD_SNP_LAUNCH_FINISH; readonly data: Record<string, never> };

/**
 * Services below KVM's sev.c: the RMP helpers of arch/x86/virt/svm/sev.c and the PSP command
 * transport of drivers/crypto/ccp/sev-dev.c. `struct kvm_sev_info` is reduced to what the
 * populate path reads: the ASID and whether the SNP context exists.
 */
export interface SnpServices {
  /** Out-parameters `assigned` and `level` as fields of the result. */
  snp_lookup_rmpentry(pfn: number): { ret: number; assigned: boolean; level: number };
  rmp_make_private(pfn: number, gpa: number, level: number, asid: number, immutable: boolean): number;
  rmp_make_shared(pfn: number, level: number): number;
  /** Puts pages on snp_leaked_pages_list. Takes no page reference (arch/x86/virt/svm/sev.c). */
  snp_leak_pages(pfn: number, npages: number): void;
  /** Issues a PSP command; on failure returns -EIO and writes the firmware status to `error`. */
  __sev_issue_cmd(sev_fd: number, id: SevCmd, data: SevCmdData, error: OutInt): number;
  sev_do_cmd(id: SevCmd, data: SevCmdData, error: OutInt): number;
  sev_get_asid(kvm: unknown): number;
  /** `sev->snp_context` is set (SNP_LAUNCH_START ran). */
  sev_snp_context(kvm: unknown): boolean;
  /**
   * snp_context_create() and the rest of a successful snp_launch_start(): SNP_GCTX_CREATE,
   * SNP_LAUNCH_START and SNP_ACTIVATE are not modelled as firmware commands (none of them touches
   * guest_memfd pages); the guest context exists from here, in GSTATE_LAUNCH.
   */
  snp_context_create(kvm: unknown): void;
  sev_snp_guest(kvm: unknown): boolean;
  /** `to_svm(vcpu)`, reduced to the VMSA page and `vcpu->arch.guest_state_protected`. */
  to_svm(vcpu: SvmVcpu): SnpState['vcpu'];
  /** A kernel page for a VMSA (pfn), or 0 when none is left. */
  snp_safe_alloc_page(): number;
  __free_page(pfn: number): void;
  /**
   * The copy at the heart of sev_es_sync_vmsa(): the vCPU's save area (VMCB save area, GPRs,
   * RIP, XCR0, PKRU, XSS, DR6, sev_features, FPU state) written into the VMSA page through the
   * direct map: a host write, which the RMP faults once the page is the guest's.
   */
  sev_es_copy_save_area(pfn: number): void;
}

export function snpServices(w: World): SnpServices {
  const rmpupdate = (pfn: number, next: Parameters<typeof RMPUPDATE.success>[0]['next']): number => {
    if (!isValidPfn(w.host, pfn)) return -EFAULT;
    const r = invokeFirmware(w, RMPUPDATE, { pfn, next });
    return r.kind === 'succeeded' ? 0 : -EFAULT;
  };
  const issue = (data: SevCmdData, error: OutInt): number => {
    const r =
      data.cmd === SEV_CMD_SNP_LAUNCH_UPDATE ? invokeFirmware(w, SNP_LAUNCH_UPDATE, data.data)
      : data.cmd === SEV_CMD_SNP_PAGE_RECLAIM ? invokeFirmware(w, SNP_PAGE_RECLAIM, data.data)
      : invokeFirmware(w, SNP_LAUNCH_FINISH, data.data);
    if (r.kind === 'succeeded') return 0;
    error.value = SEV_STATUS[r.status] ?? 0xff;
    return -EIO;
  };
  return {
    snp_lookup_rmpentry(pfn) {
      if (!isValidPfn(w.host, pfn)) return { ret: -EINVAL, assigned: false, level: 0 };
      return { ret: 0, assigned: rmpEntry(snpOf(w), pfn).assigned, level: 1 };
    },
    rmp_make_private: (pfn, gpa, _level, asid, immutable) => rmpupdate(pfn, { assigned: true, asid, gpa, immutable, validated: false }),
    rmp_make_shared: (pfn) => rmpupdate(pfn, { assigned: false, asid: 0, gpa: 0, immutable: false, validated: false }),
    snp_leak_pages(pfn, npages) {
      const s = snpOf(w);
      for (let i = 0; i < npages; i++) {
        s.kernel.leaked.push(pfn + i);
        emit(w, { kind: 'page_leak', pfn: pfn + i, by: 'snp_leak_pages' });
        const p = hostPage(w.host, pfn + i);
        if (p !== undefined) emit(w, { kind: 'note', text: `pr_warn: Leaking PFN range 0x${(pfn + i).toString(16)} (refcount ${p.refcount})` });
      }
    },
    __sev_issue_cmd: (_fd, _id, data, error) => issue(data, error),
    sev_do_cmd: (_id, data, error) => issue(data, error),
    sev_get_asid: () => snpOf(w).guest.asid,
    sev_snp_context: () => snpOf(w).kernel.snp_context,
    to_svm: () => snpOf(w).vcpu,
    snp_safe_alloc_page() {
      return allocPage(w, { kind: 'kernel', what: 'VMSA' }, 'highest')?.pfn ?? 0;
    },
    __free_page(pfn) {
      const p = hostPage(w.host, pfn);
      if (p !== undefined) pageRefDec(w, p, '__free_page');
    },
    sev_es_copy_save_area(pfn) {
      writePage(w, pfn, 0, fillBytes(w.geo.page_size, 0x5e, PROV_GARBAGE), 'host');
    },
    snp_context_create() {
      snpOf(w).kernel.snp_context = true;
      emit(w, { kind: 'fw_state', what: 'gctx', key: 'guest', before: 'none', after: 'GSTATE_LAUNCH' });
    },
    sev_snp_guest: () => w.fw.backend === 'snp',
  };
}
