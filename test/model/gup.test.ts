import { describe, expect, test } from 'vitest';
import { FOLL_WRITE } from '../../model/kernel/services/gup.js';
import { MM_LOCK } from '../../model/kernel/services/locking.js';
import { EFAULT } from '../../model/kernel/errno.js';
import { userMmap } from '../../model/scenario/userspace.js';
import { userPfn } from '../../model/world/userspaceMm.js';
import type { Fault } from '../../model/scenario/Scenario.js';
import type { World } from '../../model/world/World.js';
import { PS, SRC, eventsOf, page, smallWorld } from './fixtures.js';

/** A world whose user mm maps `npages` at SRC (minus `holes`), with a fault plan for the next calls. */
function mapped(npages: number, opts: { holes?: number[]; prot?: 'rw' | 'ro'; plan?: Fault[] } = {}) {
  const { w, k } = smallWorld();
  expect(userMmap(w, SRC, npages * PS, opts.prot ?? 'rw', opts.holes ?? [])).toBe(0);
  w.faults = { plan: opts.plan ?? [], seen: new Map() };
  return { w, k, pages: k.local_page_ptrs('pages', npages + 1) };
}

function pfnAt(w: World, i: number): number {
  const pfn = userPfn(w.mm, SRC + i * PS, PS);
  if (pfn === undefined) throw new Error(`page ${i} not mapped`);
  return pfn;
}

describe('get_user_pages_fast()', () => {
  test('pins every page asked for, one reference and one GUP pin each', () => {
    const { w, k, pages } = mapped(3);
    expect(k.get_user_pages_fast(SRC, 3, 0, pages)).toBe(3);
    for (let i = 0; i < 3; i++) {
      expect(pages.at(i)).toBe(pfnAt(w, i));
      expect(page(w, pfnAt(w, i))).toMatchObject({ refcount: 2, gupRefs: 1, gupWriteRefs: 0 });
    }
    expect(eventsOf(w, 'gup')).toEqual([{ kind: 'gup', start: SRC, nr_pages: 3, gup_flags: 0, pfns: [0, 1, 2].map((i) => pfnAt(w, i)), ret: 3 }]);
  });

  test('rounds start down to its page: an unaligned start pins the page that contains it', () => {
    const { w, k, pages } = mapped(2);
    expect(k.get_user_pages_fast(SRC + PS - 1, 1, 0, pages)).toBe(1);
    expect(pages.at(0)).toBe(pfnAt(w, 0));
    expect(eventsOf(w, 'gup')[0]?.start).toBe(SRC + PS - 1);
  });

  test('stops at the first hole and returns how many it pinned', () => {
    const { w, k, pages } = mapped(3, { holes: [1] });
    expect(k.get_user_pages_fast(SRC, 3, 0, pages)).toBe(1);
    expect(page(w, pfnAt(w, 0)).gupRefs).toBe(1);
    expect(page(w, pfnAt(w, 2)).gupRefs).toBe(0);
  });

  test('a hole at the start is -EFAULT, with nothing pinned', () => {
    const { w, k, pages } = mapped(2, { holes: [0] });
    expect(k.get_user_pages_fast(SRC, 2, 0, pages)).toBe(-EFAULT);
    expect(page(w, pfnAt(w, 1)).refcount).toBe(1);
  });

  test('FOLL_WRITE on a read-only mapping fails; without it the page pins', () => {
    const { w, k, pages } = mapped(1, { prot: 'ro' });
    expect(k.get_user_pages_fast(SRC, 1, FOLL_WRITE, pages)).toBe(-EFAULT);
    expect(k.get_user_pages_fast(SRC, 1, 0, pages)).toBe(1);
    expect(page(w, pfnAt(w, 0))).toMatchObject({ gupRefs: 1, gupWriteRefs: 0 });
  });

  test('FOLL_WRITE pins count as write pins; put_page drops the pin first', () => {
    const { w, k, pages } = mapped(1);
    expect(k.get_user_pages_fast(SRC, 1, FOLL_WRITE, pages)).toBe(1);
    const p = page(w, pfnAt(w, 0));
    expect(p).toMatchObject({ refcount: 2, gupRefs: 1, gupWriteRefs: 1 });
    k.put_page(p.pfn);
    expect(p).toMatchObject({ refcount: 1, gupRefs: 0, gupWriteRefs: 0 });
  });

  test('a short fault pins one page fewer; an efault fault pins none', () => {
    const short = mapped(3, { plan: [{ kind: 'gup', nth: 1, result: 'short' }] });
    expect(short.k.get_user_pages_fast(SRC, 3, 0, short.pages)).toBe(2);
    expect(eventsOf(short.w, 'fault').map((e) => e.fault)).toEqual(['gup #1 short']);
    const ef = mapped(3, { plan: [{ kind: 'gup', nth: 2, result: 'efault' }] });
    expect(ef.k.get_user_pages_fast(SRC, 1, 0, ef.pages)).toBe(1);
    expect(ef.k.get_user_pages_fast(SRC, 3, 0, ef.pages)).toBe(-EFAULT);
  });

  test('zero pages is 0, not an error', () => {
    const { k, pages } = mapped(1);
    expect(k.get_user_pages_fast(SRC, 0, 0, pages)).toBe(0);
  });

  test('tells lockdep it may take mmap_lock for read', () => {
    const { w, k, pages } = mapped(1);
    k.get_user_pages_fast(SRC, 1, 0, pages);
    expect(eventsOf(w, 'lock')).toEqual([{ kind: 'lock', action: 'might', lock: MM_LOCK, mode: 'shared', thread: 0, site: 'userspace' }]);
  });
});

describe('get_user_pages()', () => {
  test('asserts mmap_lock is held, and pins like the fast path', () => {
    const { w, k, pages } = mapped(2);
    expect(k.get_user_pages(SRC, 2, 0, pages)).toBe(2);
    k.mmap_read_lock(MM_LOCK);
    expect(k.get_user_pages(SRC, 1, 0, pages)).toBe(1);
    k.mmap_read_unlock(MM_LOCK);
    expect(eventsOf(w, 'lockdep_assert_held').map((e) => e.held)).toEqual([false, true]);
  });
});
