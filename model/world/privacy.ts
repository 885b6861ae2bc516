import type { World } from './World.js';
import { KVM_MEMORY_ATTRIBUTE_PRIVATE, memslotForGfn } from './kvmState.js';

/** GUEST_MEMFD_FLAG_INIT_SHARED (include/uapi/linux/kvm.h). */
export const GUEST_MEMFD_FLAG_INIT_SHARED = 1 << 1;

/**
 * Whether `gfn` is private memory right now: its PRIVATE attribute, or, where guest_memfd
 * tracks it (kvm_is_private_gfn() with no per-VM attributes), whether the backing guest_memfd
 * index is private, which for a file created without INIT_SHARED is every index.
 */
export function gfnIsPrivate(w: World, gfn: number): boolean {
  if (w.kvm.private_tracking === 'vm-attributes') return ((w.kvm.attributes.get(gfn) ?? 0) & KVM_MEMORY_ATTRIBUTE_PRIVATE) !== 0;
  const slot = memslotForGfn(w.kvm, gfn);
  const file = slot === undefined ? undefined : w.gmem.files.get(slot.gmem_file);
  return file !== undefined && (file.flags & GUEST_MEMFD_FLAG_INIT_SHARED) === 0;
}
