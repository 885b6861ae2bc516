import { EEXIST, EIO, ENOENT, ENOMEM } from '../errno.js';
import { currentSite, emit, type World } from '../../world/World.js';
import { distinctFolios, folioLockName, type Folio, type GmemFile } from '../../world/gmem.js';
import { hostPage, isValidPfn } from '../../world/hostMemory.js';
import { nextFault } from '../faults.js';
import { allocCompound, allocPage, pageOrBad, pageRefDec, pageRefInc } from '../pages.js';
import { ERR_PTR, IS_ERR } from './errptr.js';
import { switchPoint } from '../../world/switchPoint.js';
import { zapGmemPtes } from './gmemfile.js';

/**
 * Page-cache services for guest_memfd inodes (mm/filemap.c, include/linux/pagemap.h). A folio
 * handle is the pfn of its head page; `mapping` is the guest_memfd file handle, standing for
 * `file->f_mapping` / `inode->i_mapping`. Folios are order 0 except under the hugepages what-if
 * (`w.gmemHugeOrder`, see kvmGmemGetHugeFolio).
 */
export const FGP_ACCESSED = 0x1;
export const FGP_LOCK = 0x2;
export const FGP_CREAT = 0x4;
/**
 * "Fail if a folio is present": Paolo Bonzini's v1 04/11 (never merged,
 * https://lore.kernel.org/all/20240404185034.3184582-5-pbonzini@redhat.com/). An existing folio
 * is refused with -EEXIST before it would be locked, its lookup reference dropped.
 */
export const FGP_CREAT_ONLY = 0x100;

export interface FilemapServices {
  /** Locked folio with a reference, allocated if absent; ERR_PTR(-ENOMEM) on allocation failure. */
  filemap_grab_folio(mapping: number, index: number): number;
  __filemap_get_folio(mapping: number, index: number, fgp_flags: number): number;
  filemap_lock_folio(mapping: number, index: number): number;
  folio_lock(folio: number): void;
  folio_unlock(folio: number): void;
  folio_get(folio: number): void;
  folio_put(folio: number): void;
  folio_test_uptodate(folio: number): boolean;
  folio_mark_uptodate(folio: number): void;
  folio_test_hwpoison(folio: number): boolean;
  folio_order(folio: number): number;
  folio_nr_pages(folio: number): number;
  /** The page-cache index past the folio: folio->index + folio_nr_pages(folio). */
  folio_next_index(folio: number): number;
  /** folio->index: the file index of the folio's first page. */
  folio_index(folio: number): number;
  folio_file_pfn(folio: number, index: number): number;
  folio_file_page(folio: number, index: number): number;
  folio_page(folio: number, n: number): number;
  /** folio_ref_count(): the head page's reference count. */
  folio_ref_count(folio: number): number;
  /** Removes folios of [lstart, lend] (bytes, inclusive) from the page cache and drops its references. */
  truncate_inode_pages_range(mapping: number, lstart: number, lend: number): void;
}

/** The cached folio a page belongs to (head or tail), if the page is in a guest_memfd page cache. */
export function folioOf(w: World, pfn: number): { file: GmemFile; folio: Folio } | undefined {
  const p = hostPage(w.host, pfn);
  if (p === undefined || p.owner.kind !== 'gmem') return undefined;
  const file = w.gmem.files.get(p.owner.file);
  const folio = file?.folios.get(p.owner.index);
  return file === undefined || folio === undefined || pfn - folio.pfn !== p.owner.index - folio.index ? undefined : { file, folio };
}

/**
 * The hugepages what-if: the huge folio guest_memfd tries before a single page, as
 * kvm_gmem_get_huge_folio() of Sean Christopherson's hugepage patch carried as SNP v11 01/35
 * (https://lore.kernel.org/all/20231230172351.574091-2-michael.roth@amd.com/, dropped before
 * the v6.8 merge): best effort, only when the aligned range lies inside the file and holds no
 * page yet, else undefined and the caller takes a single page. That patch tries PMD_ORDER; the
 * machine may also give 1G (PUD_ORDER) folios, the hugetlb-backed guest_memfd Yan Zhao asks
 * about on RFC v1 ("What if the max_order returned from __kvm_gmem_get_pfn() is 1GB").
 */
