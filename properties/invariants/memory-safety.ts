import { defineInvariant } from '../Invariant.js';

/**
 * What KASAN and KMSAN would report: an access outside the object or mapping it belongs to
 * (past a kmalloc()ed array, past a kmapped page), through a wild or NULL pointer, after free,
 * an unlock of a lock not held, and any use of an uninitialised value. RFC v1's TDX callback
 * (`src_pages[i]` with `i` uninitialised, B3; a NULL `src_pages` when source_addr is 0) is the
 * finding this was built for.
 */
export const memorySafety = defineInvariant({
  id: 'memory-safety',
  description: 'Forbid out-of-bounds, wild, NULL or freed accesses and uses of uninitialised values',
  cites: [
    'Documentation/dev-tools/kasan.rst, Documentation/dev-tools/kmsan.rst',
    'https://lore.kernel.org/all/20251113230759.1562024-4-michael.roth@amd.com/ (Yan Zhao: "src_pages[0] ? i is not initialized.")',
  ],
  observes: ['bad_access', 'uninit_use'],
  messages: {
    outOfBounds: 'out-of-bounds access in {site}: {detail}',
    wildPointer: 'wild or NULL pointer in {site}: {detail}',
    useAfterFree: 'use after free in {site}: {detail}',
    badUnlock: 'bad unlock in {site}: {detail}',
    uninitialised: 'use of uninitialised value {variable} (= {value}) in {site}',
  },
  create: () => ({
    event(e, _w, _b, report) {
      if (e.kind === 'uninit_use') {
        const at = e.site.lastIndexOf(':');
        report('uninitialised', { variable: e.site.slice(at + 1), value: e.value, site: at < 0 ? e.site : e.site.slice(0, at) });
        return;
      }
      if (e.kind !== 'bad_access') return;
      const values = { site: e.site, detail: e.detail };
      switch (e.what) {
        case 'out_of_bounds':
        case 'unmapped_kva':
          report('outOfBounds', values);
          return;
        case 'wild_pointer':
          report('wildPointer', values);
          return;
        case 'use_after_free':
        case 'double_free':
          report('useAfterFree', values);
          return;
        case 'bad_unlock':
          report('badUnlock', values);
          return;
        case 'kunmap_order':
          return;
      }
    },
  }),
});
