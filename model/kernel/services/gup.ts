import { EFAULT } from '../errno.js';
import { emit, currentSite, type World } from '../../world/World.js';
import { findVma } from '../../world/userspaceMm.js';
import { hostPage } from '../../world/hostMemory.js';
import { nextFault } from '../faults.js';
import { pageRefInc } from '../pages.js';
import { isZeroPage, writablePfn } from '../zeroPage.js';
import { switchPoint } from '../../world/switchPoint.js';
import type { PagePtrArray } from './slab.js';
import { MM_LOCK, mightLockRead, lockHeldBy } from './locking.js';

export const FOLL_WRITE = 0x01;

/**
 * get_user_pages*() (mm/gup.c): takes a reference on each page mapping [start, start +
 * nr_pages * PAGE_SIZE) and stores it in `pages`. `start` is rounded down to a page boundary
 * (`start = untagged_addr(start) & PAGE_MASK`). It stops at the first hole, or the first
 * read-only page when FOLL_WRITE is asked; it returns how many pages it took, or -EFAULT when
 * none. An untouched anonymous page is the zero page to a read pin and a fresh page to a write
 * pin. Lockdep always learns that it may take mmap_lock for read (`might_lock_read()` on
 * the slow-path fallback), whether or not the fast path succeeds.
 */
export interface GupServices {
  /** `this: void`: a closure over the world, handed to the CCA services as a function pointer. */
  get_user_pages_fast(this: void, start: number, nr_pages: number, gup_flags: number, pages: PagePtrArray): number;
  /** The caller holds mmap_lock (mmap_assert_locked). */
  get_user_pages(start: number, nr_pages: number, gup_flags: number, pages: PagePtrArray): number;
}

function gup(w: World, start: number, nr_pages: number, gup_flags: number, pages: PagePtrArray): number {
  const ps = w.geo.page_size;
  const base = Math.floor(start / ps) * ps;
  const fault = nextFault(w, 'gup');
  let limit = nr_pages;
  if (fault?.kind === 'gup') limit = fault.result === 'efault' ? 0 : nr_pages - 1;
  const pfns: number[] = [];
  for (let i = 0; i < limit; i++) {
    const uaddr = base + i * ps;
    const vma = findVma(w.mm, uaddr);
    if (vma === undefined) break;
    if ((gup_flags & FOLL_WRITE) !== 0 && vma.prot === 'ro') break;
    // FOLL_WRITE faults the page in for write, which breaks the zero page's COW; a read pin
    // takes the zero page itself (model/kernel/zeroPage.ts).
    const pfn = (gup_flags & FOLL_WRITE) !== 0 ? writablePfn(w, vma, uaddr) : vma.pfns[(uaddr - vma.start) / ps];
    const p = pfn === undefined ? undefined : hostPage(w.host, pfn);
    if (p === undefined) break;
    pageRefInc(w, p, 'gup');
    p.gupRefs += 1;
    if ((gup_flags & FOLL_WRITE) !== 0) p.gupWriteRefs += 1;
    pages.set(i, p.pfn);
    pfns.push(p.pfn);
  }
  const ret = nr_pages <= 0 ? 0 : pfns.length === 0 ? -EFAULT : pfns.length;
  emit(w, { kind: 'gup', start, nr_pages, gup_flags, pfns, ret });
  return ret;
}

/**
 * Whether an access to user address `uaddr` faults: nothing mapped there, or the shared zero
 * page. The model maps an untouched page to the zero page at mmap(); the kernel maps it at the
 * first access, in a fault under mmap_lock, and breaks it at the first write. Counting every
 * access to a zero-page address as a fault over-approximates only reads after the first.
 */
export function userAccessFaults(w: World, uaddr: number): boolean {
  const vma = findVma(w.mm, uaddr);
  const pfn = vma?.pfns[Math.floor((uaddr - (vma?.start ?? 0)) / w.geo.page_size)];
  return pfn === undefined || isZeroPage(w, pfn);
}

export function gupServices(w: World): GupServices {
  return {
    get_user_pages_fast(start, nr_pages, gup_flags, pages) {
      mightLockRead(w, MM_LOCK);
      // The lockless walk fails at a page it cannot pin; the slow path then walks the range with
      // mmap_lock held for read (mm/gup.c gup_fast_fallback()): a switch point.
      const base = Math.floor(start / w.geo.page_size) * w.geo.page_size;
      for (let i = 0; i < nr_pages; i++) {
        if (!userAccessFaults(w, base + i * w.geo.page_size)) continue;
        switchPoint(w, { kind: 'fault', lock: MM_LOCK, uaddr: base + i * w.geo.page_size, site: currentSite(w) });
        break;
      }
      return gup(w, start, nr_pages, gup_flags, pages);
    },
    get_user_pages(start, nr_pages, gup_flags, pages) {
      const held = lockHeldBy(w, MM_LOCK);
      emit(w, { kind: 'lockdep_assert_held', lock: MM_LOCK, held, site: currentSite(w) });
      return gup(w, start, nr_pages, gup_flags, pages);
    },
  };
}
