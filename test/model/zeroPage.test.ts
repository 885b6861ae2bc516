import { describe, expect, test } from 'vitest';
import { allocPage } from '../../model/kernel/pages.js';
import { FOLL_WRITE } from '../../model/kernel/services/gup.js';
import { isZeroPage } from '../../model/kernel/zeroPage.js';
import { userMmap, userMunmap } from '../../model/scenario/userspace.js';
import { PROV_ZERO, userByte } from '../../model/world/provenance.js';
import { userPfn } from '../../model/world/userspaceMm.js';
import { PS, SRC, page, smallWorld } from './fixtures.js';

/** Two pages at SRC, the second never written by the VMM. */
function untouchedSecond() {
  const { w, k } = smallWorld();
  expect(userMmap(w, SRC, 2 * PS, 'rw', [], [1])).toBe(0);
  return { w, k, pages: k.local_page_ptrs('pages', 2) };
}

describe('the shared zero page (mm/memory.c do_anonymous_page(), wp_page_copy())', () => {
  test('an untouched page maps the zero page: zeros, no reference taken, one page for every such mapping', () => {
    const { w } = untouchedSecond();
    const zero = userPfn(w.mm, SRC + PS, PS);
    expect(isZeroPage(w, zero)).toBe(true);
    expect(isZeroPage(w, userPfn(w.mm, SRC, PS))).toBe(false);
    const p = page(w, zero ?? 0);
    expect(p).toMatchObject({ owner: { kind: 'kernel', what: 'ZERO_PAGE' }, refcount: 1 });
    expect(new Set(p.data)).toEqual(new Set([0]));
    expect(new Set(p.prov)).toEqual(new Set([PROV_ZERO]));
    expect(userMmap(w, SRC + 4 * PS, PS, 'ro', [], [0])).toBe(0);
    expect(userPfn(w.mm, SRC + 4 * PS, PS)).toBe(zero);
  });

  test('GUP without FOLL_WRITE pins the zero page itself; with FOLL_WRITE the write fault gives a fresh zeroed page first', () => {
    const { w, k, pages } = untouchedSecond();
    const zero = userPfn(w.mm, SRC + PS, PS) ?? 0;
    expect(k.get_user_pages_fast(SRC + PS, 1, 0, pages)).toBe(1);
    expect(pages.at(0)).toBe(zero);
    expect(page(w, zero)).toMatchObject({ refcount: 2, gupRefs: 1, gupWriteRefs: 0 });
    expect(k.get_user_pages_fast(SRC + PS, 1, FOLL_WRITE, pages)).toBe(1);
    const fresh = userPfn(w.mm, SRC + PS, PS) ?? 0;
    expect(fresh).not.toBe(zero);
    expect(pages.at(0)).toBe(fresh);
    expect(page(w, fresh)).toMatchObject({ owner: { kind: 'anon' }, refcount: 2, gupWriteRefs: 1 });
    expect(new Set(page(w, fresh).prov)).toEqual(new Set([PROV_ZERO]));
    // The zero page is untouched by all of it.
    expect(new Set(page(w, zero).data)).toEqual(new Set([0]));
  });

  test('copy_to_user() into an untouched page copies it on write: the zero page stays zero', () => {
    const { w, k } = untouchedSecond();
    const zero = userPfn(w.mm, SRC + PS, PS) ?? 0;
    const kp = allocPage(w, { kind: 'anon' });
    if (kp === undefined) throw new Error('no page');
    kp.data.fill(0x11);
    const kva = k.kmap_local_pfn(kp.pfn);
    expect(k.copy_to_user(SRC + PS - 2, kva, 4)).toBe(0);
    const fresh = userPfn(w.mm, SRC + PS, PS) ?? 0;
    expect(fresh).not.toBe(zero);
    expect([...page(w, fresh).data.subarray(0, 3)]).toEqual([0x11, 0x11, 0]);
    expect(page(w, userPfn(w.mm, SRC, PS) ?? 0).data[0]).toBe(userByte(SRC, 1));
    expect(new Set(page(w, zero).data)).toEqual(new Set([0]));
  });

  test('munmap() of an untouched page frees nothing: the zero page is the kernel\'s for good', () => {
    const { w } = untouchedSecond();
    const zero = userPfn(w.mm, SRC + PS, PS) ?? 0;
    expect(userMunmap(w, SRC, 2 * PS)).toBe(0);
    expect(page(w, zero)).toMatchObject({ owner: { kind: 'kernel', what: 'ZERO_PAGE' }, refcount: 1 });
  });
});
