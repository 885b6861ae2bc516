import { describe, expect, test } from 'vitest';
import { FGP_CREAT, FGP_LOCK, folioOf } from '../../model/kernel/services/filemap.js';
import { ERR_PTR, IS_ERR, NULL } from '../../model/kernel/services/errptr.js';
import { ENOMEM } from '../../model/kernel/errno.js';
import { KVM } from '../../model/kernel/services/kvmcore.js';
import { allocPage } from '../../model/kernel/pages.js';
import { PS, eventsOf, page, smallWorld } from './fixtures.js';

function withFile(size = 4 * PS) {
  const { w, k } = smallWorld();
  const file = k.gmem_file_create(size, 1);
  return { w, k, file };
}

describe('page cache of a guest_memfd', () => {
  test('filemap_grab_folio() allocates a locked folio with the cache\'s and the caller\'s references', () => {
    const { w, k, file } = withFile();
    const folio = k.filemap_grab_folio(file, 2);
    expect(IS_ERR(folio)).toBe(false);
    expect(page(w, folio)).toMatchObject({ refcount: 2, owner: { kind: 'gmem', file, index: 2 } });
    expect(w.gmem.files.get(file)?.folios.get(2)).toEqual({ pfn: folio, index: 2, order: 0, locked: true, uptodate: false, lockedBy: 0 });
    expect(eventsOf(w, 'folio').map((e) => e.change)).toEqual(['create', 'lock']);
    k.folio_unlock(folio);
    expect(k.filemap_grab_folio(file, 2)).toBe(folio);
    expect(page(w, folio).refcount).toBe(3);
    expect(eventsOf(w, 'page_alloc')).toHaveLength(1);
  });

  test('no folio without FGP_CREAT (-ENOENT); no file (-EIO); an allocation failure (-ENOMEM)', () => {
    const { w, k, file } = withFile();
    expect(k.filemap_lock_folio(file, 0)).toBe(-2);
    expect(k.__filemap_get_folio(7, 0, FGP_LOCK | FGP_CREAT)).toBe(-5);
    w.faults = { plan: [{ kind: 'alloc', nth: 1, site: 'folio' }], seen: new Map() };
    expect(k.filemap_grab_folio(file, 0)).toBe(-12);
    expect(k.filemap_grab_folio(file, 0)).toBeGreaterThan(0);
  });

  test('an unlocked lookup takes a reference without the lock', () => {
    const { w, k, file } = withFile();
    const folio = k.__filemap_get_folio(file, 1, FGP_CREAT);
    expect(w.gmem.files.get(file)?.folios.get(1)?.locked).toBe(false);
    k.folio_lock(folio);
    expect(w.gmem.files.get(file)?.folios.get(1)?.locked).toBe(true);
  });

  test('uptodate and hwpoison flags; folio helpers are order 0', () => {
    const { w, k, file } = withFile();
    const folio = k.filemap_grab_folio(file, 0);
    expect(k.folio_test_uptodate(folio)).toBe(false);
    k.folio_mark_uptodate(folio);
    expect(k.folio_test_uptodate(folio)).toBe(true);
    expect(k.folio_test_hwpoison(folio)).toBe(false);
    page(w, folio).hwpoison = true;
    expect(k.folio_test_hwpoison(folio)).toBe(true);
    expect(k.folio_index(folio)).toBe(0);
    expect([k.folio_order(folio), k.folio_nr_pages(folio), k.folio_file_pfn(folio, 0), k.folio_file_page(folio, 0), k.folio_page(folio, 1)]).toEqual([0, 1, folio, folio, folio + 1]);
  });

  test('flag operations on a page that is no folio do nothing', () => {
    const { w, k } = withFile();
    const anon = allocPage(w, { kind: 'anon' })?.pfn ?? 0;
    k.folio_mark_uptodate(anon);
    k.folio_lock(anon);
    expect(k.folio_test_uptodate(anon)).toBe(false);
    expect(folioOf(w, anon)).toBeUndefined();
    expect(folioOf(w, 3)).toBeUndefined();
    expect(eventsOf(w, 'folio')).toEqual([]);
  });

  test('folio_get()/folio_put() count references; a put of a non-page is reported', () => {
    const { w, k, file } = withFile();
    const folio = k.filemap_grab_folio(file, 0);
    k.folio_get(folio);
    k.folio_put(folio);
    k.folio_put(folio);
    expect(page(w, folio).refcount).toBe(1);
    k.folio_put(2);
    k.folio_get(2);
    expect(eventsOf(w, 'bad_access').map((e) => e.what)).toEqual(['wild_pointer', 'wild_pointer']);
  });

  test('a folio flag helper handed an unchecked ERR_PTR or NULL reads a wild address (reported, read as no flags)', () => {
    const { w, k } = withFile();
    const err = ERR_PTR(-ENOMEM);
    expect([k.folio_test_hwpoison(err), k.folio_test_uptodate(NULL), k.folio_order(err), k.folio_file_pfn(err, 3)]).toEqual([false, false, 0, err]);
    k.folio_unlock(err);
    k.folio_mark_uptodate(NULL);
    const bad = eventsOf(w, 'bad_access');
    expect(bad.map((e) => e.what)).toEqual(Array(6).fill('wild_pointer'));
    expect(bad[0]?.detail).toBe('folio_test_hwpoison() of ERR_PTR(-12): the folio\'s flags are read at a wild address');
  });

  test('truncation removes whole pages inside the byte range and drops the cache\'s reference', () => {
    const { w, k, file } = withFile();
    const seen: number[] = [];
    w.hooks = { ...w.hooks, free_folio: (pfn) => seen.push(pfn) };
    const folios = [0, 1, 2, 3].map((i) => {
      const f = k.filemap_grab_folio(file, i);
      k.folio_unlock(f);
      k.folio_put(f);
      return f;
    });
    k.truncate_inode_pages_range(file, PS / 2, 3 * PS - 1);
    expect([...(w.gmem.files.get(file)?.folios.keys() ?? [])]).toEqual([0, 3]);
    expect(seen).toEqual([folios[1], folios[2]]);
    k.truncate_inode_pages_range(99, 0, PS);
    expect(eventsOf(w, 'folio').filter((e) => e.change === 'remove').map((e) => e.index)).toEqual([1, 2]);
  });
});

