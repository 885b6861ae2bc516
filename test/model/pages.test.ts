import { describe, expect, test } from 'vitest';
import { allocPage } from '../../model/kernel/pages.js';
import { PFN_BASE } from '../../model/world/hostMemory.js';
import { GEO, eventsOf, page, smallWorld } from './fixtures.js';

describe('the page allocator', () => {
  test('hands out the lowest free pfn first, with refcount 1', () => {
    const { w } = smallWorld();
    const a = allocPage(w, { kind: 'anon' });
    const b = allocPage(w, { kind: 'gmem', file: 1, index: 0 });
    expect([a?.pfn, b?.pfn]).toEqual([PFN_BASE, PFN_BASE + 1]);
    expect(b).toMatchObject({ refcount: 1, owner: { kind: 'gmem', file: 1, index: 0 }, dirty: false });
    expect(w.freeList[0]).toBe(PFN_BASE + 2);
    expect(eventsOf(w, 'page_alloc').map((e) => e.pfn)).toEqual([PFN_BASE, PFN_BASE + 1]);
  });

  test('a freed page goes back in pfn order and is the next one handed out', () => {
    const { w, k } = smallWorld();
    const pages = [0, 1, 2].map(() => allocPage(w, { kind: 'anon' })?.pfn ?? 0);
    k.put_page(pages[2] ?? 0);
    k.put_page(pages[0] ?? 0);
    expect(w.freeList.slice(0, 3)).toEqual([PFN_BASE, PFN_BASE + 2, PFN_BASE + 3]);
    expect(allocPage(w, { kind: 'anon' })?.pfn).toBe(PFN_BASE);
  });

  test('a page freed above every free pfn is appended', () => {
    const { w, k } = smallWorld();
    const all: number[] = [];
    for (let i = 0; i < GEO.nr_host_pages; i++) all.push(allocPage(w, { kind: 'anon' })?.pfn ?? 0);
    expect(allocPage(w, { kind: 'anon' })).toBeUndefined();
    k.put_page(all[5] ?? 0);
    k.put_page(all[9] ?? 0);
    expect(w.freeList).toEqual([PFN_BASE + 5, PFN_BASE + 9]);
  });
});

describe('put_page() and get_page()', () => {
  test('the last reference frees the page and clears its pins', () => {
    const { w, k } = smallWorld();
    const p = allocPage(w, { kind: 'anon' });
    if (p === undefined) throw new Error('no page');
    k.get_page(p.pfn);
    p.gupRefs = 1;
    k.put_page(p.pfn);
    expect(p).toMatchObject({ refcount: 1, gupRefs: 0 });
    k.put_page(p.pfn);
    expect(p.owner.kind).toBe('free');
    expect(eventsOf(w, 'page_free')).toEqual([{ kind: 'page_free', pfn: p.pfn, owner: { kind: 'anon' } }]);
    expect(eventsOf(w, 'page_ref').map((e) => [e.delta, e.refcount, e.via])).toEqual([[1, 2, 'get_page'], [-1, 1, 'put_page'], [-1, 0, 'put_page']]);
  });

  test('freeing a guest_memfd page runs the free_folio hook first; other pages do not', () => {
    const { w, k } = smallWorld();
    const seen: number[] = [];
    w.hooks = { ...w.hooks, free_folio: (pfn) => seen.push(pfn) };
    const g = allocPage(w, { kind: 'gmem', file: 1, index: 3 });
    const a = allocPage(w, { kind: 'anon' });
    k.put_page(a?.pfn ?? 0);
    k.put_page(g?.pfn ?? 0);
    expect(seen).toEqual([g?.pfn]);
  });

  test('a second put of a freed page is a double free, and the page stays free', () => {
    const { w, k } = smallWorld();
    const p = allocPage(w, { kind: 'anon' });
    const pfn = p?.pfn ?? 0;
    k.put_page(pfn);
    k.put_page(pfn);
    const bad = eventsOf(w, 'bad_access');
    expect(bad.map((e) => e.what)).toEqual(['use_after_free', 'double_free']);
    expect(bad[1]?.detail).toBe(`put_page on pfn 0x${pfn.toString(16)} with refcount 0`);
    expect(page(w, pfn).refcount).toBe(0);
    expect(w.freeList.filter((f) => f === pfn)).toHaveLength(1);
  });

  test('a reference on a non-page is a wild pointer and changes nothing', () => {
    const { w, k } = smallWorld();
    k.get_page(0xdead_0000);
    k.put_page(0);
    expect(eventsOf(w, 'bad_access').map((e) => [e.what, e.detail])).toEqual([
      ['wild_pointer', 'get_page on non-page 0xdead0000'],
      ['wild_pointer', 'put_page on non-page 0x0'],
    ]);
  });

  test('set_page_dirty() marks the page and logs it; on a non-page it does nothing', () => {
    const { w, k } = smallWorld();
    const p = allocPage(w, { kind: 'anon' });
    k.set_page_dirty(p?.pfn ?? 0);
    k.set_page_dirty(1);
    expect(p?.dirty).toBe(true);
    expect(eventsOf(w, 'page_dirty')).toEqual([{ kind: 'page_dirty', pfn: p?.pfn }]);
    expect(k.page_to_pfn(0x123)).toBe(0x123);
    expect(k.pfn_to_page(0x123)).toBe(0x123);
  });
});
