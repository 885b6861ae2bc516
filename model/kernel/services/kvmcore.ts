import { emit, type World } from '../../world/World.js';
import { KVM_MEM_GUEST_MEMFD, memslotForGfn, type Memslot } from '../../world/kvmState.js';
import { gfnIsPrivate } from '../../world/privacy.js';

/**
 * The KVM structures a revision dereferences, as plain read-only records (the fields the C
 * reads), and the look-ups on them (virt/kvm/kvm_main.c, include/linux/kvm_host.h).
 */
export interface Kvm {
  readonly lock: string;
  readonly slots_lock: string;
  readonly mmu_lock: string;
  /** `kvm->srcu`, taken for read (modelled as a shared lock). */
  readonly srcu: string;
  /** `kvm->arch.config_lock` (arm64). */
  readonly config_lock: string;
}

/** The one modelled VM. */
export const KVM: Kvm = { lock: 'kvm->lock', slots_lock: 'kvm->slots_lock', mmu_lock: 'kvm->mmu_lock', srcu: 'kvm->srcu', config_lock: 'kvm->arch.config_lock' };

/** `vcpu->mutex` of vCPU `vcpu_id` (one lock class, `vcpu->mutex`, for lockdep: world/locks.ts lockClass()). */
export function vcpuMutex(vcpu_id: number): string {
  return `vcpu${vcpu_id}->mutex`;
}

/** `struct kvm_memory_slot` as revisions read it: `slot->base_gfn`, `slot->npages`, `slot->gmem.{file,pgoff}`. */
export type KvmMemorySlot = Memslot;

export interface KvmCoreServices {
  gfn_to_memslot(kvm: Kvm, gfn: number): KvmMemorySlot | null;
  kvm_slot_has_gmem(slot: KvmMemorySlot | null): boolean;
  /** Pre-6.18 name of kvm_slot_has_gmem(). */
  kvm_slot_can_be_private(slot: KvmMemorySlot | null): boolean;
  /** `get_file_active(&slot->gmem.file)`: the bound guest_memfd with a reference, or 0. */
  kvm_gmem_get_file(slot: KvmMemorySlot): number;
  /**
   * `CLASS(gmem_get_file, file)(slot)`: kvm_gmem_get_file() for the rest of `body`, with fput()
   * on every exit (DEFINE_CLASS in virt/kvm/guest_memfd.c, linux/cleanup.h).
   */
  CLASS_gmem_get_file<T>(slot: KvmMemorySlot, body: (file: number) => T): T;
  /** Drops a file reference; the last one releases the file after the ioctl returns (task_work). */
  fput(file: number): void;
  /** `xa_load(&gmem->bindings, index)`: id of the memslot bound at `index`, or null (NULL). */
  kvm_gmem_bindings_load(file: number, index: number): number | null;
  /** True iff every gfn in [start, end) has `(attributes & mask) == attrs`. */
  kvm_range_has_memory_attributes(kvm: Kvm, start: number, end: number, mask: number, attrs: number): boolean;
  /** kvm_is_private_gfn(): the PRIVATE attribute, or guest_memfd's own tracking. */
  kvm_is_private_gfn(kvm: Kvm, gfn: number): boolean;
  /** CONFIG_KVM_GENERIC_MEMORY_ATTRIBUTES: KVM_SET_MEMORY_ATTRIBUTES exists. */
  kvm_vm_memory_attributes(kvm: Kvm): boolean;
  /** `kvm->arch.pre_fault_allowed` (set once the launch is finished/finalized). */
  pre_fault_allowed(kvm: Kvm): boolean;
  set_pre_fault_allowed(kvm: Kvm, allowed: boolean): void;
  /** `kvm_test_request(KVM_REQ_VM_DEAD, vcpu)`: set once the VM is bugged. */
  kvm_vm_dead(kvm: Kvm): boolean;
  /** `kvm_for_each_vcpu()`: the ids of vCPUs 0 .. `atomic_read(&kvm->online_vcpus)` - 1. */
  kvm_vcpu_ids(kvm: Kvm): readonly number[];
}

export function kvmCoreServices(w: World): KvmCoreServices {
  const hasGmem = (slot: KvmMemorySlot | null): boolean => slot !== null && (slot.flags & KVM_MEM_GUEST_MEMFD) !== 0;
  const getFile = (slot: KvmMemorySlot): number => {
    const file = w.gmem.files.get(slot.gmem_file);
    if (file === undefined || file.refcount === 0) return 0;
    file.refcount += 1;
    emit(w, { kind: 'file_ref', file: file.id, delta: 1, refcount: file.refcount });
    return file.id;
  };
  const fput = (id: number): void => {
    const file = w.gmem.files.get(id);
    if (file === undefined) return;
    file.refcount -= 1;
    emit(w, { kind: 'file_ref', file: id, delta: -1, refcount: file.refcount });
  };
  return {
    gfn_to_memslot: (_kvm, gfn) => (w.kvm.destroyed ? undefined : memslotForGfn(w.kvm, gfn)) ?? null,
    kvm_slot_has_gmem: hasGmem,
    kvm_slot_can_be_private: hasGmem,
    kvm_gmem_get_file: getFile,
    CLASS_gmem_get_file(slot, body) {
      const file = getFile(slot);
      try {
        return body(file);
      } finally {
        if (file) fput(file);
      }
    },
    fput,
    kvm_gmem_bindings_load: (id, index) => w.gmem.files.get(id)?.bindings.get(index) ?? null,
    kvm_range_has_memory_attributes(_kvm, start, end, mask, attrs) {
      for (let gfn = start; gfn < end; gfn++) {
        if (((w.kvm.attributes.get(gfn) ?? 0) & mask) !== attrs) return false;
      }
      return true;
    },
    kvm_is_private_gfn: (_kvm, gfn) => gfnIsPrivate(w, gfn),
    kvm_vm_memory_attributes: () => w.kvm.private_tracking === 'vm-attributes',
    pre_fault_allowed: () => w.kvm.pre_fault_allowed,
    set_pre_fault_allowed(_kvm, allowed) {
      w.kvm.pre_fault_allowed = allowed;
    },
    kvm_vm_dead: () => w.kvm.vm_bugged,
    kvm_vcpu_ids: () => Array.from({ length: w.kvm.online_vcpus }, (_v, i) => i),
  };
}