describe('guest_memfd bookkeeping services', () => {
  test('bindings are stored, found and erased per index', () => {
    const { k, file } = withFile();
    k.xa_store_range(file, 1, 3, 5);
    expect([k.gmem_bindings_any(file, 0, 1), k.gmem_bindings_any(file, 0, 2), k.kvm_gmem_bindings_load(file, 2), k.kvm_gmem_bindings_load(file, 3)]).toEqual([false, true, 5, null]);
    k.xa_store_range(file, 1, 2, null);
    expect(k.kvm_gmem_bindings_load(file, 1)).toBeNull();
    expect(k.gmem_bindings_any(9, 0, 4)).toBe(false);
    k.xa_store_range(9, 0, 1, 1);
    expect([k.gmem_file_size(9), k.gmem_file_flags(9), k.gmem_file_exists(9), k.gmem_file_size(file), k.gmem_file_flags(file)]).toEqual([0, 0, false, 4 * PS, 1]);
  });

  test('binding ranges are merged per contiguous gfn run, through live memslots only', () => {
    const { w, k, file } = withFile(8 * PS);
    k.memslot_install({ id: 0, base_gfn: 0x10, npages: 2, flags: 4, userspace_addr: 0, gmem_file: file, gmem_pgoff: 0 });
    k.memslot_install({ id: 1, base_gfn: 0x40, npages: 2, flags: 4, userspace_addr: 0, gmem_file: file, gmem_pgoff: 2 });
    k.xa_store_range(file, 0, 2, 0);
    k.xa_store_range(file, 2, 4, 1);
    k.xa_store_range(file, 4, 5, 7);
    expect(k.gmem_binding_ranges(file, 0, 8)).toEqual([{ gfn_start: 0x10, gfn_end: 0x12 }, { gfn_start: 0x40, gfn_end: 0x42 }]);
    expect(k.gmem_binding_ranges(file, 1, 3)).toEqual([{ gfn_start: 0x11, gfn_end: 0x12 }, { gfn_start: 0x40, gfn_end: 0x41 }]);
    expect(k.gmem_binding_ranges(9, 0, 8)).toEqual([]);
    k.gmem_detach_slots(file);
    expect([...w.kvm.memslots.values()].map((s) => s.gmem_file)).toEqual([0, 0]);
  });

  test('file references: get_file_active() fails on a dead file; CLASS drops what it took', () => {
    const { w, k, file } = withFile();
    const slot = { id: 0, base_gfn: 0x10, npages: 2, flags: 4, userspace_addr: 0, gmem_file: file, gmem_pgoff: 0 };
    expect(k.CLASS_gmem_get_file(slot, (f) => w.gmem.files.get(f)?.refcount)).toBe(2);
    expect(w.gmem.files.get(file)?.refcount).toBe(1);
    k.fput(file);
    expect(k.kvm_gmem_get_file(slot)).toBe(0);
    expect(k.CLASS_gmem_get_file({ ...slot, gmem_file: 5 }, (f) => f)).toBe(0);
    k.fput(5);
    expect(eventsOf(w, 'file_ref').map((e) => e.refcount)).toEqual([1, 2, 1, 0]);
  });

  test('memslot look-ups, overlap checks and the destroyed VM', () => {
    const { w, k } = withFile();
    const slot = { id: 2, base_gfn: 0x10, npages: 4, flags: 0, userspace_addr: 0, gmem_file: 0, gmem_pgoff: 0 };
    k.memslot_install(slot);
    expect([k.memslot_overlaps(0x13, 1, 0), k.memslot_overlaps(0x13, 1, 2), k.memslot_overlaps(0x14, 4, 0), k.memslot_overlaps(0xc, 4, 0)]).toEqual([true, false, false, false]);
    expect(k.gfn_to_memslot(KVM, 0x13)).toBe(slot);
    expect(k.kvm_slot_has_gmem(slot)).toBe(false);
    expect(k.kvm_slot_can_be_private(null)).toBe(false);
    w.kvm.destroyed = true;
    expect(k.gfn_to_memslot(KVM, 0x13)).toBeNull();
    k.memslot_delete(2);
    expect(k.memslot_by_id(2)).toBeNull();
    expect([k.kvm_get_memory_attributes(0x10), k.pre_fault_allowed(KVM), k.kvm_vm_dead(KVM)]).toEqual([0, false, false]);
  });
});
