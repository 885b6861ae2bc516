import { describe, expect, test } from 'vitest';
import { GFP_KERNEL } from '../../model/kernel/services/slab.js';
import { KERNEL_HEAP_BASE, WILD_PAGE } from '../../model/world/kheap.js';
import { eventsOf, smallWorld } from './fixtures.js';

describe('kmalloc_array() page-pointer arrays', () => {
  test('elements read back what was stored; &array[i] views from i', () => {
    const { w, k } = smallWorld();
    const p = k.kmalloc_array(3, 8, GFP_KERNEL);
    if (p === null) throw new Error('allocation failed');
    expect(p.ptr).toBe(KERNEL_HEAP_BASE);
    p.set(0, 0x100);
    p.set(2, 0x102);
    expect(p.plus(2).at(0)).toBe(0x102);
    expect(p.plus(1).ptr).toBe(KERNEL_HEAP_BASE + 8);
    expect(eventsOf(w, 'kmalloc')).toEqual([{ kind: 'kmalloc', ptr: KERNEL_HEAP_BASE, nmemb: 3, size: 8, site: 'userspace' }]);
  });

  test('reading a never-written element is a use of an uninitialised value', () => {
    const { w, k } = smallWorld();
    const p = k.kmalloc_array(2, 8, GFP_KERNEL);
    expect(p?.at(1)).toBe(WILD_PAGE);
    expect(eventsOf(w, 'uninit_use')).toEqual([{ kind: 'uninit_use', site: 'kmalloc_array@userspace[1]', value: WILD_PAGE }]);
  });

  test('indexing past either end is out of bounds; a write there is dropped', () => {
    const { w, k } = smallWorld();
    const p = k.kmalloc_array(2, 8, GFP_KERNEL);
    p?.plus(1).set(1, 0x100);
    expect(p?.plus(2).at(0)).toBe(WILD_PAGE);
    expect(p?.at(-1)).toBe(WILD_PAGE);
    expect(eventsOf(w, 'bad_access').map((e) => [e.what, e.detail])).toEqual([
      ['out_of_bounds', `write of element 2 of kmalloc_array@userspace [2] at 0x${KERNEL_HEAP_BASE.toString(16)}`],
      ['out_of_bounds', `read of element 2 of kmalloc_array@userspace [2] at 0x${KERNEL_HEAP_BASE.toString(16)}`],
      ['out_of_bounds', `read of element -1 of kmalloc_array@userspace [2] at 0x${KERNEL_HEAP_BASE.toString(16)}`],
    ]);
  });

  test('kfree() twice is a double free; use after kfree() is reported', () => {
    const { w, k } = smallWorld();
    const p = k.kmalloc_array(1, 8, GFP_KERNEL);
    p?.set(0, 0x100);
    k.kfree(p);
    expect(p?.at(0)).toBe(0x100);
    k.kfree(p);
    k.kfree(null);
    expect(eventsOf(w, 'bad_access').map((e) => e.what)).toEqual(['use_after_free', 'double_free']);
    expect(eventsOf(w, 'kfree')).toHaveLength(1);
  });

  test('an injected kmalloc failure returns NULL', () => {
    const { w, k } = smallWorld();
    w.faults = { plan: [{ kind: 'alloc', nth: 2, site: 'kmalloc' }], seen: new Map() };
    expect(k.kmalloc_array(1, 8, GFP_KERNEL)).not.toBeNull();
    expect(k.kmalloc_array(1, 8, GFP_KERNEL)).toBeNull();
    expect(w.heap.objects.size).toBe(1);
  });

  test('indexing a NULL array is a wild pointer', () => {
    const { w, k } = smallWorld();
    expect(k.page_ptrs_index(null, 3)).toBe(WILD_PAGE);
    expect(eventsOf(w, 'bad_access')[0]).toMatchObject({ what: 'wild_pointer', detail: 'NULL dereference: (struct page **)NULL[3]' });
    const local = k.local_page_ptrs('src_page', 1);
    local.set(0, 0x101);
    expect(k.page_ptrs_index(local, 0)).toBe(0x101);
    expect(local.at(1)).toBe(WILD_PAGE);
    expect(eventsOf(w, 'bad_access')[1]?.detail).toMatch(/^read of element 1 of userspace:src_page \[1\]/);
  });
});
