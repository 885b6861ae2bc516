/**
 * KVM's view: memslots, per-VM memory attributes, VM and vCPU state. Vendor state that the
 * kernel keeps (as opposed to firmware state) lives in the backend's `kvmArch`.
 */
export const KVM_MEMORY_ATTRIBUTE_PRIVATE = 1 << 3;
export const KVM_MEM_GUEST_MEMFD = 1 << 2;

export interface Memslot {
  /** Slot id (`slot->id`, the low 16 bits of `kvm_userspace_memory_region2.slot`). */
  readonly id: number;
  readonly base_gfn: number;
  readonly npages: number;
  readonly flags: number;
  readonly userspace_addr: number;
  /** Bound guest_memfd and page offset (`slot->gmem.file`, `slot->gmem.pgoff`); 0 when none. */
  readonly gmem_file: number;
  readonly gmem_pgoff: number;
}

export interface KvmState {
  readonly memslots: Map<number, Memslot>;
  /** `kvm->mem_attr_array`: gfn → attributes (absent = 0). */
  readonly attributes: Map<number, number>;
  /** Set by KVM_BUG_ON(): every later VM/vCPU ioctl fails with -EIO. */
  vm_bugged: boolean;
  /** `kvm->arch.pre_fault_allowed`. */
  pre_fault_allowed: boolean;
  /**
   * `kvm->online_vcpus`: vCPUs 0 .. n - 1, all created before the scenario's first op
   * (Scenario.vcpus), so `kvm->created_vcpus` always equals it.
   */
  online_vcpus: number;
  /**
   * How private memory is tracked: per-VM attributes (KVM_SET_MEMORY_ATTRIBUTES), or by
   * guest_memfd itself when the architecture selects no KVM_GENERIC_MEMORY_ATTRIBUTES.
   */
  private_tracking: 'vm-attributes' | 'guest_memfd';
  /**
   * The in-place series' module parameter (v8 10/46 `gmem_in_place_conversion`, 0444): on in the
   * in-place cell of a tree that carries the series' populate (Revision.gmemAttributes), where a
   * NULL source means "the destination as the VMM left it" and private memory is the file's own
   * attribute. The kernel (gmemfile.ts gmem_in_place_conversion()) and the invariants read this one flag.
   */
  gmem_in_place_conversion: boolean;
  /** The VM fd was closed: VM and vCPU ioctls fail with -EBADF. */
  vm_fd_closed: boolean;
  /** The last reference went (VM fd closed, every guest_memfd released): kvm_destroy_vm() ran. */
  destroyed: boolean;
  /**
   * VM and vCPU ioctls under way: each holds the fd it came through (fdget(), a reference in a
   * process whose threads share the fd table), so a close() meanwhile releases the VM only once
   * they return (kvm_vm_release() runs at the last fput).
   */
  ioctls_in_flight: number;
}

export function createKvmState(): KvmState {
  return { memslots: new Map(), attributes: new Map(), vm_bugged: false, pre_fault_allowed: false, online_vcpus: 1, private_tracking: 'vm-attributes', gmem_in_place_conversion: false, vm_fd_closed: false, destroyed: false, ioctls_in_flight: 0 };
}

export function memslotForGfn(kvm: KvmState, gfn: number): Memslot | undefined {
  for (const s of kvm.memslots.values()) {
    if (gfn >= s.base_gfn && gfn < s.base_gfn + s.npages) return s;
  }
  return undefined;
}

/**
 * The first gfn from `gfn` on that no memslot holds (`gfn` itself when none does): how far a walk
 * that stops at a gap can go, which bounds the pages of a range whose size is a u64.
 */
export function memslotRunEnd(kvm: KvmState, gfn: number): number {
  let g = gfn;
  for (let s = memslotForGfn(kvm, g); s !== undefined; s = memslotForGfn(kvm, g)) g = s.base_gfn + s.npages;
  return g;
}
