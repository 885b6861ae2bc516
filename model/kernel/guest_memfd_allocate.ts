import { EINTR, EINVAL } from './errno.js';
import type { Impl } from './bind.js';
import type { GmemK } from './guest_memfd.js';
import { IS_ERR, PTR_ERR } from './services/errptr.js';
import { current } from './services/sched.js';

/**
 * fallocate() in allocate mode (FALLOC_FL_KEEP_SIZE without PUNCH_HOLE) on a guest_memfd:
 * kvm_gmem_fallocate() hands it to kvm_gmem_allocate(), which puts a folio in the page cache for
 * every index of the range, the way the revision's kvm_gmem_get_folio() makes one.
 *
 * The loop is the same from v6.8 (torvalds/linux:virt/kvm/guest_memfd.c@a7800aa80ea4d5356b8474c2302812e9d4926fa6)
 * to the in-place conversion trees (kvm-x86/linux@5e38e1bd4e7bbed05481fd358ed47396930b7d1a,
 * kamalca/linux@6f122715419d21a1100823285cb48e99e2366be5: no shareability check); what it leaves
 * behind is the generation's kvm_gmem_get_folio(): up to v6.10 a zeroed, uptodate (on v6.10
 * also arch-prepared) folio, from v6.11 a folio neither cleared nor uptodate, which the first
 * kvm_gmem_get_pfn(), host fault or populate clears. paolo-v1 has its own (it asks
 * kvm_gmem_get_folio() to prepare: model/revisions/paolo-v1.ts).
 */
export interface GmemAllocateFns {
  kvm_gmem_allocate(inode: number, offset: number, len: number): number;
}

/** The revision's own kvm_gmem_get_folio(): a locked folio with a reference, or ERR_PTR. */
type AllocK = GmemK & { kvm_gmem_get_folio(inode: number, index: number): number };

/**
 * v6.11 and later (torvalds/linux:virt/kvm/guest_memfd.c@0f94e51b5320eacccc2626ab70b8d7e705332334,
 * @01f492e1817e858d1712f2489d0afbaa552f417b, and the trees above): the range must lie inside the
 * file, the invalidate lock is taken shared, a pending signal stops the loop with -EINTR and a
 * folio that cannot be had with its error; folios already made stay (nothing is rolled back).
 */
export const gmemAllocateV611: Impl<GmemAllocateFns, AllocK> = {
  kvm_gmem_allocate: (k, inode, offset, len) => kvm_gmem_allocate_loop(k, inode, offset, len, (index) => k.kvm_gmem_get_folio(inode, index)),
};

/**
 * kvm_gmem_allocate()'s body, the same in every tree from v6.8: `get_folio` is the tree's
 * folio lookup as the loop calls it, a locked folio with a reference or an ERR_PTR (v6.8's NULL
 * is its caller's -ENOMEM).
 */
export function kvm_gmem_allocate_loop(k: GmemK, inode: number, offset: number, len: number, get_folio: (index: number) => number): number {
  // "Dedicated guest is immutable by default."
  if (offset + len > k.gmem_file_size(inode)) return -EINVAL;
  k.filemap_invalidate_lock_shared(inode);
  const start = offset / k.PAGE_SIZE;
  const end = (offset + len) / k.PAGE_SIZE;
  let r = 0;
  for (let index = start; index < end;) {
    if (k.signal_pending(current)) {
      r = -EINTR;
      break;
    }
    const folio = get_folio(index);
    if (IS_ERR(folio)) {
      r = PTR_ERR(folio);
      break;
    }
    index = k.folio_next_index(folio);
    k.folio_unlock(folio);
    k.folio_put(folio);
    // 64-bit only: the index cannot wrap.
    if (k.WARN_ON_ONCE(!index)) break;
    k.cond_resched();
  }
  k.filemap_invalidate_unlock_shared(inode);
  return r;
}
