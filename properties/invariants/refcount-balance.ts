import { defineInvariant } from '../Invariant.js';
import { heldBy } from '../../model/world/locks.js';
import { inPageCache, userMapCount } from '../views.js';

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
          // Owned references: one a user mapping, one for a page-cache folio, one for a kernel
          // allocation, one handed over with a page the firmware keeps.
          const handedOver = p.owner.kind === 'gmem' && backend.ownership(w, p.pfn).kind !== 'host' ? 1 : 0;
          const expected = (maps.get(p.pfn) ?? 0) + (cached.has(p.pfn) ? 1 : 0) + (p.owner.kind === 'kernel' ? 1 : 0) + handedOver;
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
