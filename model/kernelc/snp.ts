import type { Impl } from '../kernel/bind.js';
import { KVM, type Kvm } from '../kernel/services/kvmcore.js';
import type { SnpK } from '../backends/snp/sev.js';
import {
  PG_LEVEL_2M, PG_LEVEL_4K, SEV_CMD_SNP_LAUNCH_UPDATE, SEV_CMD_SNP_PAGE_RECLAIM,
  type KvmSevCmd, type KvmSevSnpLaunchUpdate, type UserStructRef,
} from '../backends/snp/uapi.js';
import { KernelCState, USER_ARG_ADDR, exportFn, instantiate, perKernel, type KernelCK, type UserArg } from './imports.js';
import { toNumber } from './wasm.js';

/**
 * SEV-SNP's KVM_SEV_SNP_LAUNCH_UPDATE run by a kernel tree's own C (kernelc/prelude/kshim_sev.h
 * and kshim_sev.c): the tree's snp_launch_update() and everything it calls in sev.c and
 * guest_memfd.c, on one WebAssembly instance per scenario, with the RMP and the firmware
 * answered by the model's SNP services.
 */

type K = SnpK & KernelCK;

interface SevExports {
  readonly kshim_new_kvm: () => bigint;
  readonly kshim_sev_sync: (kvm: bigint, active: number, snp_context: number, asid: number, pre_fault_allowed: number) => void;
  readonly kshim_entry_snp_launch_update: (kvm: bigint, argp: bigint) => number;
}

/** `struct kvm_sev_snp_launch_update` at its uAPI offsets (linux/kvm.h: 64 bytes). */
function launchUpdateArg(ref: UserStructRef<KvmSevSnpLaunchUpdate>, k: K): UserArg {
  return {
    size: 64,
    read(mem, to) {
      const v = k.copy_struct_from_user(ref);
      mem.fill(to, 0, 64);
      mem.setU64(to, v.gfn_start);
      mem.setU64(to + 8n, BigInt(Math.trunc(v.uaddr)));
      mem.setU64(to + 16n, v.len);
      mem.setU8(to + 24n, v.type & 0xff);
      mem.setU16(to + 26n, v.flags & 0xffff);
    },
    write(mem, from) {
      const value: KvmSevSnpLaunchUpdate = {
        gfn_start: mem.u64(from),
        uaddr: toNumber(mem.u64(from + 8n)),
        len: mem.u64(from + 16n),
        type: mem.u8(from + 24n),
        flags: mem.u16(from + 26n),
      };
      return k.copy_struct_to_user(ref, value) === 0 ? 0 : 64;
    },
  };
}

/** One scenario's instance of the build, made on its first ioctl. */
class SnpInstance {
  readonly s: KernelCState;
  private readonly k: K;
  private readonly sev: SevExports;
  private readonly argp: bigint;

  constructor(module: WebAssembly.Module, k: K) {
    const s = new KernelCState(k);
    this.k = k;
    // The firmware's status, through the C's `int *error`, which the PSP driver lets be NULL.
    const withError = (error: bigint, issue: (out: { value: number }) => number): number => {
      const out = { value: error === 0n ? 0 : s.mem.i32(error) };
      const ret = issue(out);
      if (error !== 0n) s.mem.setI32(error, out.value);
      return ret;
    };
    const snpImports = {
      snp_lookup_rmpentry(pfn: bigint, assigned: bigint, level: bigint) {
        const r = k.snp_lookup_rmpentry(toNumber(pfn));
        s.mem.setU8(assigned, r.assigned ? 1 : 0);
        s.mem.setI32(level, r.level);
        return r.ret;
      },
      rmp_make_private: (pfn: bigint, gpa: bigint, level: number, asid: number, immutable: number) =>
        k.rmp_make_private(toNumber(pfn), toNumber(gpa), level, asid, immutable !== 0),
      rmp_make_shared: (pfn: bigint, level: number) => k.rmp_make_shared(toNumber(pfn), level),
      snp_leak_pages: (pfn: bigint, npages: number) => k.snp_leak_pages(toNumber(pfn), npages),
      sev_snp_guest: () => (k.sev_snp_guest(KVM) ? 1 : 0),
      ____sev_snp_guest: () => (k.sev_snp_guest(KVM) ? 1 : 0),
      sev_get_asid: () => k.sev_get_asid(KVM),
      kshim_fw_snp_launch_update(fd: number, pfn: bigint, page_size: number, page_type: number, error: bigint) {
        const data = { gctx_paddr: 0, address: toNumber(pfn), page_size: page_size === 0 ? PG_LEVEL_4K : PG_LEVEL_2M, page_type };
        return withError(error, (out) => k.__sev_issue_cmd(fd, SEV_CMD_SNP_LAUNCH_UPDATE, { cmd: SEV_CMD_SNP_LAUNCH_UPDATE, data }, out));
      },
      kshim_fw_snp_page_reclaim: (pfn: bigint, error: bigint) =>
        withError(error, (out) => k.sev_do_cmd(SEV_CMD_SNP_PAGE_RECLAIM, { cmd: SEV_CMD_SNP_PAGE_RECLAIM, data: { paddr: toNumber(pfn) } }, out)),
      kshim_fw_unmodelled(id: number): never {
        throw new Error(`kernel C issued SEV firmware command 0x${id.toString(16)}, which the model does not answer`);
      },
    };
    const exports = instantiate(module, s, snpImports);
    this.sev = {
      kshim_new_kvm: exportFn(exports, 'kshim_new_kvm'),
      kshim_sev_sync: exportFn(exports, 'kshim_sev_sync'),
      kshim_entry_snp_launch_update: exportFn(exports, 'kshim_entry_snp_launch_update'),
    };
    s.kvm = this.sev.kshim_new_kvm();
    this.argp = s.shim.kshim_scratch(24n);
    this.s = s;
  }

  snp_launch_update(kvm: Kvm, argp: KvmSevCmd<KvmSevSnpLaunchUpdate>): number {
    const { s } = this;
    this.sev.kshim_sev_sync(s.kvm, 1, this.k.sev_snp_context(kvm) ? 1 : 0, this.k.sev_get_asid(kvm), this.k.pre_fault_allowed(kvm) ? 1 : 0);
    // struct kvm_sev_cmd: id, pad0, data, error, sev_fd.
    s.mem.fill(this.argp, 0, 24);
    s.mem.setU64(this.argp + 8n, USER_ARG_ADDR);
    s.mem.setU32(this.argp + 16n, argp.error);
    s.mem.setU32(this.argp + 20n, argp.sev_fd);
    s.userArg = launchUpdateArg(argp.data, this.k);
    try {
      return this.sev.kshim_entry_snp_launch_update(s.kvm, this.argp);
    } finally {
      s.userArg = null;
      argp.error = s.mem.u32(this.argp + 16n);
    }
  }
}

/**
 * A revision table whose snp_launch_update() is the build's: everything else (bind, create, the
 * fault path, LAUNCH_FINISH's VMSA) comes from `base`, the TypeScript revision of the same
 * generation. One instance per bound kernel, that is per scenario.
 */
export function snpKernelCFns(module: WebAssembly.Module, base: object): object {
  const of = perKernel((k: K) => new SnpInstance(module, k));
  const entry: Impl<{ snp_launch_update(kvm: Kvm, argp: KvmSevCmd<KvmSevSnpLaunchUpdate>): number }, K> = {
    snp_launch_update: (k, kvm, argp) => of(k).snp_launch_update(kvm, argp),
  };
  return { ...base, ...entry };
}
