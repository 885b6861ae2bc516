import { EFAULT } from '../errno.js';
import { emit, currentSite, type World } from '../../world/World.js';
import { findVma, gmemMappingAt } from '../../world/userspaceMm.js';
import { hostPage } from '../../world/hostMemory.js';
import { nextFault } from '../faults.js';
import { pageRefInc } from '../pages.js';
import { isZeroPage, writablePfn } from '../zeroPage.js';
import { switchPoint } from '../../world/switchPoint.js';
import type { PagePtrArray } from './slab.js';
import { MM_LOCK, mightLockRead, lockHeldBy, acquire, release } from './locking.js';

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
    const pfn = userPagePfn(w, uaddr, (gup_flags & FOLL_WRITE) !== 0);
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
 * The pfn a user access to the page at `uaddr` reaches, faulting it in as the kernel would;
 * undefined where it fails (a hole, a read-only page for `write`, a fault that maps nothing). In
 * anonymous memory a write breaks the zero page's COW and a read takes the zero page itself
 * (model/kernel/zeroPage.ts).
 */
export function userPagePfn(w: World, uaddr: number, write: boolean): number | undefined {
  const ps = w.geo.page_size;
  const gmem = gmemMappingAt(uaddr, ps);
  if (gmem !== undefined) return gmemUserPagePfn(w, gmem.file, gmem.index);
  const vma = findVma(w.mm, uaddr);
  if (vma === undefined || (write && vma.prot === 'ro')) return undefined;
  return write ? writablePfn(w, vma, uaddr) : vma.pfns[Math.floor((uaddr - vma.start) / ps)];
}

/**
 * A page of the VMM's MAP_SHARED read-write mapping of a guest_memfd: the page its PTE maps, or,
 * with none, what handle_mm_fault() gets from the generation's vm_ops->fault (w.hooks.gmem_fault),
 * run under mmap_lock for read as GUP's slow path and a uaccess fault run it (taken here unless the
 * caller already holds it: get_user_pages() under populate_region()'s mmap_read_lock). So GUP of a
 * source in such a mapping takes whatever the fault takes, under whatever the caller holds: with
 * the in-place series, the file's invalidate lock (B2 in one thread: the old populate path holds
 * that lock exclusive around its GUP and copy_from_user()). A file without GUEST_MEMFD_FLAG_MMAP
 * has no mapping (kvm_gmem_mmap() refused it; its fault answers -ENODEV): an access there fails
 * as in a hole, though it takes mmap_lock first, as GUP's slow path does to find no VMA.
 */
function gmemUserPagePfn(w: World, file: number, index: number): number | undefined {
  const f = w.gmem.files.get(file);
  if (f === undefined || f.released) return undefined;
  const mapped = f.hostMapped.get(index);
  if (mapped !== undefined) return mapped;
  const held = lockHeldBy(w, MM_LOCK);
  if (!held) acquire(w, MM_LOCK, 'shared');
  w.hooks.gmem_fault(file, index);
  if (!held) release(w, MM_LOCK, 'shared');
  return f.hostMapped.get(index);
}

/**
 * Whether an access to user address `uaddr` faults: nothing mapped there, or the shared zero
 * page. The model maps an untouched page to the zero page at mmap(); the kernel maps it at the
 * first access, in a fault under mmap_lock, and breaks it at the first write. Counting every
 * access to a zero-page address as a fault over-approximates only reads after the first.
 */
export function userAccessFaults(w: World, uaddr: number): boolean {
  // A guest_memfd mapping's fault takes its locks for real (gmemUserPagePfn()), each a switch point.
  if (gmemMappingAt(uaddr, w.geo.page_size) !== undefined) return false;
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
