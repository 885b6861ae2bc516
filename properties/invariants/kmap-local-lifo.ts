import { defineInvariant } from '../Invariant.js';

/**
 * kmap_local_*() mappings are a per-thread stack: "they must be unmapped in the reverse order
 * in which they were mapped" (Documentation/mm/highmem.rst). On 64-bit without highmem the
 * order is harmless, which is why v7.0 shipped with the source unmapped before the destination
 * in sev_gmem_post_populate(); kvm-x86 138f5f9cbe37 ("Unmap local kmaps in LIFO order, per
 * highmem requirements") fixed it. Checked as CONFIG_DEBUG_KMAP_LOCAL would.
 */
export const kmapLocalLifo = defineInvariant({
  id: 'kmap-local-lifo',
  description: 'Require kmap_local mappings to be unmapped in reverse order of mapping',
  cites: ['Documentation/mm/highmem.rst', 'https://lore.kernel.org/all/20260522-fix-sev-gmem-post-populate-v1-0-9fc8d6437b65@google.com/ (patch 4)'],
  observes: ['bad_access'],
  messages: {
    outOfOrder: '{site}: {detail}',
  },
  create: () => ({
    event(e, _w, _b, report) {
      if (e.kind === 'bad_access' && e.what === 'kunmap_order') report('outOfOrder', { site: e.site, detail: e.detail });
    },
  }),
});
