import { emit, type World } from '../../world/World.js';
import type { Memslot } from '../../world/kvmState.js';

/** Memslot array and `kvm->mem_attr_array` updates (virt/kvm/kvm_main.c bookkeeping). */
export interface MemslotServices {
  memslot_by_id(id: number): Memslot | null;
  /** A slot other than `except` overlapping [base_gfn, base_gfn + npages). */
  memslot_overlaps(base_gfn: number, npages: number, except: number): boolean;
  memslot_install(slot: Memslot): void;
  memslot_delete(id: number): void;
  /** xa_load(&kvm->mem_attr_array, gfn). */
  kvm_get_memory_attributes(gfn: number): number;
  /** xa_store(&kvm->mem_attr_array, gfn, ...). */
  kvm_store_memory_attributes(gfn: number, attributes: number): void;
}

export function memslotServices(w: World): MemslotServices {
  return {
    memslot_by_id: (id) => w.kvm.memslots.get(id) ?? null,
    memslot_overlaps(base, npages, except) {
      for (const s of w.kvm.memslots.values()) {
        if (s.id !== except && base < s.base_gfn + s.npages && s.base_gfn < base + npages) return true;
      }
      return false;
    },
    memslot_install(slot) {
      w.kvm.memslots.set(slot.id, slot);
    },
    memslot_delete(id) {
      w.kvm.memslots.delete(id);
    },
    kvm_get_memory_attributes: (gfn) => w.kvm.attributes.get(gfn) ?? 0,
    kvm_store_memory_attributes(gfn, attributes) {
      const before = w.kvm.attributes.get(gfn) ?? 0;
      if (attributes === 0) w.kvm.attributes.delete(gfn);
      else w.kvm.attributes.set(gfn, attributes);
      emit(w, { kind: 'attr', gfn, before, after: attributes });
    },
  };
}
