import type { Geometry } from '../geometry.js';
import type { u64 } from '../kernel/u64.js';
import type { Prot } from '../world/userspaceMm.js';

/**
 * A scenario is plain JSON data: the machine, the VMM's operation sequence with every ioctl
 * argument, per-operation fault plans, and the values undefined behaviour takes. It does not
 * depend on generator internals, so a saved scenario survives changes to the generators.
 */
export type BackendId = 'snp' | 'tdx' | 'cca';

export interface Scenario {
  readonly backend: BackendId;
  readonly geometry: Geometry;
  readonly ops: readonly Op[];
  /**
   * Values read from uninitialised variables, by site (`function:variable`). A site that is
   * read but not listed reads 0.
   */
  readonly ub: Readonly<Record<string, number>>;
  /**
   * Arm CCA machine set-up: RMM v1.0 granules per host page (1, 4 or 16: a 4K, 16K or 64K host;
   * RMM v2.0 revisions configure the granule to the page) and the depth of the realm's stage-2
   * tables that exist before the first populate (0: only the root).
   */
  readonly cca?: { readonly granules_per_page: number; readonly rtt_depth: number } | undefined;
  /**
   * The hugepages what-if (model/whatIf.ts; x86 only): guest_memfd tries folios of this order
   * first, PMD_ORDER (a 2M THP) or twice it (PUD_ORDER, a 1G hugetlb page), and the old
   * __kvm_gmem_get_pfn() reports their order. Absent on every machine a merged kernel gives.
   */
  readonly hugepages?: { readonly order: number } | undefined;
  /**
   * The in-place what-if (model/whatIf.ts; x86 only): the kernel has an in-place conversion
   * series applied (model/kernel/inplace_series.ts), so a guest_memfd of the confidential VM may
   * be mmap()ed, its indices converted between shared and private, and a host fault on it takes
   * the invalidate lock. `true` is the default series (v8); otherwise a series id (`rfc-v2`, or
   * an injected `series~what`). Absent on every machine a merged kernel gives.
   */
  readonly inPlace?: true | string | undefined;
  /**
   * Where the launch sequence stands when the ops begin. Absent: the VMM has already run
   * KVM_SEV_SNP_LAUNCH_START (SNP) or KVM_TDX_INIT_VCPU on vCPU 0 (TDX), as every VMM does before
   * it loads the image. `not_started`: the VM (on TDX the TD, after KVM_TDX_INIT_VM) exists but
   * that step has not run; the scenario's own `snp_launch_start` / `tdx_init_vcpu` op does it.
   */
  readonly launch?: 'not_started' | undefined;
  /**
   * TDX only: the VMM created a second vCPU (KVM_CREATE_VCPU, id 1) beside vCPU 0 before the ops.
   * It starts VCPU_TD_STATE_UNINITIALIZED whatever `launch` says: KVM_TDX_INIT_VCPU on it is an
   * op (`vcpu: 1`). Absent: vCPU 0 alone, as every scenario before had.
   */
  readonly vcpus?: 2 | undefined;
  /**
   * Threads that run concurrently once `ops` are done (model/scenario/runThreads.ts): thread i + 1
   * runs `threads[i]` in order. Their operations are numbered after `ops`, thread by thread.
   */
  readonly threads?: readonly (readonly Op[])[] | undefined;
  /**
   * Which thread runs at each switch point of the threads (model/world/switchPoint.ts): a thread
   * id per step; where the list ends, or names a thread that cannot run, the running thread goes
   * on (else the lowest that can). Replaying it gives the same interleaving.
   */
  readonly schedule?: readonly number[] | undefined;
}

/**
 * A fault the operation suffers. Counting (`nth`, from 1) is per operation and per kind, so
 * a plan stays meaningful when other operations are added or removed around it.
 */
