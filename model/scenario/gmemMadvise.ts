import { EINVAL, ENOMEM } from '../kernel/errno.js';
import { FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE, GUEST_MEMFD_FLAG_MMAP } from '../kernel/guest_memfd.js';
import { MM_LOCK } from '../kernel/services/locking.js';
import type { BootedKernel } from '../backends/Backend.js';
import { emit, type World } from '../world/World.js';
import { gmemMappingAt } from '../world/userspaceMm.js';
import { MADV_DONTNEED, MADV_PAGEOUT, MADV_REMOVE, type Madvice } from './userspace.js';

/**
 * madvise() on the VMM's MAP_SHARED mapping of a guest_memfd (model/world/userspaceMm.ts
 * gmemUserAddress()), as mm/madvise.c does it for a shared file mapping (read at
 * ColinIanKing/linux-next:mm/madvise.c@a9f98443a819f7be9b22a833df05740097b7d0dd:
 * is_valid_madvise(), madvise_walk_vmas(), madvise_dontneed_single_vma(), madvise_remove(),
 * can_do_file_pageout()), under mmap_lock for read:
 * - an unaligned start is -EINVAL, the length is rounded up to pages, an empty range is 0; a part
 *   of the range no VMA covers (past the file's end, or a file the VMM could not map: no
 *   GUEST_MEMFD_FLAG_MMAP) makes the call return -ENOMEM at the end;
 * - MADV_DONTNEED zaps the range's PTEs (zap_page_range_single(): the folios stay in the file,
 *   each PTE's reference goes), as unmap_mapping_pages() does;
 * - MADV_PAGEOUT reclaims nothing: kvm_gmem's inode mapping is unevictable
 *   (mapping_set_unevictable() at creation), so no folio leaves the page cache;
 * - MADV_REMOVE punches the range out of the file: madvise_remove() drops mmap_lock and calls
 *   vfs_fallocate(FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE) on the mapped part, the revision's
 *   kvm_gmem_fallocate(), and returns its answer.
 * The range is taken in one file's mapping (the model's mappings are 2^32 bytes apart).
 */
export function gmemMadvise(w: World, k: BootedKernel['k'], addr: number, length: number, advice: Madvice): number {
  const ps = w.geo.page_size;
  if (addr % ps !== 0 || length < 0) return -EINVAL;
  const end = addr + Math.ceil(length / ps) * ps;
  if (end === addr) return 0;
  const at = gmemMappingAt(addr, ps);
  const f = at === undefined ? undefined : w.gmem.files.get(at.file);
  if (at === undefined || f === undefined || f.released || (f.flags & GUEST_MEMFD_FLAG_MMAP) === 0) return -ENOMEM;
  const nr = Math.min((end - addr) / ps, Math.max(0, f.size / ps - at.index));
  const unmapped = nr < (end - addr) / ps;
  k.mmap_read_lock(MM_LOCK);
  let ret = 0;
  if (nr > 0 && advice === MADV_DONTNEED) k.unmap_mapping_pages(at.file, at.index, nr);
  if (nr > 0 && advice === MADV_REMOVE) {
    k.mmap_read_unlock(MM_LOCK);
    ret = k.kvm_gmem_fallocate(at.file, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, at.index * ps, nr * ps);
    k.mmap_read_lock(MM_LOCK);
  }
  k.mmap_read_unlock(MM_LOCK);
  emit(w, { kind: 'note', text: `madvise of guest_memfd ${at.file}'s mapping, pages [${at.index}, ${at.index + nr}) ${advice === MADV_DONTNEED ? 'MADV_DONTNEED' : advice === MADV_PAGEOUT ? 'MADV_PAGEOUT (unevictable: nothing reclaimed)' : 'MADV_REMOVE'}` });
  if (ret < 0) return ret;
  return unmapped ? -ENOMEM : 0;
}
