import { describe, expect, test } from 'vitest';
import { MM_LOCK } from '../../model/kernel/services/locking.js';
import { KVM } from '../../model/kernel/services/kvmcore.js';
import { heldBy, lockClass } from '../../model/world/locks.js';
import { eventsOf, smallWorld } from './fixtures.js';

describe('lock services', () => {
  test('acquisitions and releases are logged per thread with their call site', () => {
    const { w, k } = smallWorld();
    k.mutex_lock(KVM.lock);
    k.filemap_invalidate_lock_shared(2);
    expect(heldBy(w.locks, 0).map((h) => [h.lock, h.mode])).toEqual([['kvm->lock', 'exclusive'], ['gmem2->invalidate_lock', 'shared']]);
    k.filemap_invalidate_unlock_shared(2);
    k.mutex_unlock(KVM.lock);
    expect(heldBy(w.locks, 0)).toEqual([]);
    expect(eventsOf(w, 'lock').map((e) => `${e.action} ${e.lock}`)).toEqual([
      'acquire kvm->lock', 'acquire gmem2->invalidate_lock', 'release gmem2->invalidate_lock', 'release kvm->lock',
    ]);
  });

  test('unlocking a lock the thread does not hold is a bad unlock', () => {
    const { w, k } = smallWorld();
    k.mutex_lock(KVM.slots_lock);
    w.thread = 1;
    k.mutex_unlock(KVM.slots_lock);
    expect(eventsOf(w, 'bad_access')).toEqual([{ kind: 'bad_access', what: 'bad_unlock', detail: 'unlock of kvm->slots_lock not held by thread 1', site: 'userspace' }]);
    expect(heldBy(w.locks, 0)).toHaveLength(1);
  });

  test('releasing a lock taken twice drops the latest acquisition', () => {
    const { w, k } = smallWorld();
    k.read_lock(KVM.mmu_lock);
    k.write_lock(KVM.lock);
    k.read_lock(KVM.mmu_lock);
    k.read_unlock(KVM.mmu_lock);
    expect(heldBy(w.locks, 0).map((h) => h.lock)).toEqual([KVM.mmu_lock, KVM.lock]);
    k.write_unlock(KVM.lock);
    k.read_unlock(KVM.mmu_lock);
    expect(heldBy(w.locks, 0)).toEqual([]);
  });

  test('guard_mutex() releases on every exit, exceptions included', () => {
    const { w, k } = smallWorld();
    expect(k.guard_mutex(KVM.lock, () => 7)).toBe(7);
    expect(() => k.guard_mutex(KVM.lock, () => { throw new Error('boom'); })).toThrow('boom');
    expect(heldBy(w.locks, 0)).toEqual([]);
    expect(eventsOf(w, 'lock').filter((e) => e.action === 'release')).toHaveLength(2);
  });

  test('lockdep_assert_held() records whether the lock is held', () => {
    const { w, k } = smallWorld();
    k.lockdep_assert_held(KVM.slots_lock);
    k.mmap_read_lock(MM_LOCK);
    k.lockdep_assert_held(MM_LOCK);
    k.mmap_read_unlock(MM_LOCK);
    k.filemap_invalidate_lock(1);
    k.filemap_invalidate_unlock(1);
    expect(eventsOf(w, 'lockdep_assert_held').map((e) => [e.lock, e.held])).toEqual([[KVM.slots_lock, false], [MM_LOCK, true]]);
    expect(heldBy(w.locks, 0)).toEqual([]);
  });

  test('lock classes drop instance numbers and addresses', () => {
    expect(lockClass('gmem3->invalidate_lock')).toBe('gmem->invalidate_lock');
    expect(lockClass('folio@0x104')).toBe('folio');
    expect(lockClass('kvm->slots_lock')).toBe('kvm->slots_lock');
    expect(lockClass('vcpu0->mutex')).toBe('vcpu->mutex');
  });
});
