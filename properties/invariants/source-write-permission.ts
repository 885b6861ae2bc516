import { defineInvariant } from '../Invariant.js';
import { hostPage } from '../../model/world/hostMemory.js';
import { currentSite } from '../../model/world/World.js';
import { isZeroPage } from '../../model/kernel/zeroPage.js';

/**
 * The kernel may write into a user page only through a GUP reference taken with FOLL_WRITE (or
 * through copy_to_user(), which honours the mapping's protection), and must set_page_dirty()
 * what it wrote before dropping the reference: otherwise it can scribble on a read-only or
 * COW-shared page (the shared zero page, where the source was never written), or reclaim can
 * drop the data. SNP's CPUID write-back broke both in v7.0;
 * kvm-x86 f13e90059908 ("Pin source page for write when adding CPUID data") and 97cd21d57e9b
 * ("Mark source page dirty when writing back CPUID data on failure") fixed them.
 */
export const sourceWritePermission = defineInvariant({
  id: 'source-write-permission',
  description: 'Require kernel writes into user pages to go through a FOLL_WRITE pin and be marked dirty',
  cites: [
    'Documentation/core-api/pin_user_pages.rst',
    'https://lore.kernel.org/all/20260522-fix-sev-gmem-post-populate-v1-0-9fc8d6437b65@google.com/ (patches 1 and 5)',
  ],
  observes: ['mem_write', 'page_dirty'],
  messages: {
    writeWithoutFollWrite: '{site} writes {len} bytes into user pfn {pfn}, which it pinned without FOLL_WRITE',
    notDirtied: 'user pfn {pfn} was written through a kernel mapping but never set_page_dirty()',
    zeroPageWritten: '{site} writes {len} bytes into the shared zero page (pfn {pfn}), which it pinned for an untouched source page: every untouched anonymous page on the machine now reads them',
  },
  scope: 'operation',
  create: () => {
    // Written and not yet dirtied: pfn → the function that wrote it.
    const written = new Map<number, string>();
    return {
      opBegin() {
        written.clear();
      },
      event(e, w, _b, report) {
        if (e.kind === 'page_dirty') {
          written.delete(e.pfn);
          return;
        }
        if (e.kind !== 'mem_write' || e.via !== 'kmap') return;
        if (isZeroPage(w, e.pfn)) {
          report('zeroPageWritten', { site: currentSite(w), len: e.len, pfn: e.pfn });
          return;
        }
        const p = hostPage(w.host, e.pfn);
        if (p === undefined || p.owner.kind !== 'anon') return;
        const site = currentSite(w);
        if (p.gupWriteRefs === 0) report('writeWithoutFollWrite', { site, len: e.len, pfn: e.pfn });
        written.set(e.pfn, site);
      },
      opEnd(_r, _w, _b, report) {
        for (const [pfn, site] of written) report('notDirtied', { pfn }, site);
      },
    };
  },
});
