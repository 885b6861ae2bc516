import { defineInvariant } from '../Invariant.js';
import type { BackendModel } from '../../model/backends/Backend.js';
import { hostPage } from '../../model/world/hostMemory.js';
import { heldBy } from '../../model/world/locks.js';
import type { World } from '../../model/world/World.js';
import { inPageCache, owedPerHead, userMapCount } from '../views.js';
import { distinctFolios } from '../../model/world/gmem.js';
import { allocSite, REF_EVENTS, refSites, type RefSites } from '../refSites.js';

/**
 * When an ioctl returns, everything it took is given back: page references (GUP, get_page,
 * folio references), pins, kmap_local mappings, kmalloc()ed arrays, file references, locks
 * and folio locks. The only references that survive are the ones owned by someone: the user
 * page tables (one a mapping), a guest_memfd page cache (one a folio) and a kernel object that
 * allocated the page (an Arm RTT or RD). B1 (a kmap leaked
 * when copy_from_user() fails) and B7 (RFC v1 leaks the page array, and the pinned pages on a
 * short pin) are this invariant's classic findings.
 *
 * This is the rule with guest_memfd's "KVM holds no reference on its folios" policy OFF: one
 * extra reference on a page the firmware still owns is a documented hand-over, as rme-v9/v12's
 * get_page() on a granule that cannot be undelegated (Steven Price: "Holding a refcount isn't
 * ideal but I haven't come up with a better idea") and TDX's pre-2025 per-private-page pin.
 * gmem-no-kvm-refs is the same audit with the policy ON.
 */
export const refcountBalance = defineInvariant({
  id: 'refcount-balance',
  description: 'Require every reference, pin, mapping, allocation and lock an ioctl takes to be released by its return',
  cites: [
    'https://lore.kernel.org/all/20260108214622.1084057-2-michael.roth@amd.com/ (B1, missing kunmap_local)',
    'https://lore.kernel.org/all/20251113230759.1562024-4-michael.roth@amd.com/ (B7, GUP error paths)',
    'https://lore.kernel.org/all/80c46a5c-7559-4763-bbf2-6c755a4b067c@arm.com/ (the get_page() hand-over)',
  ],
  observes: [...REF_EVENTS],
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
    // What was outstanding when the operation began: a leak is reported once, by the operation
    // it arose in, not again by every operation after it.
    const heapBefore = new Set<number>();
    const excessBefore = new Map<number, number>();
    const pinsBefore = new Map<number, number>();
    const kmapsBefore = new Set<number>();
    const fileRefsBefore = new Map<number, number>();
    const lockedBefore = new Set<number>();
    const heldBefore = new Set<string>();
    // Over the whole run: a reference leaks when the operation that should have dropped it
    // returns, which need not be the one that took it (a hand-over ends when the firmware gives
    // the page back); its signature names the function that took it.
    const sites: RefSites = refSites();
    const excess = (w: World, backend: BackendModel): Map<number, { refcount: number; expected: number }> => {
      const maps = userMapCount(w);
      const cached = inPageCache(w);
      const leaked = new Set(backend.leakedByDesign(w));
      const out = new Map<number, { refcount: number; expected: number }>();
      // Owned references: one a user mapping, one for a page-cache folio, one for a kernel
      // allocation, one handed over with a page the firmware keeps or KVM maps (TDX's pin);
      // a large folio's pages are owed on its head.
      const owed = owedPerHead(w, (p) => {
        const handedOver = p.owner.kind === 'gmem' && (backend.ownership(w, p.pfn).kind !== 'host' || backend.mappedByKvm?.(w, p.pfn) === true) ? 1 : 0;
        return (maps.get(p.pfn) ?? 0) + (cached.has(p.pfn) ? 1 : 0) + (p.owner.kind === 'kernel' ? 1 : 0) + handedOver;
      });
      for (const p of w.host.pages) {
        if (p.owner.kind === 'free' || leaked.has(p.pfn) || p.head !== undefined) continue;
        const expected = owed.get(p.pfn) ?? 0;
        if (p.refcount > expected) out.set(p.pfn, { refcount: p.refcount, expected });
      }
      return out;
    };
    return {
      event(e, w) {
        sites.event(e, w);
      },
      opBegin(_i, _op, w, backend) {
        heapBefore.clear();
        for (const [ptr, o] of w.heap.objects) if (!o.freed) heapBefore.add(ptr);
        excessBefore.clear();
        for (const [pfn, x] of excess(w, backend)) excessBefore.set(pfn, x.refcount - x.expected);
        pinsBefore.clear();
        for (const p of w.host.pages) if (p.gupRefs > 0) pinsBefore.set(p.pfn, p.gupRefs);
        kmapsBefore.clear();
        for (const stack of w.kmaps.values()) for (const m of stack) kmapsBefore.add(m.vaddr);
        fileRefsBefore.clear();
        lockedBefore.clear();
        for (const f of w.gmem.files.values()) {
          fileRefsBefore.set(f.id, f.refcount);
          for (const folio of distinctFolios(f)) if (folio.locked) lockedBefore.add(folio.pfn);
        }
        heldBefore.clear();
        for (const h of heldBy(w.locks, w.thread)) heldBefore.add(h.lock);
      },
      opEnd(_r, w, backend, report) {
        for (const [pfn, x] of excess(w, backend)) {
          if (x.refcount - x.expected > (excessBefore.get(pfn) ?? 0)) {
            report('pageRefLeaked', { pfn, owner: hostPage(w.host, pfn)?.owner.kind ?? '?', refcount: x.refcount, expected: x.expected }, sites.page(pfn));
          }
        }
        for (const p of w.host.pages) if (p.gupRefs > (pinsBefore.get(p.pfn) ?? 0)) report('pinLeaked', { pfn: p.pfn, pins: p.gupRefs }, sites.page(p.pfn));
        for (const stack of w.kmaps.values()) {
          const fresh = stack.filter((m) => !kmapsBefore.has(m.vaddr));
          const first = fresh[0];
          if (first !== undefined) report('kmapLeaked', { count: fresh.length, pfn: first.pfn }, sites.kmap(first.pfn));
        }
        for (const [ptr, o] of w.heap.objects) {
          if (!o.freed && !heapBefore.has(ptr)) report('kmallocLeaked', { site: o.site, ptr, nmemb: o.nmemb }, allocSite(o.site));
        }
        for (const f of w.gmem.files.values()) {
          const expected = f.fdOpen ? 1 : 0;
          if (f.refcount !== expected && f.refcount !== fileRefsBefore.get(f.id)) report('fileRefLeaked', { file: f.id, refcount: f.refcount, expected }, sites.file(f.id));
          for (const folio of distinctFolios(f)) {
            if (folio.locked && !lockedBefore.has(folio.pfn)) report('folioLocked', { pfn: folio.pfn, index: folio.index }, sites.folioLock(folio.pfn));
          }
        }
        for (const h of heldBy(w.locks, w.thread)) if (!heldBefore.has(h.lock)) report('lockLeaked', { lock: h.lock, site: h.site }, h.site);
      },
    };
  },
});
