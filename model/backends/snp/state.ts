import type { MeasureEntry } from '../../world/events.js';

/**
 * SEV-SNP firmware and vendor-KVM state. RMP entries follow the ABI's states, as read from
 * AMD's PSP firmware (`amd/AMD-ASPFW:fw/psp_bl_uapps/sev_uapp/src/sev_mcmd.c@3ca6650d`):
 * hypervisor (unassigned) → pre-guest (assigned, immutable, by rmp_make_private(.., true)) →
 * guest-valid (LAUNCH_UPDATE: validated, immutable cleared); SNP_PAGE_RECLAIM takes a
 * pre-guest page to guest-invalid (immutable cleared), and RMPUPDATE makes it shared.
 */
export interface RmpEntry {
  readonly assigned: boolean;
  readonly asid: number;
  readonly gpa: number;
  readonly immutable: boolean;
  readonly validated: boolean;
}

export const RMP_SHARED: RmpEntry = { assigned: false, asid: 0, gpa: 0, immutable: false, validated: false };

export interface SnpState {
  readonly backend: 'snp';
  /** pfn → RMP entry; absent means hypervisor-owned. */
  readonly rmp: Map<number, RmpEntry>;
  /** The guest context (GCTX) of the one SNP guest. */
  readonly guest: { snp_state: 'GSTATE_LAUNCH' | 'GSTATE_RUNNING'; readonly asid: number; readonly ld: MeasureEntry[] };
  /** Kernel side: `sev->snp_context` exists (KVM_SEV_SNP_LAUNCH_START ran), and `snp_leaked_pages_list`. */
  readonly kernel: { snp_context: boolean; readonly leaked: number[] };
  /**
   * vCPU 0 (`struct vcpu_svm`): the pfn of its VMSA page (`svm->sev_es.vmsa`, allocated when the
   * vCPU is created) and `vcpu->arch.guest_state_protected` (set once
   * snp_launch_update_vmsa() has handed the VMSA to the firmware).
   */
  readonly vcpu: { vmsa: number; guest_state_protected: boolean };
}

export const SNP_ASID = 1;

/** `started`: the scenario begins after KVM_SEV_SNP_LAUNCH_START (Scenario.launch absent). */
export function createSnpState(started = true): SnpState {
  return { backend: 'snp', rmp: new Map(), guest: { snp_state: 'GSTATE_LAUNCH', asid: SNP_ASID, ld: [] }, kernel: { snp_context: started, leaked: [] }, vcpu: { vmsa: 0, guest_state_protected: false } };
}

export function rmpEntry(s: SnpState, pfn: number): RmpEntry {
  return s.rmp.get(pfn) ?? RMP_SHARED;
}

export function rmpStateName(e: RmpEntry): string {
  if (!e.assigned) return 'hypervisor';
  const where = `asid ${e.asid} gpa 0x${e.gpa.toString(16)}`;
  if (e.immutable) return `pre-guest (${where})`;
  return e.validated ? `guest-valid (${where})` : `guest-invalid (${where})`;
}

export function isPreGuest(e: RmpEntry): boolean {
  return e.assigned && e.immutable && !e.validated;
}
