import { defineInvariant } from '../Invariant.js';

/**
 * A page the firmware still owns (RMP-assigned, TD-owned) must never go back to the
 * allocator: the next owner would fault on it or read another guest's data. A page the
 * kernel chose to leak because the firmware would not give it back (snp_leak_pages after a
 * failed reclaim or RMPUPDATE) must stay out of circulation for good. Note snp_leak_pages() takes no reference: Vlastimil Babka,
 * reviewing it in 2023, "Note the adding to the list doesn't ensure anything like that. Not
 * dropping the refcount to zero does." Checked at every free.
 */
export const leakedPage = defineInvariant({
  id: 'leaked-page',
  description: 'Forbid returning a firmware-owned or deliberately leaked page to the allocator',
  cites: [
    'torvalds/linux:arch/x86/virt/svm/sev.c@0cbc0258415814c86eb6db50237ae3d90fbf3b3d (snp_leak_pages)',
    'https://lore.kernel.org/all/20231016132819.1002933-17-michael.roth@amd.com/ (Babka reply)',
    'https://lore.kernel.org/all/CAGtprH-on3JdsHx-DyjN_z_5Z6HJoSQjJpA5o5_V6=rygMSbtQ@mail.gmail.com/',
  ],
  observes: ['page_free'],
  messages: {
    freedWhileFirmwareOwned: 'pfn {pfn} returned to the allocator while the firmware owns it ({state})',
    leakedPageFreed: 'pfn {pfn} was leaked by {by} but returned to the allocator',
  },
  create: () => ({
    event(e, w, backend, report) {
      if (e.kind !== 'page_free') return;
      const owner = backend.ownership(w, e.pfn);
      if (owner.kind === 'guest') report('freedWhileFirmwareOwned', { pfn: e.pfn, state: owner.state });
      if (backend.leakedByDesign(w).includes(e.pfn)) report('leakedPageFreed', { pfn: e.pfn, by: 'snp_leak_pages' });
    },
  }),
});
