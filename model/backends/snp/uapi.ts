/**
 * SEV-SNP uAPI and firmware ABI constants (include/uapi/linux/kvm.h,
 * include/uapi/linux/psp-sev.h; status values as spelled out in
 * https://lore.kernel.org/all/20241107232457.4059785-5-dionnaglaze@google.com/).
 */
import type { u64 } from '../../kernel/u64.js';
export const KVM_SEV_SNP_PAGE_TYPE_NORMAL = 0x1;
export const KVM_SEV_SNP_PAGE_TYPE_VMSA = 0x2;
export const KVM_SEV_SNP_PAGE_TYPE_ZERO = 0x3;
export const KVM_SEV_SNP_PAGE_TYPE_UNMEASURED = 0x4;
export const KVM_SEV_SNP_PAGE_TYPE_SECRETS = 0x5;
export const KVM_SEV_SNP_PAGE_TYPE_CPUID = 0x6;

export const SNP_PAGE_TYPES = [
  KVM_SEV_SNP_PAGE_TYPE_NORMAL,
  KVM_SEV_SNP_PAGE_TYPE_ZERO,
  KVM_SEV_SNP_PAGE_TYPE_UNMEASURED,
  KVM_SEV_SNP_PAGE_TYPE_SECRETS,
  KVM_SEV_SNP_PAGE_TYPE_CPUID,
] as const;

/** The page types the firmware accepts: the uAPI's and VMSA, which only KVM itself issues. */
export const SNP_FW_PAGE_TYPES: readonly number[] = [...SNP_PAGE_TYPES, KVM_SEV_SNP_PAGE_TYPE_VMSA];

/** The GPA KVM gives every vCPU's VMSA in SNP_LAUNCH_UPDATE (arch/x86/kvm/svm/sev.c). */
export const INITIAL_VMSA_GPA = 0xfffffffff000;

/** `struct kvm_vcpu` of an SNP guest (vCPU 0 is the only one modelled). */
export interface SvmVcpu {
  readonly vcpu_id: number;
  readonly mutex: string;
}

export const SVM_VCPU0: SvmVcpu = { vcpu_id: 0, mutex: 'vcpu0->mutex' };

export function snpPageTypeName(type: number): string {
  switch (type) {
    case KVM_SEV_SNP_PAGE_TYPE_NORMAL: return 'NORMAL';
    case KVM_SEV_SNP_PAGE_TYPE_VMSA: return 'VMSA';
    case KVM_SEV_SNP_PAGE_TYPE_ZERO: return 'ZERO';
    case KVM_SEV_SNP_PAGE_TYPE_UNMEASURED: return 'UNMEASURED';
    case KVM_SEV_SNP_PAGE_TYPE_SECRETS: return 'SECRETS';
    case KVM_SEV_SNP_PAGE_TYPE_CPUID: return 'CPUID';
    default: return `type${type}`;
  }
}

export const SEV_RET_SUCCESS = 0x00;
export const SEV_RET_INVALID_GUEST_STATE = 0x02;
export const SEV_RET_INVALID_ADDRESS = 0x09;
export const SEV_RET_INVALID_PARAM = 0x16;
export const SEV_RET_RESOURCE_LIMIT = 0x17;
export const SEV_RET_INVALID_PAGE_STATE = 0x1a;
export const SEV_RET_INVALID_PAGE_OWNER = 0x1c;

export const SEV_STATUS: Readonly<Record<string, number>> = {
  SEV_RET_INVALID_GUEST_STATE,
  SEV_RET_INVALID_ADDRESS,
  SEV_RET_INVALID_PARAM,
  SEV_RET_RESOURCE_LIMIT,
  SEV_RET_INVALID_PAGE_STATE,
  SEV_RET_INVALID_PAGE_OWNER,
};

export const SEV_CMD_SNP_LAUNCH_UPDATE = 'SEV_CMD_SNP_LAUNCH_UPDATE';
export const SEV_CMD_SNP_LAUNCH_FINISH = 'SEV_CMD_SNP_LAUNCH_FINISH';
export const SEV_CMD_SNP_PAGE_RECLAIM = 'SEV_CMD_SNP_PAGE_RECLAIM';
export type SevCmd = typeof SEV_CMD_SNP_LAUNCH_UPDATE | typeof SEV_CMD_SNP_LAUNCH_FINISH | typeof SEV_CMD_SNP_PAGE_RECLAIM;

export const PG_LEVEL_4K = 1;
export const PG_LEVEL_2M = 2;

/** `struct kvm_sev_snp_launch_update`. */
export interface KvmSevSnpLaunchUpdate {
  gfn_start: u64;
  uaddr: number;
  len: u64;
  type: number;
  flags: number;
}

/** `struct kvm_sev_cmd` as the handler sees it; `data` points at the params in user memory. */
export interface KvmSevCmd<T> {
  readonly data: UserStructRef<T>;
  error: number;
  readonly sev_fd: number;
}

/** A uAPI struct in user memory (what `u64_to_user_ptr(argp->data)` points at). */
export interface UserStructRef<T> {
  readonly tag: string;
  value: T;
  /** It lies in a read-only mapping: reading it works, writing it back faults. */
  readonly readOnly?: boolean;
  /** What the kernel's failed copy back would have written (set only when `readOnly`). */
  lost?: T;
}

/** `struct sev_gmem_populate_args`: the callback's opaque argument. */
export interface SevGmemPopulateArgs {
  readonly tag: 'sev_gmem_populate_args';
  type: number;
  sev_fd: number;
  fw_error: number;
}

/** `struct sev_data_snp_launch_update` (the fields the model reads; address as a pfn). */
export interface SevDataSnpLaunchUpdate {
  readonly gctx_paddr: number;
  readonly address: number;
  readonly page_size: number;
  readonly page_type: number;
}
