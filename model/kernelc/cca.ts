import type { Impl } from '../kernel/bind.js';
import { KVM, type Kvm } from '../kernel/services/kvmcore.js';
import type { ArmK } from '../backends/cca/rmi.js';
import type { KernelRealmState } from '../backends/cca/state.js';
import type { KvmArmRmiPopulate } from '../backends/cca/uapi.js';
import { KernelCFault, toNumber, u64 } from './wasm.js';
import { KernelCState, exportFn, instantiate, perKernel, type KernelCK } from './imports.js';

/**
 * Arm CCA's KVM_ARM_RMI_POPULATE run by a kernel tree's own C (kernelc/prelude/kshim_arm64.h and
 * kshim_arm64.c): the tree's kvm_arm_rmi_populate(), populate_region_cb(), realm_data_map_init()
 * and the RTT creation it retries with, and guest_memfd.c's populate. The ioctl around it (arm.c's
 * copy of the struct in and out), the realm's creation (realm_create_rd()) and the RMM are the
 * model's: the C calls realm_create_rd() as an import and reads the realm it leaves.
 */

/** What the C calls back into that an Arm revision's table provides. */
interface RealmFns {
  realm_create_rd(kvm: Kvm): number;
  free_delegated_page(phys: number): number;
}

type K = ArmK & KernelCK & RealmFns;

interface CcaExports {
  readonly kshim_new_kvm: () => bigint;
  readonly kshim_cca_sync: (kvm: bigint, state: number, rd: bigint, ia_bits: number) => void;
  readonly kshim_entry_kvm_arm_rmi_populate: (kvm: bigint, args: bigint) => number;
}

/** `enum realm_state` (asm/kvm_rmi.h) in its C order. */
const REALM_STATES: readonly KernelRealmState[] = ['REALM_STATE_NONE', 'REALM_STATE_NEW', 'REALM_STATE_ACTIVE', 'REALM_STATE_DYING', 'REALM_STATE_DEAD'];

/** `struct kvm_arm_rmi_populate` (asm/kvm.h): base, size, source_uaddr, then the u32 flags and reserved. */
const ARGS_SIZE = 32n;

/** One scenario's instance of the build, made on its first ioctl. */
class CcaInstance {
  readonly s: KernelCState;
  private readonly k: K;
  private readonly cca: CcaExports;
  private readonly args: bigint;

  constructor(module: WebAssembly.Module, k: K) {
    const s = new KernelCState(k);
    this.k = k;
    const phys = (p: bigint): number => toNumber(p);
    const ccaImports = {
      rmi_delegate_page: (p: bigint) => k.rmi_delegate_page(phys(p)),
      rmi_undelegate_page: (p: bigint) => k.rmi_undelegate_page(phys(p)),
      free_delegated_page: (p: bigint) => k.free_delegated_page(phys(p)),
      rmi_rtt_data_map_init: (rd: bigint, data: bigint, ipa: bigint, src: bigint, flags: bigint) =>
        BigInt(k.rmi_rtt_data_map_init(phys(rd), phys(data), phys(ipa), phys(src), toNumber(flags))),
      rmi_rtt_create: (rd: bigint, rtt: bigint, ipa: bigint, level: bigint) => BigInt(k.rmi_rtt_create(phys(rd), phys(rtt), phys(ipa), Number(BigInt.asIntN(64, level)))),
      realm_create_rd: () => {
        const ret = k.realm_create_rd(KVM);
        // The C reads on from kvm->arch.realm: the state and RD the model's creation left.
        this.sync();
        return ret;
      },
      // On the populate path only alloc_delegated_granule() allocates: the RTTs the map retries with.
      __get_free_page: () => BigInt(k.__get_free_page_phys('rtt')),
      free_page: (addr: bigint) => k.free_page_phys(phys(addr)),
      kvm_mmu_memory_cache_alloc(mc: bigint): never {
        throw new KernelCFault(`kernel C allocated from memory cache 0x${u64(mc).toString(16)}: only the vCPU fault path fills one, and populate passes none`);
      },
    };
    const exports = instantiate(module, s, ccaImports);
    this.cca = {
      kshim_new_kvm: exportFn(exports, 'kshim_new_kvm'),
      kshim_cca_sync: exportFn(exports, 'kshim_cca_sync'),
      kshim_entry_kvm_arm_rmi_populate: exportFn(exports, 'kshim_entry_kvm_arm_rmi_populate'),
    };
    s.kvm = this.cca.kshim_new_kvm();
    this.args = s.shim.kshim_scratch(ARGS_SIZE);
    this.s = s;
  }

  private sync(): void {
    const realm = this.k.kvm_realm(KVM);
    this.cca.kshim_cca_sync(this.s.kvm, REALM_STATES.indexOf(realm.state), BigInt(realm.rd), realm.ia_bits);
  }

  /** The C's struct is in kernel memory (arm.c copied it in): fields in, the progress written back out. */
  kvm_arm_rmi_populate(args: KvmArmRmiPopulate): number {
    const { mem } = this.s;
    const p = this.args;
    this.sync();
    mem.setU64(p, u64(BigInt(args.base)));
    mem.setU64(p + 8n, u64(args.size));
    mem.setU64(p + 16n, u64(BigInt(args.source_uaddr)));
    mem.setU32(p + 24n, args.flags >>> 0);
    mem.setU32(p + 28n, args.reserved >>> 0);
    const ret = this.cca.kshim_entry_kvm_arm_rmi_populate(this.s.kvm, p);
    args.base = toNumber(mem.u64(p));
    args.size = mem.u64(p + 8n);
    args.source_uaddr = toNumber(mem.u64(p + 16n));
    return ret;
  }
}

/**
 * A revision table whose kvm_arm_rmi_populate() is the build's: the ioctl, realm creation and
 * activation, the stage-2 unmap and teardown come from `base` (rmi-newest). One instance per
 * bound kernel, that is per scenario.
 */
export function ccaKernelCFns(module: WebAssembly.Module, base: object): object {
  const of = perKernel((k: K) => new CcaInstance(module, k));
  const entry: Impl<{ kvm_arm_rmi_populate(kvm: Kvm, args: KvmArmRmiPopulate): number }, K> = {
    kvm_arm_rmi_populate(k, kvm, args) {
      if (kvm !== KVM) throw new Error('kvm_arm_rmi_populate() of a VM the model does not have');
      return of(k).kvm_arm_rmi_populate(args);
    },
  };
  return { ...base, ...entry };
}
