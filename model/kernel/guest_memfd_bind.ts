import { EBADF, EEXIST, EINVAL } from './errno.js';
import type { Impl } from './bind.js';
import type { GmemK } from './guest_memfd.js';
import type { Kvm, KvmMemorySlot } from './services/kvmcore.js';
import { as_loff_t, loff_add, u64_add, u64ToIndex, type u64 } from './u64.js';

/**
 * kvm_gmem_bind(), per generation: a revision's table takes the form its tree has, so the bind
 * never decides a verdict for a revision whose C differs. KVM_SET_USER_MEMORY_REGION2 passes
 * `mem->guest_memfd_offset` (a __u64) as `offset`; kvm_set_memory_region() has already refused an
 * unaligned offset and an offset + memory_size that wraps 2^64.
 *
 * Not modelled: the `file->f_op != &kvm_gmem_fops` and `f->kvm != kvm` checks (-EINVAL): every
 * fd of a scenario is a guest_memfd of its one VM. Research notes: kernel-facts §1, and the
 * bind thread below.
 */
export interface GmemBindFns {
  kvm_gmem_bind(kvm: Kvm, slot: KvmMemorySlot, fd: number, offset: u64): number;
}

/**
 * v6.8 .. v7.0 (and 7.1.y before the backport), torvalds/linux:virt/kvm/guest_memfd.c@028ef9c96e96197026887c0f092424679298aae8
 * (v7.0; the same kvm_gmem_bind() as the stored @01f492e1817e858d1712f2489d0afbaa552f417b):
 * `loff_t offset`, so `offset + size > i_size_read(inode)` is a signed sum that wraps negative
 * when offset is just below 2^63 (the kernel builds with -fno-strict-overflow) and the bind is
 * accepted past the end of the file (B15, confirmed by Sean Christopherson in "guest_memfd fixes
 * for bind and populate", 2026-05-27: "Yes, that's a real bug, confirmed via selftest"). An
 * overlapping binding is -EINVAL. xa_store_range()'s result is ignored (B16).
 */
export const gmemBindLoff: Impl<GmemBindFns, GmemK> = {
  kvm_gmem_bind(k, _kvm, slot, fd, u64_offset) {
    const offset = as_loff_t(u64_offset);
    const size = BigInt(slot.npages) * BigInt(k.PAGE_SIZE);
    if (!k.gmem_file_exists(fd)) return -EBADF;
    if (offset < 0n || offset % BigInt(k.PAGE_SIZE) !== 0n || loff_add(offset, size) > BigInt(k.gmem_file_size(fd))) return -EINVAL;
    k.filemap_invalidate_lock(fd);
    const start = u64ToIndex(u64_offset, k.PAGE_SHIFT);
    const end = start + slot.npages;
    if (k.gmem_bindings_any(fd, start, end)) {
      k.filemap_invalidate_unlock(fd);
      return -EINVAL;
    }
    // WRITE_ONCE(slot->gmem.file, file); slot->gmem.pgoff = start: the caller's slot carries both.
    k.xa_store_range(fd, start, end, slot.id);
    k.filemap_invalidate_unlock(fd);
    return 0;
  },
};

/**
 * kvm-x86 after eba85fee7fc6 ("KVM: guest_memfd: Treat memslot binding offset+size as unsigned
 * values") and 7ea987a90585 ("KVM: guest_memfd: Return -EEXIST for overlapping bindings"):
 * kvm-x86/linux:virt/kvm/guest_memfd.c@5e38e1bd4e7bbed05481fd358ed47396930b7d1a, the same in
 * kamalca/linux:virt/kvm/guest_memfd.c@6f122715419d21a1100823285cb48e99e2366be5. `uoff_t offset`:
 * the sum is unsigned and cannot wrap (the caller refused that). xa_store_range()'s result is
 * still ignored: the roll-back (Ackerley Tng, v2 3/5 "Handle errors from xa_store_range() when
 * binding") was skipped on apply and lives only in sean-jc/linux@046bca20, which no revision models.
 */
export const gmemBindUoff: Impl<GmemBindFns, GmemK> = {
  kvm_gmem_bind(k, _kvm, slot, fd, offset) {
    const size = BigInt(slot.npages) * BigInt(k.PAGE_SIZE);
    if (!k.gmem_file_exists(fd)) return -EBADF;
    if (offset % BigInt(k.PAGE_SIZE) !== 0n || u64_add(offset, size) > BigInt(k.gmem_file_size(fd))) return -EINVAL;
    k.filemap_invalidate_lock(fd);
    const start = u64ToIndex(offset, k.PAGE_SHIFT);
    const end = start + slot.npages;
    if (k.gmem_bindings_any(fd, start, end)) {
      k.filemap_invalidate_unlock(fd);
      return -EEXIST;
    }
    k.xa_store_range(fd, start, end, slot.id);
    k.filemap_invalidate_unlock(fd);
    return 0;
  },
};
