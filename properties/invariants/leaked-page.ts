import { defineInvariant } from '../Invariant.js';
import { hwpoisonRef, inPageCache, userMapCount } from '../views.js';
import { REF_EVENTS, refSites } from '../refSites.js';
import { ZERO_PAGE_OWNER } from '../../model/kernel/zeroPage.js';

/**
 * A page the firmware still owns (RMP-assigned, TD-owned, any CCA granule DELEGATED, DATA or
 * RTT) must never go back to the allocator: the next owner would fault on it (an Arm GPT fault
 * the host cannot recover from, Vishal Annapurve in the rme-v9 thread) or read another guest's
 * data. A page the kernel chose to leak because the firmware would not give it back
 * (snp_leak_pages after a failed reclaim or RMPUPDATE) must stay out of circulation for good.
 * Note snp_leak_pages() takes no reference: Vlastimil Babka, reviewing it in 2023, "Note the
 * adding to the list doesn't ensure anything like that. Not dropping the refcount to zero does."
 * Checked at every free, including the frees of a dead VM's folios when guest_memfd closes.
 *
 * The other half: a guest_memfd page that has left every page cache and that the firmware has
 * wholly given back (every granule UNDELEGATED) must not be held back from the allocator by a
 * stray reference, or it is lost for the life of the host (rme-v9's gmem_page is never put).
 * Checked after every operation.
 *
 * And the leaked-pages list itself: snp_leak_pages() puts each page's list_head on a global list,
 * so leaking a pfn twice links it twice, which CONFIG_DEBUG_LIST reports as list corruption.
 *
 * And what kmemleak would report: once the VM is destroyed, a page the kernel allocated for it
 * that nobody freed: given back by the firmware, or still the firmware's when no firmware
 * failure was injected (a realm's RD or RTT never undelegated).
 */
export const leakedPage = defineInvariant({
  id: 'leaked-page',
  description: 'Forbid freeing a firmware-owned or deliberately leaked page, and holding back one the firmware gave back',
  cites: [
    'torvalds/linux:arch/x86/virt/svm/sev.c@0cbc0258415814c86eb6db50237ae3d90fbf3b3d (snp_leak_pages)',
    'https://lore.kernel.org/all/20231016132819.1002933-17-michael.roth@amd.com/ (Babka reply)',
    'https://lore.kernel.org/all/CAGtprH-TChZuLgb0sOU_14YGpCynw7sukLT0tP9sEzzd040dHw@mail.gmail.com/ (GPT faults)',
  ],
  observes: ['page_free', 'page_leak', 'fw', ...REF_EVENTS],
  messages: {
    freedWhileFirmwareOwned: 'pfn {pfn} returned to the allocator while the firmware owns it ({state})',
    leakedPageFreed: 'pfn {pfn} was leaked by {by} but returned to the allocator, its list_head still on the leaked-pages list (list corruption once the page is reused)',
    heldBack: 'pfn {pfn} left guest_memfd and the firmware gave all of it back, but {refs} stray reference(s) keep it from the allocator',
    leakedTwice: '{by} leaks pfn {pfn} a second time: its list_head goes on the leaked-pages list twice (list corruption, CONFIG_DEBUG_LIST)',
    kernelPageLost: 'the VM is gone but pfn {pfn} ({what}), a page the kernel allocated for it, {state} and was never freed (kmemleak)',
  },
  create: () => {
    const sites = refSites();
    // A page held back stays held back: reported once, where the stray reference was taken.
    const heldBack = new Set<number>();
    const leaked = new Set<number>();
    const lost = new Set<number>();
    // A firmware failure the fault plan forced may leave pages the firmware's for good.
    let fwFailed = false;
    return {
    event(e, w, backend, report) {
      sites.event(e, w);
      if (e.kind === 'fw' && e.outcome.kind === 'failed' && e.outcome.forced) fwFailed = true;
      if (e.kind === 'page_leak') {
        if (leaked.has(e.pfn)) report('leakedTwice', { pfn: e.pfn, by: e.by });
        leaked.add(e.pfn);
        return;
      }
      if (e.kind !== 'page_free') return;
      const owner = backend.ownership(w, e.pfn);
      if (owner.kind !== 'host') report('freedWhileFirmwareOwned', { pfn: e.pfn, state: owner.state });
      if (backend.leakedByDesign(w).includes(e.pfn)) report('leakedPageFreed', { pfn: e.pfn, by: 'snp_leak_pages' });
    },
    opEnd(_r, w, backend, report) {
      const cached = inPageCache(w);
      const maps = userMapCount(w);
      const leaked = new Set(backend.leakedByDesign(w));
      for (const p of w.host.pages) {
        if (p.owner.kind !== 'gmem' || cached.has(p.pfn) || leaked.has(p.pfn)) continue;
        if (backend.ownership(w, p.pfn).kind !== 'host') continue;
        const refs = p.refcount - (maps.get(p.pfn) ?? 0) - hwpoisonRef(p);
        if (refs > 0 && !heldBack.has(p.pfn)) {
          heldBack.add(p.pfn);
          report('heldBack', { pfn: p.pfn, refs }, sites.page(p.pfn));
        }
      }
      // Once the VM is destroyed, the pages the kernel allocated for it (the VMSA, a realm's RD
      // and RTTs) are free, or still the firmware's because it would not give them back (a
      // deliberate leak after a failed reclaim or undelegate). The zero page is no VM's.
      if (!w.kvm.destroyed) return;
      for (const p of w.host.pages) {
        if (p.owner.kind !== 'kernel' || p.owner.what === ZERO_PAGE_OWNER.what || lost.has(p.pfn) || leaked.has(p.pfn)) continue;
        const owner = backend.ownership(w, p.pfn);
        if (owner.kind !== 'host' && fwFailed) continue;
        lost.add(p.pfn);
        report('kernelPageLost', { pfn: p.pfn, what: p.owner.what, state: owner.kind === 'host' ? 'given back by the firmware' : `still the firmware's (${owner.state}) with no firmware failure to excuse it` });
      }
    },
    };
  },
});
