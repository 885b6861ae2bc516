import { describe, expect, test } from 'vitest';
import { EINVAL, ENOMEM } from '../../model/kernel/errno.js';
import { isZeroPage } from '../../model/kernel/zeroPage.js';
import { MADV_DONTNEED, MADV_PAGEOUT, MADV_REMOVE, userMadvise, userMmap } from '../../model/scenario/userspace.js';
import { PROV_ZERO, userByte, userTag } from '../../model/world/provenance.js';
import { userPfn } from '../../model/world/userspaceMm.js';
import { PS, SRC, page, smallWorld } from './fixtures.js';

/** Two written pages at SRC. */
function twoPages() {
  const { w, k } = smallWorld();
  expect(userMmap(w, SRC, 2 * PS, 'rw', [])).toBe(0);
  return { w, k, pages: k.local_page_ptrs('pages', 2) };
}

describe('madvise() on the VMM\'s anonymous memory (mm/madvise.c)', () => {
  test('MADV_DONTNEED frees the page and leaves the zero page mapped: the address reads zeroes', () => {
    const { w } = twoPages();
    const old = userPfn(w.mm, SRC + PS, PS) ?? 0;
    expect(userMadvise(w, SRC + PS, PS, MADV_DONTNEED)).toBe(0);
    const now = userPfn(w.mm, SRC + PS, PS);
    expect(isZeroPage(w, now)).toBe(true);
    expect(page(w, old).owner.kind).toBe('free');
    expect(new Set(page(w, now ?? 0).prov)).toEqual(new Set([PROV_ZERO]));
    // The other page is the VMM's as before.
    expect(page(w, userPfn(w.mm, SRC, PS) ?? 0).data[0]).toBe(userByte(SRC, 1));
  });

  test('MADV_DONTNEED of a page GUP holds unmaps it; the page lives on until put_page()', () => {
    const { w, k, pages } = twoPages();
    expect(k.get_user_pages_fast(SRC, 1, 0, pages)).toBe(1);
    const pinned = pages.at(0) ?? 0;
    expect(userMadvise(w, SRC, PS, MADV_DONTNEED)).toBe(0);
    expect(isZeroPage(w, userPfn(w.mm, SRC, PS))).toBe(true);
    expect(page(w, pinned)).toMatchObject({ owner: { kind: 'anon' }, refcount: 1 });
    k.put_page(pinned);
    expect(page(w, pinned).owner.kind).toBe('free');
  });

  test('MADV_PAGEOUT swaps the page out: the same bytes come back in a new page; a pinned page stays', () => {
    const { w, k, pages } = twoPages();
    const first = userPfn(w.mm, SRC, PS) ?? 0;
    const second = userPfn(w.mm, SRC + PS, PS) ?? 0;
    expect(k.get_user_pages_fast(SRC + PS, 1, 0, pages)).toBe(1);
    expect(userMadvise(w, SRC, 2 * PS, MADV_PAGEOUT)).toBe(0);
    const back = userPfn(w.mm, SRC, PS) ?? 0;
    expect(back).not.toBe(first);
    expect(page(w, first).owner.kind).toBe('free');
    expect(page(w, back).data[3]).toBe(userByte(SRC + 3, 1));
    expect(page(w, back).prov[3]).toBe(userTag(SRC + 3, 1));
    expect(userPfn(w.mm, SRC + PS, PS)).toBe(second);
  });

  test('MADV_REMOVE is -EINVAL on anonymous memory; an unaligned start -EINVAL; a range with a gap -ENOMEM after the mapped part', () => {
    const { w } = twoPages();
    const first = userPfn(w.mm, SRC, PS);
    expect(userMadvise(w, SRC, PS, MADV_REMOVE)).toBe(-EINVAL);
    expect(userMadvise(w, SRC + 1, PS, MADV_DONTNEED)).toBe(-EINVAL);
    expect(userPfn(w.mm, SRC, PS)).toBe(first);
    expect(userMadvise(w, SRC, 0, MADV_DONTNEED)).toBe(0);
    expect(userMadvise(w, SRC + PS, 2 * PS, MADV_DONTNEED)).toBe(-ENOMEM);
    expect(isZeroPage(w, userPfn(w.mm, SRC + PS, PS))).toBe(true);
    // The length is rounded up to a page.
    expect(userMadvise(w, SRC, 1, MADV_DONTNEED)).toBe(0);
    expect(isZeroPage(w, userPfn(w.mm, SRC, PS))).toBe(true);
  });
});
