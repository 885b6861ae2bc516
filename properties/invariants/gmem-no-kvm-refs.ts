import { defineInvariant } from '../Invariant.js';
import type { World } from '../../model/world/World.js';
import { inPageCache, owedPerHead, userMapCount } from '../views.js';
import { REF_EVENTS, refSites } from '../refSites.js';

/**
 * The policy switch ON: guest_memfd owns its folios outright, and KVM keeps no reference on
 * one once an ioctl returns, whoever owns the memory. In-place conversion splits and merges
 * folios and must see only the page cache's reference (Vishal Annapurve, reviewing rme-v9:
 * "avoid any 'refcounts' from KVM on folios supplied by guest_memfd"); TDX dropped its per-page
 * pin for the same reason (Yan Zhao, "Drop superfluous page pinning in S-EPT management").
 * refcount-balance is the audit with the policy OFF, where a page the firmware keeps may carry
 * one reference. A page the firmware will not give back must then be kept from the allocator
 * some other way (hwpoison, a guest_memfd flag): rmi-newest's KVM_BUG_ON kills the VM but keeps
 * nothing, and leaked-page catches the free that follows (G13).
 */
export const gmemNoKvmRefs = defineInvariant({
  id: 'gmem-no-kvm-refs',
  description: 'Forbid KVM holding any reference on a guest_memfd folio beyond the page cache at ioctl return',
  cites: [
    'https://lore.kernel.org/all/CAGtprH-on3JdsHx-DyjN_z_5Z6HJoSQjJpA5o5_V6=rygMSbtQ@mail.gmail.com/',
    'https://lore.kernel.org/all/20250807094241.4523-1-yan.y.zhao@intel.com/',
  ],
  observes: [...REF_EVENTS],
  messages: {
    kvmRefHeld: 'guest_memfd pfn {pfn} ({state}) has refcount {refcount}; the page cache and user mappings account for {expected}',
  },
  create: () => {
    // Over the whole run: a reference KVM keeps may have been taken operations ago. Reported by
    // the operation that took it (the excess grew), not again by every later one.
    const sites = refSites();
    const excessBefore = new Map<number, number>();
    const excess = (w: World): Map<number, { refcount: number; expected: number }> => {
      const cached = inPageCache(w);
      const maps = userMapCount(w);
      const out = new Map<number, { refcount: number; expected: number }>();
      const owed = owedPerHead(w, (p) => (maps.get(p.pfn) ?? 0) + (cached.has(p.pfn) ? 1 : 0));
      for (const p of w.host.pages) {
        if (p.owner.kind !== 'gmem' || p.head !== undefined) continue;
        const expected = owed.get(p.pfn) ?? 0;
        if (p.refcount > expected) out.set(p.pfn, { refcount: p.refcount, expected });
      }
      return out;
    };
    return {
      event(e, w) {
        sites.event(e, w);
      },
      opBegin(_i, _op, w) {
        excessBefore.clear();
        for (const [pfn, x] of excess(w)) excessBefore.set(pfn, x.refcount - x.expected);
      },
      opEnd(_r, w, backend, report) {
        for (const [pfn, x] of excess(w)) {
          if (x.refcount - x.expected <= (excessBefore.get(pfn) ?? 0)) continue;
          const o = backend.ownership(w, pfn);
          report('kvmRefHeld', { pfn, state: o.kind === 'host' ? 'host-owned' : o.state, refcount: x.refcount, expected: x.expected }, sites.page(pfn));
        }
      },
    };
  },
});
