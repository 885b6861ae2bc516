import type { Impl } from '../kernel/bind.js';
import { KVM, type Kvm } from '../kernel/services/kvmcore.js';
import type { TdxK } from '../backends/tdx/tdx.js';
import { tdxVcpu, type KvmTdxCmd, type KvmTdxInitMemRegion, type Vcpu } from '../backends/tdx/uapi.js';
import type { UserStructRef } from '../backends/snp/uapi.js';
import { KernelCFault, toNumber, u64 } from './wasm.js';
import { KernelCState, USER_ARG_ADDR, exportFn, instantiate, perKernel, type KernelCK, type UserArg } from './imports.js';

/**
 * TDX's KVM_TDX_INIT_MEM_REGION run by a kernel tree's own C (kernelc/prelude/kshim_tdx.h and
 * kshim_tdx.c): the tree's tdx_vcpu_init_mem_region(), its tdx_gmem_post_populate() and
 * guest_memfd.c's kvm_gmem_populate(), and the S-EPT hook tdx_sept_map_leaf_spte() with the
 * TDH.MEM.PAGE.ADD it issues. The TDP MMU between the callback and the hook
 * (kvm_tdp_mmu_map_private_pfn()) and the TDX module are the model's: the C calls the MMU, which
 * calls the C's hook back, on the same instance.
 */

type K = TdxK & KernelCK;

/** `enum kvm_tdx_cmd_id` (asm/kvm.h). */
const KVM_TDX_INIT_MEM_REGION = 3;

interface TdxExports {
  readonly kshim_new_kvm: () => bigint;
  readonly kshim_new_vcpu: (kvm: bigint, id: number) => bigint;
  readonly kshim_tdx_sync: (vcpu: bigint, td_runnable: number, vcpu_initialized: number, pre_fault_allowed: number, chunk: bigint) => void;
  readonly kshim_entry_tdx_vcpu_init_mem_region: (vcpu: bigint, cmd: bigint) => number;
  readonly kshim_entry_tdx_sept_map_leaf_spte: (kvm: bigint, gfn: bigint, level: number, pfn: bigint) => number;
}

/** `struct kvm_tdx_init_mem_region` at its uAPI offsets (asm/kvm.h: three u64s). */
function regionArg(ref: UserStructRef<KvmTdxInitMemRegion>, k: K): UserArg {
  return {
    size: 24,
    read(mem, to) {
      const v = k.copy_struct_from_user(ref);
      mem.setU64(to, BigInt(v.source_addr));
      mem.setU64(to + 8n, v.gpa);
      mem.setU64(to + 16n, v.nr_pages);
    },
    write(mem, from) {
      const value: KvmTdxInitMemRegion = { source_addr: toNumber(mem.u64(from)), gpa: mem.u64(from + 8n), nr_pages: mem.u64(from + 16n) };
      return k.copy_struct_to_user(ref, value) === 0 ? 0 : 24;
    },
  };
}

/** A SEAMCALL's status as the C's u64 return (an i64 across the boundary). */
const status = (err: bigint): bigint => BigInt.asIntN(64, err);

/** One scenario's instance of the build, made on its first call. */
class TdxInstance {
  readonly s: KernelCState;
  private readonly k: K;
  private readonly tdx: TdxExports;
  /** The C's `struct kvm_vcpu` of each vCPU the model has called in with, by vcpu_id. */
  private readonly vcpus = new Map<number, bigint>();
  private readonly cmd: bigint;

  constructor(module: WebAssembly.Module, k: K) {
    const s = new KernelCState(k);
    this.k = k;
    const outputs = (r: { err: bigint; entry: bigint; level_state: bigint }, e1: bigint, e2: bigint): bigint => {
      s.mem.setU64(e1, r.entry);
      s.mem.setU64(e2, r.level_state);
      return status(r.err);
    };
    const tdxImports = {
      tdh_mem_page_add: (_td: bigint, gpa: bigint, pfn: bigint, source: bigint, e1: bigint, e2: bigint) =>
        outputs(k.tdh_mem_page_add('td', toNumber(gpa), toNumber(pfn), source === 0n ? 0 : s.page(source)), e1, e2),
      tdh_mr_extend: (_td: bigint, gpa: bigint, e1: bigint, e2: bigint) => outputs(k.tdh_mr_extend('td', toNumber(gpa)), e1, e2),
      tdh_mem_page_aug(): never {
        throw new Error('kernel C issued TDH.MEM.PAGE.AUG, which the model does not answer (it maps pages only after TDX finalization, off the populate path)');
      },
      kshim_tdx_bug(outputsCount: number, err: bigint, fn: bigint, a1: bigint, a2: bigint) {
        const name = s.mem.cString(fn);
        return (outputsCount === 0 ? k.TDX_BUG_ON(u64(err), name, KVM) : k.TDX_BUG_ON_2(u64(err), name, u64(a1), u64(a2), KVM)) ? 1 : 0;
      },
      vt_is_tdx_private_gpa: (_kvm: bigint, gpa: bigint) => (k.vt_is_tdx_private_gpa(KVM, u64(gpa)) ? 1 : 0),
      kvm_tdp_mmu_map_private_pfn: (vcpu: bigint, gfn: bigint, pfn: bigint) => k.kvm_tdp_mmu_map_private_pfn(this.vcpuOf(vcpu), toNumber(gfn), toNumber(pfn)),
    };
    const exports = instantiate(module, s, tdxImports);
    this.tdx = {
      kshim_new_kvm: exportFn(exports, 'kshim_new_kvm'),
      kshim_new_vcpu: exportFn(exports, 'kshim_new_vcpu'),
      kshim_tdx_sync: exportFn(exports, 'kshim_tdx_sync'),
      kshim_entry_tdx_vcpu_init_mem_region: exportFn(exports, 'kshim_entry_tdx_vcpu_init_mem_region'),
      kshim_entry_tdx_sept_map_leaf_spte: exportFn(exports, 'kshim_entry_tdx_sept_map_leaf_spte'),
    };
    s.kvm = this.tdx.kshim_new_kvm();
    // vCPU 0 first, as every scenario has it; vCPU 1 when the model first calls in with it.
    this.vcpus.set(0, this.tdx.kshim_new_vcpu(s.kvm, 0));
    this.cmd = s.shim.kshim_scratch(24n);
    this.s = s;
  }

