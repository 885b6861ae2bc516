/**
 * Arm CCA uAPI and RMI ABI constants: arch/arm64/include/uapi/asm/kvm.h (KVM_ARM_RMI_POPULATE,
 * v12 06/46 and later) and asm/rmi_smc.h / include/linux/arm-smccc-rmi.h (RMM 1.0 and 2.0).
 */
import type { u64 } from '../../kernel/u64.js';

export const RMI_SUCCESS = 0;
export const RMI_ERROR_INPUT = 1;
export const RMI_ERROR_REALM = 2;
export const RMI_ERROR_REC = 3;
export const RMI_ERROR_RTT = 4;
export const RMI_BUSY = 10;

export const RMI_STATUS: Readonly<Record<string, number>> = { RMI_ERROR_INPUT, RMI_ERROR_REALM, RMI_ERROR_REC, RMI_ERROR_RTT, RMI_BUSY };

/** `RMI_RETURN_STATUS(ret)`: bits [7:0]. */
export function RMI_RETURN_STATUS(ret: number): number {
  return ret & 0xff;
}

/** `RMI_RETURN_INDEX(ret)`: bits [15:8], the RTT level for RMI_ERROR_RTT. */
export function RMI_RETURN_INDEX(ret: number): number {
  return (ret >> 8) & 0xff;
}

export const RMI_NO_MEASURE_CONTENT = 0;
export const RMI_MEASURE_CONTENT = 1;

/** `struct kvm_arm_rmi_populate` (v12 06/46; _IOWR from v13 on). */
export interface KvmArmRmiPopulate {
  base: number;
  /** A __u64: base + size may wrap, which the trees test for. */
  size: u64;
  source_uaddr: number;
  flags: number;
  reserved: number;
}

export const KVM_ARM_RMI_POPULATE_FLAGS_MEASURE = 1 << 0;

/** `void *opaque` of populate_region_cb(): `&data_flags`. */
export interface RmiDataFlags {
  readonly tag: 'rmi_data_flags';
  readonly data_flags: number;
}
