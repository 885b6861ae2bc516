import { emit, type World } from '../../world/World.js';
import { ENOMEM } from '../errno.js';
import { nextFault } from '../faults.js';
import type { Memslot } from '../../world/kvmState.js';

/**
 * The VFS and xarray bookkeeping under guest_memfd (inode creation, `gmem->bindings`,
 * `slot->gmem.file`), as services: the model keeps it as data rather than mirroring the
 * plumbing, which no revision touches.
 */
export interface GmemFileServices {
  /** __kvm_gmem_create(): a new file with its fd reference; returns its handle. */
  gmem_file_create(size: number, flags: number): number;
  gmem_file_exists(file: number): boolean;
  gmem_file_size(file: number): number;
  gmem_file_flags(file: number): number;
  /** Any index in [start, end) bound (xa_find). */
  gmem_bindings_any(file: number, start: number, end: number): boolean;
  /**
   * xa_store_range(&gmem->bindings, start, end - 1, slot, GFP_KERNEL); null erases. Storing a
   * slot may need radix-tree nodes: a failing allocation (fault site `alloc:xa_node`) returns
   * -ENOMEM and stores nothing (the C may keep a prefix of the range; nothing is one outcome).
   * Erasing never allocates.
   */
  xa_store_range(file: number, start: number, end: number, slot: number | null): number;
  /** The gfn ranges bound to file indexes [start, end), per memslot. */
  gmem_binding_ranges(file: number, start: number, end: number): { gfn_start: number; gfn_end: number }[];
  /** WRITE_ONCE(slot->gmem.file, NULL) for every slot bound to the file. */
  gmem_detach_slots(file: number): void;
}

export function gmemFileServices(w: World): GmemFileServices {
  const file = (id: number) => w.gmem.files.get(id);
  return {
    gmem_file_create(size, flags) {
      const id = w.gmem.nextId++;
      w.gmem.files.set(id, { id, size, flags, refcount: 1, fdOpen: true, released: false, folios: new Map(), bindings: new Map() });
      emit(w, { kind: 'file_ref', file: id, delta: 1, refcount: 1 });
      return id;
    },
    gmem_file_exists: (id) => file(id)?.fdOpen === true,
    gmem_file_size: (id) => file(id)?.size ?? 0,
    gmem_file_flags: (id) => file(id)?.flags ?? 0,
    gmem_bindings_any(id, start, end) {
      const f = file(id);
      if (f === undefined) return false;
      for (let i = start; i < end; i++) if (f.bindings.has(i)) return true;
      return false;
    },
    xa_store_range(id, start, end, slot) {
      const f = file(id);
      if (f === undefined) return 0;
      if (slot !== null && nextFault(w, 'alloc:xa_node') !== undefined) return -ENOMEM;
      for (let i = start; i < end; i++) {
        if (slot === null) f.bindings.delete(i);
        else f.bindings.set(i, slot);
      }
      return 0;
    },
    gmem_binding_ranges(id, start, end) {
      // xa_for_each_range(&gmem->bindings, ...): the bindings, not slot->gmem.file, which
      // kvm_gmem_release() clears before it invalidates.
      const out: { gfn_start: number; gfn_end: number }[] = [];
      const f = file(id);
      if (f === undefined) return out;
      for (const [index, slotId] of [...f.bindings].sort((a, b) => a[0] - b[0])) {
        if (index < start || index >= end) continue;
        const s = w.kvm.memslots.get(slotId);
        if (s === undefined) continue;
        const gfn = s.base_gfn + index - s.gmem_pgoff;
        const last = out[out.length - 1];
        if (last !== undefined && last.gfn_end === gfn) last.gfn_end = gfn + 1;
        else out.push({ gfn_start: gfn, gfn_end: gfn + 1 });
      }
      return out;
    },
    gmem_detach_slots(id) {
      for (const [sid, s] of w.kvm.memslots) {
        if (s.gmem_file === id) {
          const detached: Memslot = { ...s, gmem_file: 0 };
          w.kvm.memslots.set(sid, detached);
        }
      }
    },
  };
}