export type Fault =
  /** The nth get_user_pages*() call fails outright, or pins one page fewer than asked. */
  | { readonly kind: 'gup'; readonly nth: number; readonly result: 'efault' | 'short' }
  /**
   * The nth allocation at `site` fails (-ENOMEM): a guest_memfd folio, a kmalloc(), or a
   * radix-tree node of an xarray store (xa_store_range() of a guest_memfd binding).
   */
  | { readonly kind: 'alloc'; readonly nth: number; readonly site: 'folio' | 'kmalloc' | 'xa_node' }
  /** signal_pending(current) is true from the nth check on. */
  | { readonly kind: 'signal'; readonly nth: number }
  /**
   * The nth invocation of firmware command `cmd` fails with platform condition `condition`.
   * With `unit`, only invocations on that unit of a host page count (a CCA granule position:
   * 0 is the page's first granule), so a plan can aim at a position inside a page.
   */
  | { readonly kind: 'fw'; readonly cmd: string; readonly condition: string; readonly nth: number; readonly unit?: number | undefined };

export type Op =
  /**
   * KVM_CREATE_GUEST_MEMFD; files are numbered 1, 2, ... in creation order. `size` and `flags`
   * are the u64s of `struct kvm_create_guest_memfd`, exact (the C reads size as loff_t).
   */
  | { readonly kind: 'create_guest_memfd'; readonly size: u64; readonly flags: u64 }
  /** KVM_SET_USER_MEMORY_REGION2 with KVM_MEM_GUEST_MEMFD (binds the guest_memfd range). */
  | {
      readonly kind: 'set_user_memory_region2';
      readonly slot: number;
      readonly flags: number;
      readonly guest_phys_addr: number;
      readonly memory_size: number;
      readonly userspace_addr: number;
      readonly guest_memfd: number;
      /** u64, exact: the C tests its low bits, its sum with memory_size, and reads it as loff_t. */
      readonly guest_memfd_offset: u64;
      /** Allocation failures inside the ioctl (the binding's xa_store_range()). */
      readonly faults?: readonly Fault[] | undefined;
    }
  /** KVM_SET_MEMORY_ATTRIBUTES (VM ioctl); `attributes` and `flags` are u64s tested bit by bit. */
  | { readonly kind: 'set_memory_attributes'; readonly address: number; readonly size: number; readonly attributes: u64; readonly flags: u64 }
  /**
   * mmap(MAP_ANONYMOUS) at a page-aligned `addr`, then userspace writes every byte (so each
   * byte's provenance is its own address). `holes` are page indexes left unmapped.
   */
  /**
   * `untouched`: pages (indices) the VMM never writes after mapping them, which map the shared
   * zero page until a write fault (model/kernel/zeroPage.ts); every other page is written whole.
   */
  | { readonly kind: 'mmap'; readonly addr: number; readonly length: number; readonly prot: Prot; readonly holes: readonly number[]; readonly untouched?: readonly number[] | undefined }
  | { readonly kind: 'munmap'; readonly addr: number; readonly length: number }
  /** madvise() on the VMM's memory: MADV_DONTNEED (4), MADV_REMOVE (9) or MADV_PAGEOUT (21) (model/scenario/userspace.ts). */
  | { readonly kind: 'madvise'; readonly addr: number; readonly length: number; readonly advice: 4 | 9 | 21 }
  /** KVM_SEV_SNP_LAUNCH_UPDATE through KVM_MEMORY_ENCRYPT_OP. */
  | {
      readonly kind: 'snp_launch_update';
      /** `__u64 gfn_start` and `__u64 len`: a fuzzer's values near 2^64 are held exactly. */
      readonly gfn_start: u64;
      readonly uaddr: number;
      readonly len: u64;
      readonly type: number;
      readonly flags: number;
      /**
       * The struct the ioctl reads and writes back lies in a read-only mapping (PROT_READ):
       * copy_from_user() of it succeeds, the copy back faults. Userspace alone reaches it.
       */
      readonly arg_readonly?: boolean | undefined;
      readonly faults: readonly Fault[];
    }
  | { readonly kind: 'snp_launch_finish'; readonly faults: readonly Fault[] }
  /** KVM_SEV_SNP_LAUNCH_START (a policy the host supports, `flags` 0): creates the guest context. */
  | { readonly kind: 'snp_launch_start' }
  /**
   * KVM_TDX_INIT_MEM_REGION (a vCPU ioctl, on vCPU 0 or `vcpu`); `flags` is `kvm_tdx_cmd.flags`, `hw_error`
   * its `hw_error` as userspace passes it in (0 when absent; the kernel refuses any other value).
   */
  | {
      readonly kind: 'tdx_init_mem_region';
      readonly source_addr: number;
      readonly gpa: number;
      /** A u64: from 2^(64 - PAGE_SHIFT) on, the C's `nr_pages << PAGE_SHIFT` wraps. */
      readonly nr_pages: u64;
      readonly flags: number;
      readonly hw_error?: number | undefined;
      /**
       * The struct the ioctl reads and writes back lies in a read-only mapping (PROT_READ):
       * copy_from_user() of it succeeds, the copy back faults. Userspace alone reaches it.
       */
      readonly arg_readonly?: boolean | undefined;
      /** On the second vCPU's fd (Scenario.vcpus); absent: vCPU 0. */
      readonly vcpu?: 1 | undefined;
      readonly faults: readonly Fault[];
    }
  | { readonly kind: 'tdx_finalize_vm'; readonly faults: readonly Fault[] }
  /**
   * KVM_TDX_INIT_VCPU on vCPU 0 (or `vcpu`): it becomes VCPU_TD_STATE_INITIALIZED. `flags` and
   * `hw_error` are `kvm_tdx_cmd`'s (0 when absent; the kernel refuses any other value).
   */
  | { readonly kind: 'tdx_init_vcpu'; readonly flags?: number | undefined; readonly hw_error?: number | undefined; readonly vcpu?: 1 | undefined }
  /**
   * Populate a realm's initial image: KVM_ARM_RMI_POPULATE with `struct kvm_arm_rmi_populate`
   * (v12 on). Under rme-v9's uAPI (KVM_ENABLE_CAP POPULATE_REALM) the source is the memslot's
   * shared mapping, so there `source_uaddr` must be that alias.
   */
  | {
      readonly kind: 'arm_rmi_populate';
      readonly base: number;
      /** `__u64 size`: a fuzzer's sizes near 2^64 (base + size wrapping) are held exactly. */
      readonly size: u64;
      readonly source_uaddr: number;
      readonly flags: number;
      readonly reserved: number;
      /**
       * The struct the ioctl reads and writes back lies in a read-only mapping (PROT_READ):
       * copy_from_user() of it succeeds, the copy back faults. Userspace alone reaches it.
       */
      readonly arg_readonly?: boolean | undefined;
      readonly faults: readonly Fault[];
    }
  /** rme-v9's KVM_CAP_ARM_RME_CREATE_REALM (later trees create the realm on first use). */
  | { readonly kind: 'arm_realm_create'; readonly faults: readonly Fault[] }
  /** The first vCPU run: kvm_activate_realm(), after which the initial image is fixed. */
  | { readonly kind: 'arm_realm_activate'; readonly faults: readonly Fault[] }
  /**
   * fallocate() on a guest_memfd with the mode as given: FALLOC_FL_KEEP_SIZE alone allocates
   * (kvm_gmem_allocate(): a folio for every index of the range); other modes are what a syscall
   * fuzzer sends (no KEEP_SIZE, unknown bits: -EOPNOTSUPP). The faults hit the folio allocations.
   */
  | { readonly kind: 'fallocate'; readonly guest_memfd: number; readonly mode: number; readonly offset: number; readonly len: number; readonly faults: readonly Fault[] }
  /** fallocate(FALLOC_FL_PUNCH_HOLE) on a guest_memfd. */
  | { readonly kind: 'punch_hole'; readonly guest_memfd: number; readonly offset: number; readonly len: number; readonly faults: readonly Fault[] }
  /**
   * A hardware memory error in the page that backs `offset` of a guest_memfd: memory_failure()
   * (model/kernel/memory_failure.ts), as the machine-check handler or the hwpoison-inject
   * debugfs file (corrupt-pfn) runs it. Nothing happens where no folio backs the offset.
   */
  | { readonly kind: 'memory_failure'; readonly guest_memfd: number; readonly offset: number }
  /**
   * Userspace mmap()s a guest_memfd and touches one page: the fault path of the revision's tree
   * (model/kernel/guest_memfd_fault.ts), or of the in-place series, which maps a shared page into
   * the VMM's mapping (a page already mapped does not fault again). `write`: the VMM then writes
   * the whole page through its mapping (its initial image, to be populated in place), each byte
   * tagged with its address in that mapping (model/world/userspaceMm.ts gmemUserAddress()).
   */
  | { readonly kind: 'gmem_user_fault'; readonly guest_memfd: number; readonly offset: number; readonly write?: true | undefined }
  /**
   * A conversion of guest_memfd pages [offset, offset + size) to shared or private: the in-place
   * series' ioctl on the file (RFC v2 KVM_GMEM_CONVERT_SHARED/_PRIVATE, v8
   * KVM_SET_MEMORY_ATTRIBUTES2); -ENOTTY on a kernel without one.
   */
  | { readonly kind: 'gmem_convert'; readonly guest_memfd: number; readonly offset: number; readonly size: number; readonly to: 'shared' | 'private' }
  /** close() of the VM fd: memslots go away, the VM is destroyed. */
  /**
   * KVM_PRE_FAULT_MEMORY (x86; a vCPU ioctl, on vCPU 0 or `vcpu`) with `struct
   * kvm_pre_fault_memory`'s u64 `gpa`, `size` and `flags`. Modelled before the launch is finished
   * (model/kernel/pre_fault_memory.ts): the schema refuses one after a launch-finishing op.
   * `arg_readonly`: the struct lies in a read-only mapping, so the copy back faults.
   */
  | {
      readonly kind: 'pre_fault_memory';
      readonly gpa: u64;
      readonly size: u64;
      readonly flags: u64;
      readonly vcpu?: 1 | undefined;
      readonly arg_readonly?: boolean | undefined;
      readonly faults: readonly Fault[];
    }
  | { readonly kind: 'close_vm' }
  /** close() of a guest_memfd fd; the faults hit the release and eviction that may follow. */
  | { readonly kind: 'close_guest_memfd'; readonly guest_memfd: number; readonly faults?: readonly Fault[] | undefined };

