import { EBUSY, EHWPOISON } from './errno.js';
import type { GmemK } from './guest_memfd.js';
import { pageRefInc } from './pages.js';
import { folioOf } from './services/filemap.js';
import { hostPage } from '../world/hostMemory.js';
import { emit, type World } from '../world/World.js';

/** The mutex memory_failure() serialises every error with (mm/memory-failure.c). */
export const MF_MUTEX = 'mf_mutex';

/** How the reference memory_failure() keeps on a poisoned page is taken (a page_ref event's `via`). */
export const HWPOISON_REF_VIA = 'get_hwpoison_page';

/**
 * memory_failure(pfn) (mm/memory-failure.c) for a hardware memory error in a page of a guest_memfd:
 * the machine-check handler's work (or the hwpoison-inject debugfs file, corrupt-pfn, which
 * calls the same function; CONFIG_HWPOISON_INJECT). Read from torvalds/linux:mm/memory-failure.c,
 * whose order of steps is the same from v5.16 to v7.0 for a page-cache page:
 *
 * - under mf_mutex, TestSetPageHWPoison(): a page already poisoned is -EHWPOISON;
 * - get_hwpoison_page() takes a reference, which a handled page keeps for good: that is what
 *   keeps a poisoned page out of the allocator once its file lets it go;
 * - lock_page(), unmap user mappings (a guest_memfd page of the model is never user-mapped),
 *   then identify_page_state() -> me_pagecache_clean() -> truncate_error_folio(), which calls
 *   the mapping's `error_remove_folio` with the folio STILL LOCKED, and unlocks after.
 *
 * guest_memfd's kvm_gmem_error_folio() answers MF_DELAYED, which truncate_error_folio() takes
 * for a failure ("Failed to punch page"), so memory_failure() returns -EBUSY: the trees read
 * do not have Lisa Wang's RFC that would make it 0
 * (https://lore.kernel.org/all/57ed0bcbcfcec6fda89d60727467d7bd621c95ab.1760551864.git.wyihan@google.com/).
 * The page stays poisoned and referenced either way; nothing judges this return value.
 *
 * A large folio (the hugepages what-if, a hugetlb-backed guest_memfd) goes through
 * try_memory_failure_hugetlb(): PG_hwpoison on the head page, the head locked, and the same
 * error_remove_folio over the whole folio (me_huge_page()).
 */
export function memory_failure(w: World, k: GmemK, pfn: number): number {
  const p = hostPage(w.host, pfn);
  if (p === undefined) return 0;
  const found = folioOf(w, pfn);
  if (found === undefined) return 0;
  const head = hostPage(w.host, found.folio.pfn);
  if (head === undefined) return 0;
  k.mutex_lock(MF_MUTEX);
  try {
    const poisoned = found.folio.order > 0 ? head : p;
    if (poisoned.hwpoison) return -EHWPOISON;
    poisoned.hwpoison = true;
    emit(w, { kind: 'note', text: `memory_failure: pfn 0x${poisoned.pfn.toString(16)} (guest_memfd ${found.file.id}, index ${found.folio.index}) is hardware-poisoned` });
    pageRefInc(w, head, HWPOISON_REF_VIA);
    k.folio_lock(found.folio.pfn);
    const mf = k.kvm_gmem_error_folio(found.file.id, found.folio.pfn);
    k.folio_unlock(found.folio.pfn);
    return mf === 0 ? 0 : -EBUSY;
  } finally {
    k.mutex_unlock(MF_MUTEX);
  }
}
