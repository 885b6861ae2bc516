import { emit, type World } from '../../world/World.js';
import { ENOMEM } from '../errno.js';
import { nextFault } from '../faults.js';
import type { Memslot } from '../../world/kvmState.js';
import type { GmemFile, Shareability } from '../../world/gmem.js';
import { hostPage } from '../../world/hostMemory.js';
import { pageRefDec } from '../pages.js';

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
  /**
   * The in-place series' module parameter (v8 10/46 `gmem_in_place_conversion`, 0444; v7's
   * `vm_memory_attributes` with the opposite sense): KvmState.gmem_in_place_conversion.
   */
  gmem_in_place_conversion(): boolean;
  /** mtree_load() of the in-place series' shareability tree; undefined past what it covers. */
  gmem_shareability_load(file: number, index: number): Shareability | undefined;
  /** mtree_store_range() of the shareability tree over indices [start, end). */
  gmem_shareability_store(file: number, start: number, end: number, to: Shareability): void;
  /**
   * finish_fault() after vm_ops->fault returned VM_FAULT_LOCKED with `page`: the PTE of the VMM's
   * mapping of `file` at `pgoff` now maps it, keeping the reference the fault returned (or, where
   * another fault mapped the index first, drops it).
   */
  finish_fault(file: number, pgoff: number, page: number): void;
  /** Whether the VMM's mapping of `file` has a PTE at `pgoff` (a later access does not fault). */
  gmem_pte_present(file: number, pgoff: number): boolean;
  /** unmap_mapping_pages(mapping, start, nr, false): zaps the PTEs of [start, start + nr) and drops their references. */
  unmap_mapping_pages(file: number, start: number, nr: number): void;
}

/**
 * Zaps the VMM's PTEs on indices [start, end) of a guest_memfd (unmap_mapping_pages(), and
 * truncation's unmap_mapping_folio() of a mapped folio), each dropping its page reference.
 */
export function zapGmemPtes(w: World, f: GmemFile, start: number, end: number): void {
  for (const [index, pfn] of [...f.hostMapped].sort((a, b) => a[0] - b[0])) {
    if (index < start || index >= end) continue;
    f.hostMapped.delete(index);
    emit(w, { kind: 'gmem_pte', file: f.id, index, pfn, action: 'unmap' });
    const p = hostPage(w.host, pfn);
    if (p !== undefined) pageRefDec(w, p, 'zap_pte');
  }
}

export function gmemFileServices(w: World): GmemFileServices {
  const file = (id: number) => w.gmem.files.get(id);
  return {
    gmem_file_create(size, flags) {
      const id = w.gmem.nextId++;
      w.gmem.files.set(id, { id, size, flags, refcount: 1, fdOpen: true, released: false, folios: new Map(), bindings: new Map(), shareability: new Map(), hostMapped: new Map() });
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
    gmem_in_place_conversion: () => w.kvm.gmem_in_place_conversion,
    gmem_shareability_load: (id, index) => file(id)?.shareability.get(index),
    gmem_shareability_store(id, start, end, to) {
      const f = file(id);
      if (f === undefined) return;
      for (let i = start; i < end; i++) f.shareability.set(i, to);
      emit(w, { kind: 'shareability', file: id, start, end, to });
    },
    finish_fault(id, pgoff, page) {
      const f = file(id);
      if (f === undefined) return;
      // Another thread's fault installed the PTE meanwhile: finish_fault() finds the PTE no
      // longer none (VM_FAULT_NOPAGE) and the caller drops the folio's reference.
      if (f.hostMapped.has(pgoff)) {
        const p = hostPage(w.host, page);
        if (p !== undefined) pageRefDec(w, p, 'finish_fault');
        return;
      }
      f.hostMapped.set(pgoff, page);
      emit(w, { kind: 'gmem_pte', file: id, index: pgoff, pfn: page, action: 'map' });
    },
    gmem_pte_present: (id, pgoff) => file(id)?.hostMapped.has(pgoff) === true,
    unmap_mapping_pages(id, start, nr) {
      const f = file(id);
      if (f !== undefined) zapGmemPtes(w, f, start, start + nr);
    },
  };
}
