import { EEXIST, EIO, ENOENT, ENOMEM } from '../errno.js';
import { currentSite, emit, type World } from '../../world/World.js';
import type { Folio, GmemFile } from '../../world/gmem.js';
import { hostPage } from '../../world/hostMemory.js';
import { nextFault } from '../faults.js';
import { allocPage, pageOrBad, pageRefDec, pageRefInc } from '../pages.js';
import { ERR_PTR, IS_ERR } from './errptr.js';

/**
 * Page-cache services for guest_memfd inodes (mm/filemap.c, include/linux/pagemap.h). A folio
 * handle is the pfn of its page (order-0 folios); `mapping` is the guest_memfd file handle,
 * standing for `file->f_mapping` / `inode->i_mapping`.
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
  folio_file_pfn(folio: number, index: number): number;
  folio_file_page(folio: number, index: number): number;
  folio_page(folio: number, n: number): number;
  /** Removes folios of [lstart, lend] (bytes, inclusive) from the page cache and drops its references. */
  truncate_inode_pages_range(mapping: number, lstart: number, lend: number): void;
}

export function folioOf(w: World, pfn: number): { file: GmemFile; folio: Folio } | undefined {
  const p = hostPage(w.host, pfn);
  if (p === undefined || p.owner.kind !== 'gmem') return undefined;
  const file = w.gmem.files.get(p.owner.file);
  const folio = file?.folios.get(p.owner.index);
  return file === undefined || folio === undefined || folio.pfn !== pfn ? undefined : { file, folio };
}

export function filemapServices(w: World): FilemapServices {
  const getFolio = (mapping: number, index: number, fgp_flags: number): number => {
    const file = w.gmem.files.get(mapping);
    if (file === undefined) return ERR_PTR(-EIO);
    let folio = file.folios.get(index);
    if (folio !== undefined && (fgp_flags & FGP_CREAT_ONLY) !== 0) return ERR_PTR(-EEXIST);
    if (folio === undefined) {
      if ((fgp_flags & FGP_CREAT) === 0) return ERR_PTR(-ENOENT);
      if (nextFault(w, 'alloc:folio') !== undefined) return ERR_PTR(-ENOMEM);
      const p = allocPage(w, { kind: 'gmem', file: mapping, index });
      if (p === undefined) return ERR_PTR(-ENOMEM);
      folio = { pfn: p.pfn, index, locked: false, uptodate: false, hwpoison: false };
      file.folios.set(index, folio);
      emit(w, { kind: 'folio', pfn: p.pfn, index, change: 'create' });
    }
    const p = hostPage(w.host, folio.pfn);
    if (p !== undefined) pageRefInc(w, p, 'folio_get');
    if ((fgp_flags & FGP_LOCK) !== 0) {
      folio.locked = true;
      emit(w, { kind: 'folio', pfn: folio.pfn, index, change: 'lock' });
    }
    return folio.pfn;
  };
  const withFolio = <T>(pfn: number, dflt: T, f: (folio: Folio) => T): T => {
    const found = folioOf(w, pfn);
    return found === undefined ? dflt : f(found.folio);
  };
  return {
    filemap_grab_folio: (mapping, index) => getFolio(mapping, index, FGP_LOCK | FGP_CREAT),
    __filemap_get_folio: getFolio,
    filemap_lock_folio: (mapping, index) => getFolio(mapping, index, FGP_LOCK),
    folio_lock: (pfn) => withFolio(pfn, undefined, (f) => {
      f.locked = true;
      emit(w, { kind: 'folio', pfn, index: f.index, change: 'lock' });
    }),
    folio_unlock: (pfn) => withFolio(pfn, undefined, (f) => {
      f.locked = false;
      emit(w, { kind: 'folio', pfn, index: f.index, change: 'unlock' });
    }),
    folio_get(pfn) {
      const p = pageOrBad(w, pfn, 'folio_get');
      if (p !== undefined) pageRefInc(w, p, 'folio_get');
    },
    folio_put(pfn) {
      const p = pageOrBad(w, pfn, 'folio_put');
      if (p !== undefined) pageRefDec(w, p, 'folio_put');
    },
    folio_test_uptodate: (pfn) => withFolio(pfn, false, (f) => f.uptodate),
    folio_mark_uptodate: (pfn) => withFolio(pfn, undefined, (f) => {
      f.uptodate = true;
      emit(w, { kind: 'folio', pfn, index: f.index, change: 'uptodate' });
    }),
    folio_test_hwpoison: (pfn) => withFolio(pfn, false, (f) => f.hwpoison),
    // folio_order() reads folio->flags (folio_test_large()): an ERR_PTR there is a load from the
    // top page of the address space, a kernel oops (Sean on Roth v3 2/6: "this WARN will
    // dereference garbage and explode"). Reported, then read as an order-0 folio.
    folio_order(pfn) {
      if (IS_ERR(pfn)) emit(w, { kind: 'bad_access', what: 'wild_pointer', detail: `folio_order() of ERR_PTR(${pfn}): the folio's flags are read at an error pointer`, site: currentSite(w) });
      return 0;
    },
    folio_nr_pages: () => 1,
    folio_file_pfn: (pfn) => pfn,
    folio_file_page: (pfn) => pfn,
    folio_page: (pfn, n) => pfn + n,
    truncate_inode_pages_range(mapping, lstart, lend) {
      const file = w.gmem.files.get(mapping);
      if (file === undefined) return;
      const ps = w.geo.page_size;
      const first = Math.ceil(lstart / ps);
      const last = Math.floor((lend + 1) / ps) - 1;
      for (const [index, folio] of [...file.folios].sort((a, b) => a[0] - b[0])) {
        if (index < first || index > last) continue;
        file.folios.delete(index);
        emit(w, { kind: 'folio', pfn: folio.pfn, index, change: 'remove' });
        const p = hostPage(w.host, folio.pfn);
        if (p !== undefined) pageRefDec(w, p, 'page_cache');
      }
    },
  };
}