function kvmGmemGetHugeFolio(w: World, file: GmemFile, index: number): Folio | undefined {
  const order = w.gmemHugeOrder;
  const nr = 2 ** order;
  const huge_index = index - (index % nr);
  if ((huge_index + nr) * w.geo.page_size > file.size) return undefined;
  for (let k = 0; k < nr; k++) if (file.folios.has(huge_index + k)) return undefined;
  const head = allocCompound(w, order, (k) => ({ kind: 'gmem', file: file.id, index: huge_index + k }));
  if (head === undefined) return undefined;
  const folio: Folio = { pfn: head.pfn, index: huge_index, order, locked: false, uptodate: false };
  for (let k = 0; k < nr; k++) {
    file.folios.set(huge_index + k, folio);
    emit(w, { kind: 'folio', pfn: head.pfn + k, index: huge_index + k, change: 'create' });
  }
  return folio;
}

/**
 * split_folio() of a large guest_memfd folio into single pages, each its own folio with the page
 * cache's reference and the uptodate flag it had (PG_hwpoison stays on each page). Fails (false) while anyone but
 * the page cache holds a reference or the folio is locked, as can_split_folio() and the folio
 * lock the split needs make it.
 */
function splitFolio(w: World, file: GmemFile, folio: Folio): boolean {
  const head = hostPage(w.host, folio.pfn);
  if (head === undefined || head.refcount !== 1 || folio.locked) return false;
  const nr = 2 ** folio.order;
  for (let k = 0; k < nr; k++) {
    const p = hostPage(w.host, folio.pfn + k);
    if (p === undefined) continue;
    p.order = 0;
    p.head = undefined;
    if (k > 0) {
      p.refcount = 0;
      pageRefInc(w, p, 'split_folio');
    }
    file.folios.set(folio.index + k, { pfn: folio.pfn + k, index: folio.index + k, order: 0, locked: false, uptodate: folio.uptodate });
  }
  return true;
}

