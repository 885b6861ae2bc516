import { EINVAL, EOPNOTSUPP } from './errno.js';
import type { Impl } from './bind.js';
import type { KernelServices } from './Kernel.js';
import { KVM, type Kvm, type KvmMemorySlot } from './services/kvmcore.js';
import type { GmemBindFns } from './guest_memfd_bind.js';
import type { GmemCreateFns } from './guest_memfd_create.js';
import type { GmemFaultFns } from './guest_memfd_fault.js';
import type { GmemAllocateFns } from './guest_memfd_allocate.js';

/**
 * guest_memfd code that no modelled revision changes (the populate path lives in the
 * revisions), mirrored from kvm-x86/linux:virt/kvm/guest_memfd.c@5e38e1bd4e7bbed05481fd358ed47396930b7d1a.
 * What the generations write differently has a form per generation that each revision's table
 * names: kvm_gmem_bind() (guest_memfd_bind.ts), kvm_gmem_create() (guest_memfd_create.ts) and the
 * host fault path (guest_memfd_fault.ts). VFS plumbing (inodes, fops, the bindings xarray's RCU)
 * is not modelled.
 */
export const GUEST_MEMFD_FLAG_MMAP = 1 << 0;
export const GUEST_MEMFD_FLAG_INIT_SHARED = 1 << 1;
export const FALLOC_FL_KEEP_SIZE = 0x01;
export const FALLOC_FL_PUNCH_HOLE = 0x02;

/** The arch hooks guest_memfd calls (CONFIG_HAVE_KVM_ARCH_GMEM_INVALIDATE and the MMU zap). */
export interface GmemArchHooks {
  /** `.free_folio` → kvm_arch_gmem_invalidate(start_pfn, end_pfn). */
  kvm_arch_gmem_invalidate(start: number, end: number): void;
  /** kvm_mmu_unmap_gfn_range() for the gfns of an invalidated range. */
  kvm_mmu_unmap_gfn_range(kvm: Kvm, start: number, end: number): void;
  /** Whether a guest_memfd of `kvm` may start shared (GUEST_MEMFD_FLAG_INIT_SHARED, v6.18+). */
  kvm_arch_supports_gmem_init_shared(kvm: Kvm): boolean;
}

export interface GmemCommonFns {
  kvm_gmem_unbind(slot: KvmMemorySlot): void;
  kvm_gmem_get_index(slot: KvmMemorySlot, gfn: number): number;
  kvm_gmem_fallocate(file: number, mode: number, offset: number, len: number): number;
  kvm_gmem_punch_hole(file: number, offset: number, len: number): number;
  /** Zaps every gfn bound to [start, end) of the file (kvm_gmem_invalidate_begin). */
  kvm_gmem_invalidate_begin(file: number, start: number, end: number): void;
  /** f_op->release of the last file reference; eviction of the inode follows. */
  kvm_gmem_release(file: number): void;
  /** `aops->error_remove_folio`: memory_failure() met a hardware error in `folio` (called with it locked). */
  kvm_gmem_error_folio(mapping: number, folio: number): number;
  kvm_gmem_free_folio(folio: number): void;
}

export type GmemK = KernelServices & GmemArchHooks & GmemCommonFns & GmemBindFns & GmemCreateFns & GmemFaultFns & GmemAllocateFns;

export const VM_FAULT_SIGBUS = 0x0002;

/** enum mf_result (include/linux/mm.h): the error is handled later, at the next access. */
export const MF_DELAYED = 2;

export const gmemCommon: Impl<GmemCommonFns, GmemK> = {
  // Shared by every generation: its forms differ only for a file being closed (ae431059e75d,
  // v6.18: unbind even then; kvm-x86 takes no file reference), which the model never interleaves.
  // Erasing never allocates, so none checks xa_store_range()'s result.
  kvm_gmem_unbind(k, slot) {
    const file = slot.gmem_file;
    if (file === 0) return;
    const start = slot.gmem_pgoff;
    k.filemap_invalidate_lock(file);
    k.xa_store_range(file, start, start + slot.npages, null);
    k.filemap_invalidate_unlock(file);
  },

  kvm_gmem_get_index: (_k, slot, gfn) => gfn - slot.base_gfn + slot.gmem_pgoff,

  kvm_gmem_fallocate(k, file, mode, offset, len) {
    // vfs_fallocate() refuses an empty range before f_op->fallocate; the mode bits it refuses
    // itself it refuses with the -EOPNOTSUPP guest_memfd gives them.
    if (len <= 0) return -EINVAL;
    if ((mode & FALLOC_FL_KEEP_SIZE) === 0) return -EOPNOTSUPP;
    if ((mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE)) !== 0) return -EOPNOTSUPP;
    if (offset % k.PAGE_SIZE !== 0 || len % k.PAGE_SIZE !== 0) return -EINVAL;
    // file_modified() on success (timestamps) is not modelled.
    if ((mode & FALLOC_FL_PUNCH_HOLE) !== 0) return k.kvm_gmem_punch_hole(file, offset, len);
    return k.kvm_gmem_allocate(file, offset, len);
  },

  kvm_gmem_punch_hole(k, file, offset, len) {
    const start = offset / k.PAGE_SIZE;
    const end = start + len / k.PAGE_SIZE;
    k.filemap_invalidate_lock(file);
    k.kvm_gmem_invalidate_begin(file, start, end);
    k.truncate_inode_pages_range(file, offset, offset + len - 1);
    k.filemap_invalidate_unlock(file);
    return 0;
  },

  kvm_gmem_invalidate_begin(k, file, start, end) {
    for (const b of k.gmem_binding_ranges(file, start, end)) {
      k.kvm_mmu_unmap_gfn_range(KVM, b.gfn_start, b.gfn_end);
    }
  },

  kvm_gmem_release(k, file) {
    k.mutex_lock(KVM.slots_lock);
    k.filemap_invalidate_lock(file);
    k.gmem_detach_slots(file);
    k.kvm_gmem_invalidate_begin(file, 0, Number.MAX_SAFE_INTEGER);
    k.filemap_invalidate_unlock(file);
    k.mutex_unlock(KVM.slots_lock);
    // "Do not free the backing memory, as its lifetime is associated with the inode, not the
    // file": the inode goes with its last reference, and eviction truncates its page cache.
    k.truncate_inode_pages_range(file, 0, Number.MAX_SAFE_INTEGER);
  },

  // The same from v6.8 (torvalds/linux:virt/kvm/guest_memfd.c@a7800aa80ea4d5356b8474c2302812e9d4926fa6,
  // then named for error_remove_folio) to torvalds/linux@01f492e1817e858d1712f2489d0afbaa552f417b
  // and the in-place trees: zap the folio's gfns and leave the folio in the page cache, poisoned,
  // so that the guest's next access (kvm_gmem_get_pfn(): -EHWPOISON) tells userspace. It takes
  // the invalidate lock while memory_failure() holds the folio lock (model/kernel/memory_failure.ts).
  kvm_gmem_error_folio(k, mapping, folio) {
    k.filemap_invalidate_lock_shared(mapping);
    const start = k.folio_index(folio);
    const end = start + k.folio_nr_pages(folio);
    k.kvm_gmem_invalidate_begin(mapping, start, end);
    k.filemap_invalidate_unlock_shared(mapping);
    return MF_DELAYED;
  },

  kvm_gmem_free_folio(k, folio) {
    const pfn = k.folio_file_pfn(folio, 0);
    k.kvm_arch_gmem_invalidate(pfn, pfn + k.folio_nr_pages(folio));
  },
};