  private vcpuOf(p: bigint): Vcpu {
    for (const [id, ptr] of this.vcpus) if (u64(ptr) === u64(p)) return tdxVcpu(id);
    throw new KernelCFault(`kernel C passed 0x${u64(p).toString(16)} as a vCPU the shim did not build`);
  }

  /** The C's vCPU for the model's (kshim_new_vcpu() on first use). */
  private vcpuPtr(vcpu: Vcpu): bigint {
    const have = this.vcpus.get(vcpu.vcpu_id);
    if (have !== undefined) return have;
    const ptr = this.tdx.kshim_new_vcpu(this.s.kvm, vcpu.vcpu_id);
    this.vcpus.set(vcpu.vcpu_id, ptr);
    return ptr;
  }

  private sync(kvm: Kvm, vcpu: Vcpu): void {
    const { k } = this;
    this.tdx.kshim_tdx_sync(this.vcpuPtr(vcpu), k.to_kvm_tdx(kvm).state === 'TD_STATE_RUNNABLE' ? 1 : 0, k.to_tdx(vcpu).state === 'VCPU_TD_STATE_INITIALIZED' ? 1 : 0, k.pre_fault_allowed(kvm) ? 1 : 0, BigInt(k.TDX_EXTENDMR_CHUNKSIZE));
  }

  tdx_vcpu_init_mem_region(vcpu: Vcpu, cmd: KvmTdxCmd): number {
    const { s } = this;
    this.sync(KVM, vcpu);
    // struct kvm_tdx_cmd: id, flags, data, hw_error (tdx_get_cmd() has copied it in).
    s.mem.setU32(this.cmd, KVM_TDX_INIT_MEM_REGION);
    s.mem.setU32(this.cmd + 4n, cmd.flags >>> 0);
    s.mem.setU64(this.cmd + 8n, USER_ARG_ADDR);
    s.mem.setU64(this.cmd + 16n, BigInt(cmd.hw_error));
    s.userArg = regionArg(cmd.data, this.k);
    try {
      return this.tdx.kshim_entry_tdx_vcpu_init_mem_region(this.vcpuPtr(vcpu), this.cmd);
    } finally {
      s.userArg = null;
    }
  }

  tdx_sept_map_leaf_spte(gfn: number, level: number, pfn: number): number {
    return this.tdx.kshim_entry_tdx_sept_map_leaf_spte(this.s.kvm, BigInt(gfn), level, BigInt(pfn));
  }
}

interface TdxEntries {
  tdx_vcpu_init_mem_region(vcpu: Vcpu, cmd: KvmTdxCmd): number;
  tdx_sept_map_leaf_spte(kvm: Kvm, gfn: number, level: number, pfn: number): number;
}

/**
 * A revision table whose KVM_TDX_INIT_MEM_REGION handler and S-EPT leaf hook are the build's;
 * the ioctl's locking (tdx_vcpu_unlocked_ioctl()), the TDP MMU, the zap path and finalization
 * come from `base`. One instance per bound kernel, that is per scenario.
 */
export function tdxKernelCFns(module: WebAssembly.Module, base: object): object {
  const of = perKernel((k: K) => new TdxInstance(module, k));
  const entries: Impl<TdxEntries, K> = {
    tdx_vcpu_init_mem_region: (k, vcpu, cmd) => of(k).tdx_vcpu_init_mem_region(vcpu, cmd),
    tdx_sept_map_leaf_spte(k, kvm, gfn, level, pfn) {
      // The hook runs inside the C's own kvm_tdp_mmu_map_private_pfn() call, on its instance.
      if (kvm !== KVM) throw new Error('tdx_sept_map_leaf_spte() of a VM the model does not have');
      return of(k).tdx_sept_map_leaf_spte(gfn, level, pfn);
    },
  };
  return { ...base, ...entries };
}
