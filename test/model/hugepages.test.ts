import { describe, expect, test } from 'vitest';
import { IS_ERR } from '../../model/kernel/services/errptr.js';
import { kvm_gmem_max_order_huge } from '../../model/kernel/hugepages.js';
import { folioOf } from '../../model/kernel/services/filemap.js';
import { distinctFolios } from '../../model/world/gmem.js';
import { PS, page, smallWorld } from './fixtures.js';

/** A guest_memfd of `pages` pages on a machine whose guest_memfd tries folios of `order` first. */
function hugeFile(order: number, pages: number) {
  const { w, k } = smallWorld();
  w.gmemHugeOrder = order;
  const file = k.gmem_file_create(pages * PS, 1);
  return { w, k, file };
}

describe('the hugepages what-if (SNP v11 01/35\'s kvm_gmem_get_huge_folio())', () => {
  test('a folio of the order, naturally aligned in the file and in physical memory, cached at each index it covers; its references live on the head', () => {
    const { w, k, file } = hugeFile(2, 8);
    const folio = k.filemap_grab_folio(file, 5);
    expect(IS_ERR(folio)).toBe(false);
    expect(folio % 4).toBe(0);
    const f = w.gmem.files.get(file);
    expect(f?.folios.get(4)).toBe(f?.folios.get(7));
    expect(f?.folios.get(5)).toMatchObject({ pfn: folio, index: 4, order: 2 });
    expect(k.folio_order(folio)).toBe(2);
    expect(k.folio_nr_pages(folio)).toBe(4);
    expect(k.folio_file_pfn(folio, 6)).toBe(folio + 2);
    expect(page(w, folio)).toMatchObject({ refcount: 2, order: 2 });
    expect(page(w, folio + 3)).toMatchObject({ refcount: 0, head: folio, owner: { kind: 'gmem', file, index: 7 } });
    // get_page() on a tail takes a reference on the folio.
    k.folio_get(folio + 1);
    expect(page(w, folio).refcount).toBe(3);
    expect(folioOf(w, folio + 1)?.folio.pfn).toBe(folio);
  });

  test('best effort: a single page where the huge range runs past the end of the file or already holds a page', () => {
    const { k, file } = hugeFile(2, 6);
    expect(k.folio_order(k.filemap_grab_folio(file, 5))).toBe(0);
    expect(k.folio_order(k.filemap_grab_folio(file, 1))).toBe(2);
    const other = hugeFile(2, 8);
    other.k.folio_unlock(other.k.filemap_grab_folio(other.file, 2));
    other.k.truncate_inode_pages_range(other.file, 0, 8 * PS - 1);
    expect(other.k.folio_order(other.k.__filemap_get_folio(other.file, 0, 0x4))).toBe(2);
  });

  test('a hole covering a whole folio frees it at once; a hole over part of one splits it and frees that part', () => {
    const { w, k, file } = hugeFile(2, 8);
    const a = k.filemap_grab_folio(file, 0);
    const b = k.filemap_grab_folio(file, 4);
    for (const f of [a, b]) {
      k.folio_unlock(f);
      k.folio_put(f);
    }
    k.truncate_inode_pages_range(file, 0, 4 * PS - 1);
    expect(page(w, a).owner.kind).toBe('free');
    expect(page(w, a + 3).owner.kind).toBe('free');
    k.truncate_inode_pages_range(file, 5 * PS, 6 * PS - 1);
    const f = w.gmem.files.get(file);
    if (f === undefined) throw new Error('no file');
    expect(distinctFolios(f).map((x) => [x.index, x.order])).toEqual([[4, 0], [6, 0], [7, 0]]);
    expect(page(w, b + 1).owner.kind).toBe('free');
    expect(page(w, b + 2)).toMatchObject({ refcount: 1, head: undefined });
  });

  test('a folio someone else holds a reference on cannot be split: it leaves the page cache whole', () => {
    const { w, k, file } = hugeFile(2, 4);
    const a = k.filemap_grab_folio(file, 0);
    k.folio_unlock(a);
    k.truncate_inode_pages_range(file, PS, 2 * PS - 1);
    expect(w.gmem.files.get(file)?.folios.size).toBe(0);
    expect(page(w, a)).toMatchObject({ refcount: 1, order: 2 });
    k.folio_put(a);
    expect([0, 1, 2, 3].map((i) => page(w, a + i).owner.kind)).toEqual(['free', 'free', 'free', 'free']);
  });

  test('__kvm_gmem_get_pfn()\'s max_order: the folio\'s order while the memslot binds all of it (index rounded up, as the patch has it), else 0', () => {
    const k = { folio_order: (f: number) => (f === 1 ? 0 : 2) };
    expect(kvm_gmem_max_order_huge(k, { gmem_pgoff: 0, npages: 8 }, 0, 1)).toBe(0);
    expect(kvm_gmem_max_order_huge(k, { gmem_pgoff: 0, npages: 8 }, 4, 2)).toBe(2);
    expect(kvm_gmem_max_order_huge(k, { gmem_pgoff: 0, npages: 7 }, 4, 2)).toBe(0);
    expect(kvm_gmem_max_order_huge(k, { gmem_pgoff: 1, npages: 8 }, 1, 2)).toBe(2);
    expect(kvm_gmem_max_order_huge(k, { gmem_pgoff: 0, npages: 8 }, 5, 2)).toBe(0);
    expect(kvm_gmem_max_order_huge(k, { gmem_pgoff: 0, npages: 8 }, 1, 2)).toBe(2);
  });
});
