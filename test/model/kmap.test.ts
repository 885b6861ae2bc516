import { describe, expect, test } from 'vitest';
import { KMAP_BASE } from '../../model/kernel/services/kmap.js';
import { allocPage } from '../../model/kernel/pages.js';
import { PFN_BASE } from '../../model/world/hostMemory.js';
import { PROV_GARBAGE, PROV_ZERO } from '../../model/world/provenance.js';
import type { World } from '../../model/world/World.js';
import { PS, eventsOf, page, smallWorld } from './fixtures.js';

function twoPages() {
  const { w, k } = smallWorld();
  const a = allocPage(w, { kind: 'anon' });
  const b = allocPage(w, { kind: 'anon' });
  if (a === undefined || b === undefined) throw new Error('allocation failed');
  a.data.forEach((_x, i) => { a.data[i] = i; a.prov[i] = 1000 + i; });
  return { w, k, a, b };
}

const bad = (w: World) => eventsOf(w, 'bad_access').map((e) => e.what);

describe('kmap_local_*() slots', () => {
  test('each live mapping gets its own per-thread slot, lowest free first', () => {
    const { w, k, a, b } = twoPages();
    const va = k.kmap_local_pfn(a.pfn);
    const vb = k.kmap_local_page(b.pfn);
    expect([va, vb]).toEqual([KMAP_BASE, KMAP_BASE + PS]);
    expect([a.kmaps, b.kmaps]).toEqual([1, 1]);
    k.kunmap_local(vb);
    k.kunmap_local(va);
    expect(bad(w)).toEqual([]);
    expect(k.kmap_local_pfn(b.pfn)).toBe(KMAP_BASE);
    w.thread = 1;
    expect(k.kmap_local_pfn(a.pfn)).toBe(KMAP_BASE + 16 * PS);
  });

  test('unmapping out of LIFO order is reported, and still unmaps', () => {
    const { w, k, a, b } = twoPages();
    const va = k.kmap_local_pfn(a.pfn);
    k.kmap_local_pfn(b.pfn);
    k.kunmap_local(va);
    expect(eventsOf(w, 'bad_access')).toEqual([
      { kind: 'bad_access', what: 'kunmap_order', detail: `kunmap_local of pfn 0x${a.pfn.toString(16)} while a later kmap is live`, site: 'userspace' },
    ]);
    expect(a.kmaps).toBe(0);
    expect(w.kmaps.get(0)?.map((m) => m.pfn)).toEqual([b.pfn]);
  });

  test('kunmap_local() of an address inside a live slot unmaps that slot', () => {
    const { w, k, a } = twoPages();
    const va = k.kmap_local_pfn(a.pfn);
    k.kunmap_local(va + PS - 1);
    expect(eventsOf(w, 'kunmap')).toEqual([{ kind: 'kunmap', vaddr: va, pfn: a.pfn }]);
  });

  test('kunmap_local() of no live mapping is an unmapped kva', () => {
    const { w, k, a } = twoPages();
    const va = k.kmap_local_pfn(a.pfn);
    k.kunmap_local(va);
    k.kunmap_local(va);
    expect(bad(w)).toEqual(['unmapped_kva']);
  });

  test('mapping a free page or a non-page is reported but still gets a slot', () => {
    const { w, k } = smallWorld();
    expect(k.kmap_local_pfn(PFN_BASE)).toBe(KMAP_BASE);
    expect(k.kmap_local_pfn(7)).toBe(KMAP_BASE + PS);
    expect(bad(w)).toEqual(['use_after_free', 'wild_pointer']);
  });
});

describe('memcpy() between kmap slots', () => {
  test('copies bytes with their provenance', () => {
    const { w, k, a, b } = twoPages();
    const src = k.kmap_local_pfn(a.pfn);
    const dst = k.kmap_local_pfn(b.pfn);
    k.memcpy(dst + 4, src + 8, 16);
    expect([...b.data.subarray(4, 20)]).toEqual([...a.data.subarray(8, 24)]);
    expect([...b.prov.subarray(4, 20)]).toEqual([...a.prov.subarray(8, 24)]);
    expect(b.data[3]).toBe(0xa5);
    expect(eventsOf(w, 'mem_read')).toEqual([{ kind: 'mem_read', pfn: a.pfn, offset: 8, len: 16, via: 'kmap' }]);
    expect(eventsOf(w, 'mem_write')).toEqual([{ kind: 'mem_write', pfn: b.pfn, offset: 4, len: 16, via: 'kmap' }]);
  });

  test('a copy that runs past the source page is out of bounds and reads stale bytes', () => {
    const { w, k, a, b } = twoPages();
    const src = k.kmap_local_pfn(a.pfn);
    const dst = k.kmap_local_pfn(b.pfn);
    k.memcpy(dst, src + PS - 2, 4);
    expect(bad(w)).toEqual(['out_of_bounds']);
    expect([...b.data.subarray(0, 4)]).toEqual([PS - 2, PS - 1, 0, 0]);
    expect([...b.prov.subarray(2, 4)]).toEqual([PROV_GARBAGE, PROV_GARBAGE]);
  });

  test('a copy that runs past the destination page is out of bounds and the excess is dropped', () => {
    const { w, k, a, b } = twoPages();
    const src = k.kmap_local_pfn(a.pfn);
    const dst = k.kmap_local_pfn(b.pfn);
    k.memcpy(dst + PS - 1, src, 3);
    expect(eventsOf(w, 'bad_access')[0]?.detail).toBe(`write of 3 bytes at +0x3f runs 2 bytes past mapped pfn 0x${b.pfn.toString(16)}`);
    expect(b.data[PS - 1]).toBe(0);
    expect(eventsOf(w, 'mem_write')[0]?.len).toBe(1);
  });

  test('copying from or to an unmapped kernel address is reported', () => {
    const { w, k, a } = twoPages();
    const src = k.kmap_local_pfn(a.pfn);
    k.memcpy(KMAP_BASE + 5 * PS, src, 4);
    k.memcpy(src, KMAP_BASE + 6 * PS, 4);
    expect(bad(w)).toEqual(['unmapped_kva', 'unmapped_kva']);
    expect([...a.data.subarray(0, 4)]).toEqual([0, 0, 0, 0]);
    expect([...a.prov.subarray(0, 4)]).toEqual([PROV_GARBAGE, PROV_GARBAGE, PROV_GARBAGE, PROV_GARBAGE]);
  });
});

describe('clear_highpage()', () => {
  test('zero-fills the page and tags it zero', () => {
    const { w, k, a } = twoPages();
    k.clear_highpage(a.pfn);
    expect(new Set(page(w, a.pfn).data)).toEqual(new Set([0]));
    expect(new Set(page(w, a.pfn).prov)).toEqual(new Set([PROV_ZERO]));
  });

  test('of a non-page is a wild pointer and writes nothing', () => {
    const { w, k } = smallWorld();
    k.clear_highpage(3);
    expect(bad(w)).toEqual(['wild_pointer']);
    expect(eventsOf(w, 'mem_write')).toEqual([]);
  });
});
