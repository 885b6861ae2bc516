import { emit, type World } from '../../world/World.js';
import { PROV_ZERO } from '../../world/provenance.js';
import { fillBytes, writePage } from '../../kernel/services/memory.js';
import { kvmBug } from '../../kernel/services/bug.js';
import { pageOrBad } from '../../kernel/pages.js';
import { invokeFirmware, type FirmwareCommand } from '../firmwareCommand.js';
import { tdxOf } from './access.js';
import { TDH_MEM_PAGE_ADD } from './firmware/TDH_MEM_PAGE_ADD.js';
import { TDH_MEM_PAGE_REMOVE } from './firmware/TDH_MEM_PAGE_REMOVE.js';
import { TDH_MEM_RANGE_BLOCK } from './firmware/TDH_MEM_RANGE_BLOCK.js';
import { TDH_MEM_TRACK } from './firmware/TDH_MEM_TRACK.js';
import { TDH_PHYMEM_PAGE_WBINVD } from './firmware/TDH_PHYMEM_PAGE_WBINVD.js';
import { TDH_MR_EXTEND } from './firmware/TDH_MR_EXTEND.js';
import { TDH_MR_FINALIZE } from './firmware/TDH_MR_FINALIZE.js';
import type { TdxState, TdxVcpuState } from './state.js';
import { TDX_OPERAND_BUSY, TDX_SHARED_BIT_U64, TDX_STATUS, type SeamcallResult, type Vcpu } from './uapi.js';
import type { u64 } from '../../kernel/u64.js';

/**
 * SEAMCALL wrappers of arch/x86/virt/vmx/tdx/tdx.c and the kvm_tdx / mirror-SPTE accessors the
 * TDX code reads. `td` stands for `&kvm_tdx->td`.
 */
export interface TdxServices {
  tdh_mem_page_add(td: string, gpa: number, pfn: number, source: number): SeamcallResult;
  tdh_mr_extend(td: string, gpa: number): SeamcallResult;
  tdh_mr_finalize(td: string): SeamcallResult;
  tdh_mem_range_block(td: string, gpa: number): SeamcallResult;
  tdh_mem_track(td: string): SeamcallResult;
  tdh_mem_page_remove(td: string, gpa: number): SeamcallResult;
  tdh_phymem_page_wbinvd_hkid(hkid: number, pfn: number): SeamcallResult;
  tdx_operand_busy(err: bigint): boolean;
  /** KVM_BUG_ON(err) with the SEAMCALL's name (and outputs) in the message. */
  TDX_BUG_ON(err: bigint, op: string, kvm: unknown): boolean;
  TDX_BUG_ON_2(err: bigint, op: string, entry: bigint, level_state: bigint, kvm: unknown): boolean;
  to_kvm_tdx(kvm: unknown): TdxState['kvm_tdx'];
  /** `container_of(vcpu, struct vcpu_tdx, vcpu)`: the state of the vCPU with that id. */
  to_tdx(vcpu: Vcpu): TdxVcpuState;
  vt_is_tdx_private_gpa(kvm: unknown, gpa: u64): boolean;
  /** The mirror SPTE of `gfn`: its pfn, or 0 when not present. */
  tdp_mmu_mirror_spte(kvm: unknown, gfn: number): number;
  tdp_mmu_set_mirror_spte(kvm: unknown, gfn: number, pfn: number): void;
  /** Clears a page the TD gave back (tdx_quirk_reset_page). */
  tdx_quirk_reset_page(pfn: number): void;
  /** The same, by its v6.16 .. v6.18 name. */
  tdx_clear_page(pfn: number): void;
}

export function tdxServices(w: World): TdxServices {
  const call = <A, R>(cmd: FirmwareCommand<A, R>, args: A): SeamcallResult => {
    const r = invokeFirmware(w, cmd, args);
    return { err: r.kind === 'succeeded' ? 0n : (TDX_STATUS[r.status] ?? 1n), entry: 0n, level_state: 0n };
  };
  const ps = w.geo.page_size;
  return {
    tdh_mem_page_add(_td, gpa, pfn, source) {
      if (source !== 0) pageOrBad(w, source, 'tdh_mem_page_add source');
      return call(TDH_MEM_PAGE_ADD, { gpa, gfn: Math.floor(gpa / ps), pfn, source });
    },
    tdh_mr_extend: (_td, gpa) => call(TDH_MR_EXTEND, { gpa }),
    tdh_mr_finalize: () => call(TDH_MR_FINALIZE, {}),
    tdh_mem_range_block: (_td, gpa) => call(TDH_MEM_RANGE_BLOCK, { gfn: Math.floor(gpa / ps) }),
    tdh_mem_track: () => call(TDH_MEM_TRACK, {}),
    tdh_mem_page_remove: (_td, gpa) => call(TDH_MEM_PAGE_REMOVE, { gfn: Math.floor(gpa / ps) }),
    tdh_phymem_page_wbinvd_hkid: (_hkid, pfn) => call(TDH_PHYMEM_PAGE_WBINVD, { pfn }),
    tdx_operand_busy: (err) => err === TDX_OPERAND_BUSY,
    TDX_BUG_ON: (err, op) => kvmBug(w, 'TDX_BUG_ON', err !== 0n, `SEAMCALL ${op} failed: 0x${err.toString(16)}`),
    TDX_BUG_ON_2: (err, op) => kvmBug(w, 'TDX_BUG_ON_2', err !== 0n, `SEAMCALL ${op} failed: 0x${err.toString(16)}`),
    to_kvm_tdx: () => tdxOf(w).kvm_tdx,
    to_tdx(vcpu) {
      const tdx = tdxOf(w).vcpus[vcpu.vcpu_id];
      if (tdx === undefined) throw new Error(`to_tdx(): vCPU ${vcpu.vcpu_id} was never created`);
      return tdx;
    },
    vt_is_tdx_private_gpa: (_kvm, gpa) => (gpa & TDX_SHARED_BIT_U64) === 0n,
    tdp_mmu_mirror_spte: (_kvm, gfn) => tdxOf(w).mirror.get(gfn) ?? 0,
    tdp_mmu_set_mirror_spte(_kvm, gfn, pfn) {
      const mirror = tdxOf(w).mirror;
      const before = mirror.get(gfn);
      if (pfn === 0) mirror.delete(gfn);
      else mirror.set(gfn, pfn);
      emit(w, { kind: 'fw_state', what: 'mirror spte', key: `gfn 0x${gfn.toString(16)}`, before: before === undefined ? 'none' : `pfn 0x${before.toString(16)}`, after: pfn === 0 ? 'none' : `pfn 0x${pfn.toString(16)}` });
    },
    tdx_quirk_reset_page(pfn) {
      writePage(w, pfn, 0, fillBytes(ps, 0, PROV_ZERO), 'host');
    },
    tdx_clear_page(pfn) {
      writePage(w, pfn, 0, fillBytes(ps, 0, PROV_ZERO), 'host');
    },
  };
}
