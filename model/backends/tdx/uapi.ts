import type { UserStructRef } from '../snp/uapi.js';
import type { u64 } from '../../kernel/u64.js';
import { vcpuMutex } from '../../kernel/services/kvmcore.js';

/**
 * TDX uAPI and TDX-module constants (arch/x86/include/uapi/asm/kvm.h, arch/x86/kvm/vmx/tdx_errno.h;
 * module behaviour from `intel/tdx-module@1666adc4`). TDX status codes do not fit a JS number,
 * so SEAMCALL results are bigints, as the C's u64.
 */
export const KVM_TDX_MEASURE_MEMORY_REGION = 1 << 0;

export const TDX_SUCCESS = 0n;
export const TDX_OPERAND_BUSY = 0x8000020000000000n;
export const TDX_OPERAND_INVALID = 0xc000010000000000n;
export const TDX_PAGE_METADATA_INCORRECT = 0xc000030000000000n;
export const TDX_OP_STATE_INCORRECT = 0xc000060800000000n;
export const TDX_EPT_ENTRY_STATE_INCORRECT = 0xc0000b0d00000000n;
export const TDX_EPT_ENTRY_NOT_PRESENT = 0xc0000b0c00000000n;
export const TDX_GPA_RANGE_NOT_BLOCKED = 0xc0000b0600000000n;
export const TDX_GPA_RANGE_ALREADY_BLOCKED = 0x00000b0700000000n;
export const TDX_TLB_TRACKING_NOT_DONE = 0xc0000b0800000000n;
/** Operand id in the low bits of a status: the GPA in RCX (tdx_errno.h). */
export const TDX_OPERAND_ID_RCX = 0x01n;

export const TDX_STATUS: Readonly<Record<string, bigint>> = {
  TDX_OPERAND_BUSY,
  TDX_OPERAND_INVALID,
  TDX_PAGE_METADATA_INCORRECT,
  TDX_OP_STATE_INCORRECT,
  TDX_EPT_ENTRY_STATE_INCORRECT,
  TDX_EPT_ENTRY_NOT_PRESENT,
  TDX_GPA_RANGE_NOT_BLOCKED,
  TDX_GPA_RANGE_ALREADY_BLOCKED,
  TDX_TLB_TRACKING_NOT_DONE,
  'TDX_EPT_ENTRY_STATE_INCORRECT|TDX_OPERAND_ID_RCX': TDX_EPT_ENTRY_STATE_INCORRECT | TDX_OPERAND_ID_RCX,
};

/** Bit that marks a shared GPA: GPAW 48, so bit 47 (`kvm_gfn_direct_bits`). */
export const TDX_SHARED_BIT = 2 ** 47;

/**
 * `struct kvm_tdx_init_mem_region`. `gpa` and `nr_pages` are u64s as the C computes with them:
 * `nr_pages << PAGE_SHIFT` loses its top bits from nr_pages 2^52 on, which a sum of numbers
 * would not. `source_addr` only moves by pages and is refused by GUP above TASK_SIZE, far below
 * 2^53, so it stays a number.
 */
export interface KvmTdxInitMemRegion {
  source_addr: number;
  gpa: u64;
  nr_pages: u64;
}

/** Bit that marks a shared GPA, as a u64 (for the region's checks). */
export const TDX_SHARED_BIT_U64: u64 = BigInt(TDX_SHARED_BIT);

/** `struct kvm_tdx_cmd` as the handler sees it. */
export interface KvmTdxCmd {
  readonly id: 'KVM_TDX_INIT_MEM_REGION';
  readonly flags: number;
  readonly data: UserStructRef<KvmTdxInitMemRegion>;
  hw_error: number;
}

/**
 * KVM_TDX_INIT_VCPU's `struct kvm_tdx_cmd`: `data` is the vCPU's initial RCX (TDH.VP.INIT's
 * argument), not a pointer.
 */
export interface KvmTdxInitVcpuCmd {
  readonly id: 'KVM_TDX_INIT_VCPU';
  readonly flags: number;
  readonly data: number;
  hw_error: number;
}

/** What the vCPU ioctl KVM_MEMORY_ENCRYPT_OP dispatches on. */
export type KvmTdxVcpuCmd = KvmTdxCmd | KvmTdxInitVcpuCmd;

/** `struct tdx_gmem_post_populate_arg`. */
export interface TdxGmemPostPopulateArg {
  readonly tag: 'tdx_gmem_post_populate_arg';
  readonly vcpu: Vcpu;
  readonly flags: number;
}

/** `struct kvm_vcpu`: vCPU 0, and vCPU 1 where the scenario creates it (Scenario.vcpus). */
export interface Vcpu {
  readonly vcpu_id: number;
  readonly mutex: string;
}

/** The vCPU whose fd an ioctl comes through. */
export function tdxVcpu(vcpu_id: number): Vcpu {
  return { vcpu_id, mutex: vcpuMutex(vcpu_id) };
}

export const VCPU0: Vcpu = tdxVcpu(0);

/** SEAMCALL extended error outputs (`u64 *entry, *level_state`). */
export interface SeamcallResult {
  readonly err: bigint;
  readonly entry: bigint;
  readonly level_state: bigint;
}
