import { describe, expect, test } from 'vitest';
import { snpBackend } from '../../model/backends/snp/backend.js';
import { tdxBackend } from '../../model/backends/tdx/backend.js';
import type { BackendModel } from '../../model/backends/Backend.js';
import { allocPage } from '../../model/kernel/pages.js';
import type { Op } from '../../model/scenario/Scenario.js';
import { emit, type World } from '../../model/world/World.js';
import type { Event } from '../../model/world/events.js';
import { watch, type Invariant } from '../../properties/Invariant.js';
import { lockOrder } from '../../properties/invariants/lock-order.js';
import { measurement } from '../../properties/invariants/measurement.js';
import { memorySafety } from '../../properties/invariants/memory-safety.js';
import { refcountBalance } from '../../properties/invariants/refcount-balance.js';
import { worldWellFormed } from '../../properties/invariants/world-well-formed.js';
import { noDoublePrivate } from '../../properties/invariants/no-double-private.js';
import { KVM } from '../../model/kernel/services/kvmcore.js';
import { PS, SRC, page, smallWorld } from '../model/fixtures.js';
import { userMmap } from '../../model/scenario/userspace.js';
import { snpServices } from '../../model/backends/snp/services.js';

/**
 * Monitors fed by hand, for the messages no modelled revision produces (each guards against a
 * bug class a future patch could introduce): one operation, with the world prepared directly.
 */
function monitorOp(inv: Invariant, w: World, backend: BackendModel, body: () => void, op: Op = { kind: 'close_vm' }, ret = 0) {
  const run = watch(inv);
  w.listeners.push((e) => run.observer.event?.(e, w));
  run.observer.opBegin?.(0, op, w, backend);
  body();
  run.observer.opEnd?.({ index: 0, op, ret, out: {} }, w, backend);
  return run.violations.map((v) => `${v.messageId}: ${v.message}`);
}

describe('lock-order, by hand', () => {
  test('recursive locking and an unmet lockdep assertion', () => {
    const { w, k } = smallWorld();
    expect(monitorOp(lockOrder, w, snpBackend, () => {
      k.mutex_lock(KVM.lock);
      k.mutex_lock(KVM.lock);
      k.lockdep_assert_held(KVM.slots_lock);
    })).toEqual([
      'recursive: userspace takes kvm->lock (exclusive) while already holding it (exclusive)',
      'assertNotHeld: lockdep_assert_held(kvm->slots_lock) fails in userspace',
    ]);
  });

  test('two instances of one class nested are possible recursive locking, not an edge; releases and a consistent order are fine', () => {
    const { w, k } = smallWorld();
    expect(monitorOp(lockOrder, w, snpBackend, () => {
      k.filemap_invalidate_lock(1);
      k.filemap_invalidate_lock(2);
      k.mutex_lock(KVM.mmu_lock);
      k.mutex_unlock(KVM.mmu_lock);
      k.mutex_lock(KVM.mmu_lock);
    })).toEqual(['recursiveClass: possible recursive locking: userspace takes gmem2->invalidate_lock while holding gmem1->invalidate_lock, of the same class gmem->invalidate_lock, with no nesting annotation']);
  });

  test('a cycle through three classes is found', () => {
    const { w, k } = smallWorld();
    const v = monitorOp(lockOrder, w, snpBackend, () => {
      k.mutex_lock('a'); k.mutex_lock('b'); k.mutex_unlock('b'); k.mutex_unlock('a');
      k.mutex_lock('b'); k.mutex_lock('c'); k.mutex_unlock('c'); k.mutex_unlock('b');
      k.mutex_lock('c'); k.mutex_lock('a');
    });
    expect(v).toEqual(['cycle: possible deadlock: userspace takes a while holding c, but a -> b -> c was seen before']);
  });
});

