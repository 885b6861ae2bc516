import { defineInvariant } from '../Invariant.js';
import { heldBy } from '../../model/world/locks.js';
import { inPageCache, userMapCount } from '../views.js';

/**
 * When an ioctl returns, everything it took is given back: page references (GUP, get_page,
 * folio references), pins, kmap_local mappings, kmalloc()ed arrays, file references, locks
 * and folio locks. The only references that survive are the ones owned by someone: the user
 * page tables (one a mapping) and a guest_memfd page cache (one a folio). B1 (a kmap leaked
 * when copy_from_user() fails) and B7 (RFC v1 leaks the page array, and the pinned pages on a
 * short pin) are this invariant's classic findings.
 */
export const refcountBalance = defineInvariant({
  id: 'refcount-balance',
  description: 'Require every reference, pin, mapping, allocation and lock an ioctl takes to be released by its return',
  cites: [
    'https://lore.kernel.org/all/20260108214622.1084057-2-michael.roth@amd.com/ (B1, missing kunmap_local)',
    'https://lore.kernel.org/all/20251113230759.1562024-4-michael.roth@amd.com/ (B7, GUP error paths)',
  ],
  observes: [],
  messages: {
    pageRefLeaked: 'pfn {pfn} ({owner}) has refcount {refcount}, but only {expected} owned reference(s) exist',
    pinLeaked: 'pfn {pfn} still has {pins} GUP reference(s) at ioctl return',
    kmapLeaked: '{count} kmap_local mapping(s) still live at ioctl return (first: pfn {pfn})',
    kmallocLeaked: '{site} at {ptr} ({nmemb} elements) never freed',
    fileRefLeaked: 'guest_memfd {file} has {refcount} file reference(s), expected {expected}',
    lockLeaked: '{lock} still held at ioctl return (taken in {site})',
    folioLocked: 'folio of pfn {pfn} (index {index}) still locked at ioctl return',
  },
  create: () => {
    const heapBefore = new Set<number>();
    return {
      opBegin(_i, _op, w) {
        heapBefore.clear();
        for (const [ptr, o] of w.heap.objects) if (!o.freed) heapBefore.add(ptr);
      },
      opEnd(_r, w, backend, report) {
        const maps = userMapCount(w);
        const cached = inPageCache(w);
        const leaked = new Set(backend.leakedByDesign(w));
        for (const p of w.host.pages) {
          if (p.owner.kind === 'free') continue;
          const expected = (maps.get(p.pfn) ?? 0) + (cached.has(p.pfn) ? 1 : 0);
          if (p.refcount > expected && !leaked.has(p.pfn)) report('pageRefLeaked', { pfn: p.pfn, owner: p.owner.kind, refcount: p.refcount, expected });
          if (p.gupRefs > 0) report('pinLeaked', { pfn: p.pfn, pins: p.gupRefs });
        }
        for (const stack of w.kmaps.values()) {
          const first = stack[0];
          if (first !== undefined) report('kmapLeaked', { count: stack.length, pfn: first.pfn });
        }
        for (const [ptr, o] of w.heap.objects) {
          if (!o.freed && !heapBefore.has(ptr)) report('kmallocLeaked', { site: o.site, ptr, nmemb: o.nmemb });
        }
        for (const f of w.gmem.files.values()) {
          const expected = f.fdOpen ? 1 : 0;
          if (f.refcount !== expected) report('fileRefLeaked', { file: f.id, refcount: f.refcount, expected });
          for (const folio of f.folios.values()) if (folio.locked) report('folioLocked', { pfn: folio.pfn, index: folio.index });
        }
        for (const h of heldBy(w.locks, w.thread)) report('lockLeaked', { lock: h.lock, site: h.site });
      },
    };
  },
});
