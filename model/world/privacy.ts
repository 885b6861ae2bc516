import type { World } from './World.js';
import { KVM_MEMORY_ATTRIBUTE_PRIVATE, memslotForGfn } from './kvmState.js';
import type { GmemFile } from './gmem.js';

/** GUEST_MEMFD_FLAG_INIT_SHARED (include/uapi/linux/kvm.h). */
export const GUEST_MEMFD_FLAG_INIT_SHARED = 1 << 1;

/**
 * Whether `gfn` is private memory right now: its PRIVATE attribute, or, where guest_memfd
 * tracks it (kvm_is_private_gfn() with no per-VM attributes), whether the backing guest_memfd
 * index is private: the in-place series' per-index attributes where the file keeps them (v8's
 * kvm_gmem_range_is_private(), 10/46), else every index of a file created without INIT_SHARED.
 */
export function gfnIsPrivate(w: World, gfn: number): boolean {
  if (w.kvm.private_tracking === 'vm-attributes') return ((w.kvm.attributes.get(gfn) ?? 0) & KVM_MEMORY_ATTRIBUTE_PRIVATE) !== 0;
  const slot = memslotForGfn(w.kvm, gfn);
  const file = slot === undefined ? undefined : w.gmem.files.get(slot.gmem_file);
  if (slot === undefined || file === undefined) return false;
  return gmemIndexPrivate(file, gfn - slot.base_gfn + slot.gmem_pgoff);
}

/**
 * Whether guest_memfd `file` holds page `index` private: the in-place series' per-index attribute
 * where the file keeps them (an attribute for every index below its size; past it, none is
 * private: kvm_gmem_range_is_private() finds no PRIVATE entry there), else every index of a file
 * created without INIT_SHARED.
 */
export function gmemIndexPrivate(file: Pick<GmemFile, 'shareability' | 'flags'>, index: number): boolean {
  if (file.shareability.size > 0) return file.shareability.get(index) === 'private';
  return (file.flags & GUEST_MEMFD_FLAG_INIT_SHARED) === 0;
}
