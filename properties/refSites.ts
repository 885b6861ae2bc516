import type { Event } from '../model/world/events.js';
import { currentSite, type World } from '../model/world/World.js';
import { HWPOISON_REF_VIA } from '../model/kernel/memory_failure.js';

/**
 * Where outstanding references came from: the kernel function executing when a page reference
 * (GUP pins included), kmap, file reference or folio lock was taken. A leak judged when an ioctl
 * returns arose where the thing was taken, so that is the site of its signature. Page references
 * are kept per page with how each was taken, and a drop is matched to the reference it most
 * likely gives back: the page cache's removal and munmap() to the page's first (allocation)
 * reference, folio_put() to the latest folio_get(), put_page() to the latest get_page() or GUP
 * pin; otherwise the latest. So a leaked get_page() is told apart from the page cache's own
 * reference and from folio references taken and given back around it.
 */
export interface RefSites {
  /** Feed every event the monitor observes. */
  event(e: Event, w: World): void;
  page(pfn: number): string | undefined;
  kmap(pfn: number): string | undefined;
  file(file: number): string | undefined;
  folioLock(pfn: number): string | undefined;
  /** Page writes through a kernel mapping, by pfn. */
  write(pfn: number): string | undefined;
}

/** The event kinds a RefSites tracker reads. */
export const REF_EVENTS = ['page_alloc', 'page_ref', 'page_free', 'kmap', 'file_ref', 'folio', 'mem_write'] as const;

export function refSites(): RefSites {
  const page = new Map<number, { site: string; via: string }[]>();
  const kmap = new Map<number, string>();
  const file = new Map<number, string>();
  const folio = new Map<number, string>();
  const write = new Map<number, string>();
  return {
    event(e, w) {
      const site = currentSite(w);
      if (e.kind === 'page_alloc') page.set(e.pfn, [{ site, via: 'alloc' }]);
      else if (e.kind === 'page_free') page.delete(e.pfn);
      else if (e.kind === 'page_ref') {
        const refs = page.get(e.pfn) ?? [];
        if (e.delta > 0) refs.push({ site, via: e.via });
        else refs.splice(matchingRef(refs, e.via), 1);
        page.set(e.pfn, refs);
      } else if (e.kind === 'kmap') kmap.set(e.pfn, site);
      else if (e.kind === 'file_ref' && e.delta > 0) file.set(e.file, site);
      else if (e.kind === 'folio' && e.change === 'lock') folio.set(e.pfn, site);
      else if (e.kind === 'mem_write' && e.via === 'kmap') write.set(e.pfn, site);
    },
    // memory_failure()'s reference is owed (views.ts hwpoisonRef()): a stray one is another.
    page: (pfn) => page.get(pfn)?.filter((r) => r.via !== HWPOISON_REF_VIA).at(-1)?.site,
    kmap: (pfn) => kmap.get(pfn),
    file: (f) => file.get(f),
    folioLock: (pfn) => folio.get(pfn),
    write: (pfn) => write.get(pfn),
  };
}

/** `kmalloc_array@fn` (slab.ts's object site) → `fn`. */
export function allocSite(objectSite: string): string {
  const at = objectSite.lastIndexOf('@');
  return at < 0 ? objectSite : objectSite.slice(at + 1);
}

/** Index of the reference a drop `via` gives back (see refSites). */
function matchingRef(refs: readonly { via: string }[], via: string): number {
  const latest = (vias: readonly string[]): number => {
    for (let i = refs.length - 1; i >= 0; i--) if (vias.includes(refs[i]?.via ?? '')) return i;
    return -1;
  };
  const i = via === 'page_cache' || via === 'munmap' ? refs.findIndex((r) => r.via === 'alloc')
    : via === 'folio_put' ? latest(['folio_get'])
    : via === 'put_page' ? latest(['get_page', 'gup'])
    : -1;
  return i >= 0 ? i : refs.length - 1;
}
