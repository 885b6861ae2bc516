import type { BackendId } from '../scenario/Scenario.js';
import type { PreFaultMemoryFns } from '../kernel/pre_fault_memory.js';
import type { KvmMainK } from '../kernel/kvm_main.js';
import type { SnpServices } from '../backends/snp/services.js';
import type { SevCommonFns, SnpRevisionEntry } from '../backends/snp/sev.js';
import type { SevVmsaFns } from '../backends/snp/sev_vmsa.js';
import type { SevGmemPopulateArgs } from '../backends/snp/uapi.js';
import type { TdxServices } from '../backends/tdx/services.js';
import type { TdxCommonFns, TdxRevisionEntry } from '../backends/tdx/tdx.js';
import type { TdxGmemPostPopulateArg } from '../backends/tdx/uapi.js';
import type { RmiDataFlags } from '../backends/cca/uapi.js';

/** The RMM specification an Arm revision targets: 1.0 (single-granule commands) or 2.0 (range commands, granule = page). */
export type RmmVersion = 'v1.0' | 'v2.0';

/**
 * A revision: the populate path as one patch version wrote it, as a table of functions with
 * kernel names that mirror the C one by one. What it must provide, per backend it supports:
 *
 * - `snp_launch_update(kvm, argp)` (SEV-SNP): KVM_SEV_SNP_LAUNCH_UPDATE, called by the unchanged
 *   `sev_mem_enc_ioctl()` with `kvm->lock` held;
 * - `tdx_vcpu_init_mem_region(vcpu, cmd)` (TDX): KVM_TDX_INIT_MEM_REGION, called by the
 *   unchanged `tdx_vcpu_unlocked_ioctl()` under the VM state guard (`kvm->lock`, `vcpu->mutex`,
 *   `kvm->slots_lock`);
 * - Arm CCA: `realm_populate_ioctl(kvm, argp)` (the populate uAPI of its generation, see `arm`),
 *   `kvm_activate_realm(kvm)` (the first vCPU run), and the realm's side of teardown:
 *   `kvm_realm_unmap_range(kvm, start, end)` (stage-2 unmap of private gfns, reached from
 *   guest_memfd invalidation) and `kvm_destroy_realm(kvm)` (VM destruction).
 *
 * Everything else (kvm_gmem_populate(), the post_populate callbacks, helpers) is the revision's
 * own business. Every function takes the bound kernel `k` first and calls the kernel-services
 * API, the unchanged kernel code and the revision's other functions through it. From
 * include/linux/kvm_host.h, the contract every generation shares:
 *
 *   kvm_gmem_populate() - Populate/prepare a GPA range with guest data
 *   @gfn: starting GFN to be populated; @src: userspace-provided buffer to copy from
 *   (NULL: no copy); @npages: number of pages; @post_populate: callback for each gmem page
 *   that backs the GPA range. Returns the number of pages that were populated, or an error
 *   if none was (`ret && !i ? ret : i`). The caller holds kvm->slots_lock.
 */
export interface Revision {
  /** Short name used on the command line and in the matrix (`v7.0`). */
  readonly id: string;
  readonly title: string;
  readonly backends: readonly BackendId[];
  /** Where the mirrored C lives: `repo:path@commit` or lore links. */
  readonly cites: readonly string[];
  /**
   * A reviewer's revision made from a built-in one (`gmemcheck new-revision --from`): its cells
   * are compared with that revision's row of the matrix, so the report reads as a delta.
   */
  readonly derivedFrom?: string;
  /** Kernel name → implementation (`(k, ...args) => ...`). */
  readonly fns: object;
  /**
   * x86: the tree carries the in-place conversion series' populate (model/revisions/inplace-v8.ts):
   * with its module parameter on (the in-place cell), private memory is guest_memfd's own per-index
   * attribute and KVM_SET_MEMORY_ATTRIBUTES no longer takes PRIVATE (KvmState.private_tracking).
   */
  readonly gmemAttributes?: true;
  /** Arm only: the RMM ABI the revision drives, and the uAPI userspace populates through. */
  readonly arm?: {
    readonly rmm: RmmVersion;
    /** v9: KVM_ENABLE_CAP(KVM_CAP_ARM_RME) POPULATE_REALM, 0 or an error; v12: KVM_ARM_RMI_POPULATE returning bytes; newest: the struct written back. */
    readonly uapi: 'rme-cap' | 'rmi-populate-bytes' | 'rmi-populate-writeback';
    /** How private memory is tracked: per-VM attributes, or guest_memfd's own (no KVM_GENERIC_MEMORY_ATTRIBUTES). */
    readonly privateTracking: 'vm-attributes' | 'guest_memfd';
  };
}

/** The kernel an x86 revision is written against: services, unchanged code, both vendors. */
export type X86K = KvmMainK & PreFaultMemoryFns &
  SnpServices & SevCommonFns & SevVmsaFns & SnpRevisionEntry &
  TdxServices & TdxCommonFns & TdxRevisionEntry;

/** `void *opaque` of the populate callbacks: one of the vendor argument structs. */
export type PopulateOpaque = SevGmemPopulateArgs | TdxGmemPostPopulateArg | RmiDataFlags;

/** The C's `struct X *args = opaque;`, checked: a mismatch is a modelling error. */
export function opaqueAs(opaque: PopulateOpaque, tag: 'sev_gmem_populate_args'): SevGmemPopulateArgs;
export function opaqueAs(opaque: PopulateOpaque, tag: 'tdx_gmem_post_populate_arg'): TdxGmemPostPopulateArg;
export function opaqueAs(opaque: PopulateOpaque, tag: 'rmi_data_flags'): RmiDataFlags;
export function opaqueAs(opaque: PopulateOpaque, tag: PopulateOpaque['tag']): PopulateOpaque {
  if (opaque.tag !== tag) throw new Error(`post_populate opaque is ${opaque.tag}, expected ${tag}`);
  return opaque;
}

const GMEM_GENERATION_FNS = ['kvm_gmem_bind', 'kvm_gmem_create', 'kvm_gmem_fault_user_mapping', 'kvm_gmem_allocate'] as const;

/** The entry points a backend needs from a revision. */
export const ENTRY_POINTS: Readonly<Record<BackendId, readonly string[]>> = {
  // kvm_gmem_bind(), kvm_gmem_create(), the host fault path and fallocate()'s allocate mode: the
  // forms of the revision's tree (model/kernel/guest_memfd_bind.ts, guest_memfd_create.ts,
  // guest_memfd_fault.ts, guest_memfd_allocate.ts).
  snp: ['snp_launch_update', ...GMEM_GENERATION_FNS],
  tdx: ['tdx_vcpu_init_mem_region', ...GMEM_GENERATION_FNS],
  cca: ['realm_populate_ioctl', 'kvm_realm_unmap_range', 'kvm_destroy_realm', 'kvm_activate_realm', ...GMEM_GENERATION_FNS],
};