export type OpKind = Op['kind'];

/** Operations that enter the populate path (the ones fault plans and coverage are about). */
export const POPULATE_OPS: readonly OpKind[] = ['snp_launch_update', 'tdx_init_mem_region', 'arm_rmi_populate'];

/**
 * Operations of the common code (KVM, guest_memfd, the VMM's mm), which every backend runs
 * (runScenario's own cases); every other kind is one backend's ioctl, listed in its `ops`.
 */
export const GENERIC_OPS: readonly OpKind[] = [
  'create_guest_memfd', 'set_user_memory_region2', 'set_memory_attributes', 'mmap', 'munmap', 'madvise', 'punch_hole', 'fallocate',
  'memory_failure', 'gmem_user_fault', 'gmem_convert', 'close_guest_memfd', 'close_vm', 'pre_fault_memory',
];

/** The operations after which a VM's launch is over (the SNP and TDX ones that set `pre_fault_allowed`). */
export const LAUNCH_FINISH_OPS: readonly OpKind[] = ['snp_launch_finish', 'tdx_finalize_vm'];

/** The in-place series a scenario's machine applies, if any (Scenario.inPlace). */
export function inPlaceSeriesOf(s: Pick<Scenario, 'inPlace'>): string | undefined {
  return s.inPlace === true ? 'v8' : s.inPlace;
}