export function filemapServices(w: World): FilemapServices {
  const getFolio = (mapping: number, index: number, fgp_flags: number): number => {
    const file = w.gmem.files.get(mapping);
    if (file === undefined) return ERR_PTR(-EIO);
    let folio = file.folios.get(index);
    if (folio !== undefined && (fgp_flags & FGP_CREAT_ONLY) !== 0) return ERR_PTR(-EEXIST);
    let created = false;
    if (folio === undefined) {
      if ((fgp_flags & FGP_CREAT) === 0) return ERR_PTR(-ENOENT);
      switchPoint(w, { kind: 'alloc', what: 'folio', site: currentSite(w) });
      // Another thread may have added a folio at the index meanwhile: filemap_add_folio() then
      // fails with -EEXIST and __filemap_get_folio() finds that one (FGP_CREAT_ONLY: -EEXIST).
      folio = file.folios.get(index);
    }
    if (folio !== undefined && (fgp_flags & FGP_CREAT_ONLY) !== 0) return ERR_PTR(-EEXIST);
    if (folio === undefined) {
      if (nextFault(w, 'alloc:folio') !== undefined) return ERR_PTR(-ENOMEM);
      folio = w.gmemHugeOrder > 0 ? kvmGmemGetHugeFolio(w, file, index) : undefined;
      if (folio === undefined) {
        const p = allocPage(w, { kind: 'gmem', file: mapping, index });
        if (p === undefined) return ERR_PTR(-ENOMEM);
        folio = { pfn: p.pfn, index, order: 0, locked: false, uptodate: false };
        file.folios.set(index, folio);
        emit(w, { kind: 'folio', pfn: p.pfn, index, change: 'create' });
      }
      created = true;
    }
    const p = hostPage(w.host, folio.pfn);
    if (p !== undefined) pageRefInc(w, p, 'folio_get');
    if ((fgp_flags & FGP_LOCK) === 0) return folio.pfn;
    // A new folio goes into the page cache already locked (__filemap_get_folio() sets PG_locked
    // before filemap_add_folio()): nobody can have it, no wait.
    if (created) {
      takeFolioLock(folio);
      return folio.pfn;
    }
    lockFolio(folio);
    // Woken after a wait: a truncation may have taken the folio out meanwhile
    // (folio->mapping != mapping): drop it and look again.
    if (file.folios.get(index) !== folio) {
      folio.locked = false;
      folio.lockedBy = undefined;
      emit(w, { kind: 'folio', pfn: folio.pfn, index: folio.index, change: 'unlock' });
      if (p !== undefined) pageRefDec(w, p, 'folio_put');
      return getFolio(mapping, index, fgp_flags);
    }
    return folio.pfn;
  };
  // folio_lock() sleeps while another task holds PG_locked: a switch point where the scheduler
  // makes the thread wait for the holder (model/world/switchPoint.ts). One thread never waits.
  const takeFolioLock = (f: Folio): void => {
    f.locked = true;
    f.lockedBy = w.thread;
    emit(w, { kind: 'folio', pfn: f.pfn, index: f.index, change: 'lock' });
  };
  const lockFolio = (f: Folio): void => {
    switchPoint(w, { kind: 'lock', lock: folioLockName(f.pfn), mode: 'exclusive', site: currentSite(w) });
    takeFolioLock(f);
  };
  // The folio_*() helpers read folio->flags (order, uptodate, hwpoison, lock): a handle that is
  // no page (an ERR_PTR a caller did not check, NULL) is a load from a wild address, a kernel
  // oops (Sean on Roth v3 2/6: "this WARN will dereference garbage and explode"). Reported, and
  // the helper then reads as an order-0 folio with no flags set.
  const readsFlags = (what: string, pfn: number): boolean => {
    if (isValidPfn(w.host, pfn)) return true;
    const handle = IS_ERR(pfn) ? `ERR_PTR(${pfn})` : `non-folio 0x${pfn.toString(16)}`;
    emit(w, { kind: 'bad_access', what: 'wild_pointer', detail: `${what}() of ${handle}: the folio's flags are read at a wild address`, site: currentSite(w) });
    return false;
  };
  const orderOf = (what: string, pfn: number): number => (readsFlags(what, pfn) ? (hostPage(w.host, pfn)?.order ?? 0) : 0);
  const withFolio = <T>(what: string, pfn: number, dflt: T, f: (folio: Folio) => T): T => {
    if (!readsFlags(what, pfn)) return dflt;
    const found = folioOf(w, pfn);
    return found === undefined ? dflt : f(found.folio);
  };
  return {
    filemap_grab_folio: (mapping, index) => getFolio(mapping, index, FGP_LOCK | FGP_CREAT),
    __filemap_get_folio: getFolio,
    filemap_lock_folio: (mapping, index) => getFolio(mapping, index, FGP_LOCK),
    folio_lock: (pfn) => withFolio('folio_lock', pfn, undefined, lockFolio),
    folio_unlock: (pfn) => withFolio('folio_unlock', pfn, undefined, (f) => {
      f.locked = false;
      f.lockedBy = undefined;
      emit(w, { kind: 'folio', pfn, index: f.index, change: 'unlock' });
    }),
    folio_ref_count: (pfn) => (isValidPfn(w.host, pfn) ? (hostPage(w.host, pfn)?.refcount ?? 0) : 0),
    folio_get(pfn) {
      const p = pageOrBad(w, pfn, 'folio_get');
      if (p !== undefined) pageRefInc(w, p, 'folio_get');
    },
    folio_put(pfn) {
      const p = pageOrBad(w, pfn, 'folio_put');
      if (p !== undefined) pageRefDec(w, p, 'folio_put');
    },
    folio_test_uptodate: (pfn) => withFolio('folio_test_uptodate', pfn, false, (f) => f.uptodate),
    folio_mark_uptodate: (pfn) => withFolio('folio_mark_uptodate', pfn, undefined, (f) => {
      f.uptodate = true;
      emit(w, { kind: 'folio', pfn, index: f.index, change: 'uptodate' });
    }),
    // PG_hwpoison of the folio's head page. memory_failure() poisons a large folio on its head
    // (the hugetlb-backed machine of the hugepages what-if: model/kernel/memory_failure.ts).
    folio_test_hwpoison: (pfn) => withFolio('folio_test_hwpoison', pfn, false, (f) => hostPage(w.host, f.pfn)?.hwpoison === true),
    folio_index: (pfn) => withFolio('folio_index', pfn, 0, (f) => f.index),
    folio_order: (pfn) => orderOf('folio_order', pfn),
    // The head page keeps the order even once the folio has left the page cache (free_folio).
    folio_nr_pages: (pfn) => 2 ** orderOf('folio_nr_pages', pfn),
    folio_next_index: (pfn) => withFolio('folio_next_index', pfn, 0, (f) => f.index + 2 ** orderOf('folio_next_index', pfn)),
    // folio_pfn(folio) + (index & (folio_nr_pages(folio) - 1)).
    folio_file_pfn: (pfn, index) => pfn + (index & (2 ** orderOf('folio_file_pfn', pfn) - 1)),
    folio_file_page: (pfn, index) => pfn + (index & (2 ** orderOf('folio_file_page', pfn) - 1)),
    folio_page: (pfn, n) => pfn + n,
    truncate_inode_pages_range(mapping, lstart, lend) {
      const file = w.gmem.files.get(mapping);
      if (file === undefined) return;
      const ps = w.geo.page_size;
      const first = Math.ceil(lstart / ps);
      const last = Math.floor((lend + 1) / ps) - 1;
      // A large folio the range covers in part goes through truncate_inode_partial_folio(): no
      // zeroing (guest_memfd's mapping is inaccessible), then split_folio(), which fails while
      // anyone but the page cache holds a reference; a folio that cannot be split leaves the
      // page cache whole (truncate_inode_folio(): a dirty folio would stay, and nothing in the
      // modelled paths dirties a guest_memfd folio).
      const remove = (folio: Folio): void => {
        const nr = 2 ** folio.order;
        // truncate_cleanup_folio(): a folio the VMM maps is unmapped first (unmap_mapping_folio()).
        zapGmemPtes(w, file, folio.index, folio.index + nr);
        for (let k = 0; k < nr; k++) {
          file.folios.delete(folio.index + k);
          emit(w, { kind: 'folio', pfn: folio.pfn + k, index: folio.index + k, change: 'remove' });
        }
        const p = hostPage(w.host, folio.pfn);
        if (p !== undefined) pageRefDec(w, p, 'page_cache');
      };
      for (const folio of distinctFolios(file)) {
        const nr = 2 ** folio.order;
        if (folio.index + nr - 1 < first || folio.index > last) continue;
        // Each folio is truncated locked (find_lock_entries(), then folio_lock() for the ones it
        // skipped; truncate_inode_partial_folio() takes a locked folio): under punch-hole's
        // invalidate lock, the order lock-order sees (G29). It waits for another thread's lock
        // (a fault between vm_ops->fault and finish_fault()); then only the events:
        // splitFolio()'s `locked` means another holder.
        switchPoint(w, { kind: 'lock', lock: folioLockName(folio.pfn), mode: 'exclusive', site: currentSite(w) });
        emit(w, { kind: 'folio', pfn: folio.pfn, index: folio.index, change: 'lock' });
        const partial = folio.index < first || folio.index + nr - 1 > last;
        if (!partial) remove(folio);
        else if (!splitFolio(w, file, folio)) remove(folio);
        else for (let i = Math.max(first, folio.index); i <= Math.min(last, folio.index + nr - 1); i++) {
          const small = file.folios.get(i);
          if (small !== undefined) remove(small);
        }
        emit(w, { kind: 'folio', pfn: folio.pfn, index: folio.index, change: 'unlock' });
      }
    },
  };
}
