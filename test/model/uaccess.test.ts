import { describe, expect, test } from 'vitest';
import { allocPage } from '../../model/kernel/pages.js';
import { MM_LOCK } from '../../model/kernel/services/locking.js';
import { userMmap } from '../../model/scenario/userspace.js';
import { PROV_ZERO, userByte, userTag } from '../../model/world/provenance.js';
import { userPfn } from '../../model/world/userspaceMm.js';
import { PS, SRC, eventsOf, page, smallWorld } from './fixtures.js';

/** A user mapping at SRC and a kernel page mapped at `kva`. */
function setup(npages: number, holes: number[] = [], prot: 'rw' | 'ro' = 'rw') {
  const { w, k } = smallWorld();
  expect(userMmap(w, SRC, npages * PS, prot, holes)).toBe(0);
  const kp = allocPage(w, { kind: 'anon' });
  if (kp === undefined) throw new Error('no page');
  const kva = k.kmap_local_pfn(kp.pfn);
  return { w, k, kp, kva };
}

describe('copy_from_user()', () => {
  test('copies user bytes, each tagged with its own user address', () => {
    const { k, kp, kva } = setup(2);
    expect(k.copy_from_user(kva, SRC + PS - 8, 16)).toBe(0);
    expect([...kp.data.subarray(0, 16)]).toEqual(Array.from({ length: 16 }, (_x, i) => userByte(SRC + PS - 8 + i, 1)));
    expect([...kp.prov.subarray(0, 16)]).toEqual(Array.from({ length: 16 }, (_x, i) => userTag(SRC + PS - 8 + i, 1)));
  });

  test('stops at a hole, returns the bytes not copied and zero-fills the rest', () => {
    const { k, kp, kva } = setup(2, [1]);
    expect(k.copy_from_user(kva, SRC + PS - 4, 12)).toBe(8);
    expect([...kp.data.subarray(0, 4)]).toEqual([0, 1, 2, 3].map((i) => userByte(SRC + PS - 4 + i, 1)));
    expect([...kp.data.subarray(4, 12)]).toEqual(Array<number>(8).fill(0));
    expect([...kp.prov.subarray(4, 12)]).toEqual(Array<number>(8).fill(PROV_ZERO));
    expect(kp.data[12]).toBe(0xa5);
  });

  test('a source that starts in a hole copies nothing and zero-fills everything', () => {
    const { k, kp, kva } = setup(1, [0]);
    expect(k.copy_from_user(kva, SRC, PS)).toBe(PS);
    expect(new Set(kp.prov)).toEqual(new Set([PROV_ZERO]));
  });

  test('copies nothing for n = 0 and may take mmap_lock', () => {
    const { w, k, kva } = setup(1);
    const writes = eventsOf(w, 'mem_write').length;
    expect(k.copy_from_user(kva, SRC, 0)).toBe(0);
    expect(eventsOf(w, 'mem_write')).toHaveLength(writes);
    expect(eventsOf(w, 'lock').filter((e) => e.action === 'might').map((e) => e.lock)).toEqual([MM_LOCK]);
  });
});

describe('copy_to_user()', () => {
  test('writes kernel bytes into user pages, across a page boundary', () => {
    const { w, k, kp, kva } = setup(2);
    kp.data.fill(0x11);
    kp.prov.fill(-7);
    expect(k.copy_to_user(SRC + PS - 2, kva, 4)).toBe(0);
    const p0 = page(w, userPfn(w.mm, SRC, PS) ?? 0);
    const p1 = page(w, userPfn(w.mm, SRC + PS, PS) ?? 0);
    expect([p0.data[PS - 2], p0.data[PS - 1], p1.data[0], p1.data[1]]).toEqual([0x11, 0x11, 0x11, 0x11]);
    expect(p1.prov[1]).toBe(-7);
    expect(p1.data[2]).toBe(userByte(SRC + PS + 2, 1));
    expect(eventsOf(w, 'mem_write').filter((e) => e.via === 'uaccess').map((e) => [e.offset, e.len])).toEqual([[PS - 2, 2], [0, 2]]);
  });

  test('a read-only mapping ends the copy: the bytes not copied are returned', () => {
    const { w, k, kva } = setup(1, [], 'ro');
    expect(k.copy_to_user(SRC, kva, 8)).toBe(8);
    expect(page(w, userPfn(w.mm, SRC, PS) ?? 0).data[0]).toBe(userByte(SRC, 1));
  });

  test('a hole ends the copy', () => {
    const { k, kva } = setup(2, [1]);
    expect(k.copy_to_user(SRC + PS - 4, kva, 8)).toBe(4);
  });
});
