import { defineInvariant, type Reporter } from '../Invariant.js';
import { inPageCache, userMapCount } from '../views.js';

/**
 * The type invariant (TLA+'s TypeOK): the bookkeeping every other invariant reads is
 * consistent. Page counts never go negative, a free page is in the allocator and nowhere else,
 * a mapped or cached page is not free, and GUP references are a subset of all references.
 * Checked first so the other invariants may assume the shapes they read.
 */
export const worldWellFormed = defineInvariant({
  id: 'world-well-formed',
  description: 'Require page, pin and allocator bookkeeping to stay consistent',
  cites: ['include/linux/mm.h (page_ref_count, put_page)', 'mm/page_alloc.c'],
  observes: ['bad_access'],
  messages: {
    refcountUnderflow: 'reference dropped on pfn {pfn} with refcount 0 ({detail})',
    freeButHeld: 'pfn {pfn} is free but still {where}',
    freeListCorrupt: 'allocator free list holds pfn {pfn} {problem}',
    gupExceedsRefs: 'pfn {pfn} has {gup} GUP references but refcount {refcount}',
    heldButFree: 'pfn {pfn} ({owner}) is held but has refcount {refcount}',
  },
  create: () => {
    // Broken bookkeeping stays broken: each problem is reported once, by the operation that broke it.
    const seen = new Set<string>();
    const once = <M extends string>(report: Reporter<M>): Reporter<M> => (id, values, site) => {
      const key = `${id}:${String(values.pfn)}`;
      if (seen.has(key)) return;
      seen.add(key);
      report(id, values, site);
    };
    return {
    event(e, w, _b, report) {
      if (e.kind === 'bad_access' && e.what === 'double_free' && e.detail.includes('refcount 0')) {
        const m = /pfn (0x[0-9a-f]+)/.exec(e.detail);
        report('refcountUnderflow', { pfn: m?.[1] ?? '?', detail: e.detail });
      }
      void w;
    },
    opEnd(_r, w, _b, reportAll) {
      const report = once(reportAll);
      const mapped = userMapCount(w);
      const cached = inPageCache(w);
      const free = new Set<number>();
      let prev = -1;
      for (const pfn of w.freeList) {
        if (free.has(pfn) || pfn <= prev) report('freeListCorrupt', { pfn, problem: 'twice or out of order' });
        free.add(pfn);
        prev = pfn;
      }
      for (const p of w.host.pages) {
        const isFree = p.owner.kind === 'free';
        if (isFree !== free.has(p.pfn)) report('freeListCorrupt', { pfn: p.pfn, problem: isFree ? 'missing although free' : 'although in use' });
        if (isFree && mapped.has(p.pfn)) report('freeButHeld', { pfn: p.pfn, where: 'mapped in the user mm' });
        if (isFree && cached.has(p.pfn)) report('freeButHeld', { pfn: p.pfn, where: 'in a guest_memfd page cache' });
        // A tail page of a large folio has no count of its own (compound_head() keeps it).
        if (!isFree && p.owner.kind !== 'leaked' && p.head === undefined && p.refcount <= 0) report('heldButFree', { pfn: p.pfn, owner: p.owner.kind, refcount: p.refcount });
        if (p.gupRefs > p.refcount) report('gupExceedsRefs', { pfn: p.pfn, gup: p.gupRefs, refcount: p.refcount });
      }
    },
    };
  },
});