describe('world-well-formed, by hand', () => {
  test('a held page with no reference, more pins than references, and a corrupt free list', () => {
    const { w, k } = smallWorld();
    const v = monitorOp(worldWellFormed, w, snpBackend, () => {
      const a = allocPage(w, { kind: 'anon' });
      const b = allocPage(w, { kind: 'anon' });
      if (a === undefined || b === undefined) return;
      a.refcount = 0;
      b.gupRefs = 2;
      w.freeList.unshift(b.pfn);
      k.put_page(a.pfn);
    });
    expect(v).toEqual([
      'refcountUnderflow: reference dropped on pfn 0x100 with refcount 0 (put_page on pfn 0x100 with refcount 0)',
      'heldButFree: pfn 0x100 (anon) is held but has refcount 0',
      'freeListCorrupt: allocator free list holds pfn 0x101 although in use',
      'gupExceedsRefs: pfn 0x101 has 2 GUP references but refcount 1',
    ]);
  });

  test('a free page listed twice or out of order', () => {
    const { w } = smallWorld();
    const v = monitorOp(worldWellFormed, w, snpBackend, () => {
      const first = w.freeList.shift() ?? 0;
      w.freeList.push(first, first);
    });
    // Both copies of the pfn break the order; the broken page is reported once.
    expect(v).toEqual(['freeListCorrupt: allocator free list holds pfn 0x100 twice or out of order']);
  });

  test('a free page still mapped by the user is reported', () => {
    const { w } = smallWorld();
    userMmap(w, SRC, PS, 'rw', []);
    const v = monitorOp(worldWellFormed, w, snpBackend, () => {
      const p = page(w, w.mm.vmas[0]?.pfns[0] ?? 0);
      p.owner = { kind: 'free' };
      p.refcount = 0;
      w.freeList.unshift(p.pfn);
      w.freeList.sort((x, y) => x - y);
    });
    expect(v).toEqual(['freeButHeld: pfn 0x100 is free but still mapped in the user mm']);
  });
});

describe('refcount-balance, by hand', () => {
  test('a file reference, a lock, and a folio lock still held at return', () => {
    const { w, k } = smallWorld();
    const v = monitorOp(refcountBalance, w, snpBackend, () => {
      const f = k.gmem_file_create(PS, 0);
      const folio = k.filemap_grab_folio(f, 0);
      k.folio_put(folio);
      k.kvm_gmem_get_file({ id: 0, base_gfn: 0, npages: 1, flags: 4, userspace_addr: 0, gmem_file: f, gmem_pgoff: 0 });
      k.mutex_lock(KVM.slots_lock);
    });
    expect(v).toEqual([
      'fileRefLeaked: guest_memfd 1 has 2 file reference(s), expected 1',
      'folioLocked: folio of pfn 0x100 (index 0) still locked at ioctl return',
      'lockLeaked: kvm->slots_lock still held at ioctl return (taken in userspace)',
    ]);
  });
});

describe('memory-safety, by hand', () => {
  test('bad unlocks and unmapped kernel addresses are reported; LIFO order is not its business', () => {
    const { w, k } = smallWorld();
    const v = monitorOp(memorySafety, w, snpBackend, () => {
      k.mutex_unlock(KVM.lock);
      k.memcpy(0x3000_0000_0000, 0x3000_0000_0040, 1);
      const a = k.kmap_local_pfn(allocPage(w, { kind: 'anon' })?.pfn ?? 0);
      k.kmap_local_pfn(allocPage(w, { kind: 'anon' })?.pfn ?? 0);
      k.kunmap_local(a);
    });
    expect(v).toEqual([
      'badUnlock: bad unlock in userspace: unlock of kvm->lock not held by thread 0',
      'outOfBounds: out-of-bounds access in userspace: read of 1 bytes at unmapped 0x300000000040',
      'outOfBounds: out-of-bounds access in userspace: write of 1 bytes at unmapped 0x300000000000',
    ]);
  });

  test('an uninitialised read without a function site names the variable alone', () => {
    const { w } = smallWorld();
    const ev: Event = { kind: 'uninit_use', site: 'i', value: 7 };
    expect(monitorOp(memorySafety, w, snpBackend, () => emit(w, ev))).toEqual(['uninitialised: use of uninitialised value i (= 7) in i']);
  });
});

describe('measurement and no-double-private, by hand', () => {
  test('a measurement appended by an operation that populates nothing is extra', () => {
    const { w } = smallWorld('tdx');
    const v = monitorOp(measurement, w, tdxBackend, () => {
      if (w.fw.backend === 'tdx') w.fw.module.mrtd.push({ what: 'MEM.PAGE.ADD', gpa: 0, contents: '' });
    });
    expect(v).toEqual(['extra: close_vm appended 1 measurement entries for 0 populated page(s), expected 0']);
  });

  test('a page the guest owns while the host still maps it, at ioctl return', () => {
    const { w } = smallWorld();
    userMmap(w, SRC, PS, 'rw', []);
    const pfn = w.mm.vmas[0]?.pfns[0] ?? 0;
    const v = monitorOp(noDoublePrivate, w, snpBackend, () => {
      snpServices(w).rmp_make_private(pfn, 0x400, 1, 1, false);
    });
    expect(v).toEqual([
      'grantWhileMapped: RMPUPDATE hands pfn 0x100 to the guest while the host still has a user mapping',
      'privateStillMapped: pfn 0x100 is the guest\'s (guest-invalid (asid 1 gpa 0x400)) at ioctl return but the host still has a user mapping',
    ]);
  });
});
