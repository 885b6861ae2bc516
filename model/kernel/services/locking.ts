import { emit, currentSite, type World } from '../../world/World.js';
import { heldBy, type LockMode } from '../../world/locks.js';
import { invalidateLockOf } from '../../world/gmem.js';
import { switchPoint } from '../../world/switchPoint.js';

/** `current->mm->mmap_lock` of the VMM (one process is modelled). */
export const MM_LOCK = 'mm->mmap_lock';

/**
 * Lock services. Acquisitions are logged per thread. With one thread the model does not block,
 * so a lock that would deadlock is taken anyway and the lock-order invariant reports it; with
 * several (model/concurrent/), acquire() is a switch point where the scheduler makes the thread
 * wait until the lock can be granted. Lock names are `struct` field paths (`kvm->slots_lock`).
 */
export interface LockServices {
  mutex_lock(lock: string): void;
  /** mutex_lock_nested(): the caller tells lockdep this nesting of one class is ordered. */
  mutex_lock_nested(lock: string, subclass: number): void;
  /**
   * mutex_lock_killable_nest_lock(): lockdep is told that `nest`, held, orders every lock of this
   * class taken under it (kvm_lock_all_vcpus()). Killable only while it sleeps on a contended
   * mutex, so it returns 0 here (the model's fatal signals are delivered to populate's loops).
   */
  mutex_lock_killable_nest_lock(lock: string, nest: string): number;
  mutex_unlock(lock: string): void;
  /** `guard(mutex)(lock)` for the rest of `body` (linux/cleanup.h scope guard). */
  guard_mutex<T>(lock: string, body: () => T): T;
  mmap_read_lock(mm: string): void;
  mmap_read_unlock(mm: string): void;
  mmap_write_lock(mm: string): void;
  mmap_write_unlock(mm: string): void;
  read_lock(lock: string): void;
  read_unlock(lock: string): void;
  write_lock(lock: string): void;
  write_unlock(lock: string): void;
  /** `filemap_invalidate_lock(mapping)`: down_write(&mapping->invalidate_lock). Mapping = file handle. */
  filemap_invalidate_lock(mapping: number): void;
  filemap_invalidate_unlock(mapping: number): void;
  filemap_invalidate_lock_shared(mapping: number): void;
  filemap_invalidate_unlock_shared(mapping: number): void;
  lockdep_assert_held(lock: string): void;
}

export function lockHeldBy(w: World, lock: string): boolean {
  return heldBy(w.locks, w.thread).some((h) => h.lock === lock);
}

export function acquire(w: World, lock: string, mode: LockMode, subclass = 0, nest_lock?: string): void {
  const site = currentSite(w);
  switchPoint(w, { kind: 'lock', lock, mode, site });
  emit(w, { kind: 'lock', action: 'acquire', lock, mode, thread: w.thread, site, ...(subclass === 0 ? {} : { subclass }), ...(nest_lock === undefined ? {} : { nest_lock }) });
  heldBy(w.locks, w.thread).push({ lock, mode, site, subclass });
}

export function release(w: World, lock: string, mode: LockMode): void {
  const held = heldBy(w.locks, w.thread);
  const at = held.map((h) => h.lock).lastIndexOf(lock);
  if (at < 0) {
    emit(w, { kind: 'bad_access', what: 'bad_unlock', detail: `unlock of ${lock} not held by thread ${w.thread}`, site: currentSite(w) });
    return;
  }
  held.splice(at, 1);
  emit(w, { kind: 'lock', action: 'release', lock, mode, thread: w.thread, site: currentSite(w) });
  switchPoint(w, { kind: 'unlock', lock, site: currentSite(w) });
}

/** might_lock_read(): lockdep records the dependency without taking the lock. */
export function mightLockRead(w: World, lock: string): void {
  emit(w, { kind: 'lock', action: 'might', lock, mode: 'shared', thread: w.thread, site: currentSite(w) });
}

export function lockingServices(w: World): LockServices {
  return {
    mutex_lock: (l) => acquire(w, l, 'exclusive'),
    mutex_lock_nested: (l, subclass) => acquire(w, l, 'exclusive', subclass),
    mutex_lock_killable_nest_lock(l, nest) {
      acquire(w, l, 'exclusive', 0, nest);
      return 0;
    },
    mutex_unlock: (l) => release(w, l, 'exclusive'),
    guard_mutex(lock, body) {
      acquire(w, lock, 'exclusive');
      try {
        return body();
      } finally {
        release(w, lock, 'exclusive');
      }
    },
    mmap_read_lock: (mm) => acquire(w, mm, 'shared'),
    mmap_read_unlock: (mm) => release(w, mm, 'shared'),
    mmap_write_lock: (mm) => acquire(w, mm, 'exclusive'),
    mmap_write_unlock: (mm) => release(w, mm, 'exclusive'),
    read_lock: (l) => acquire(w, l, 'shared'),
    read_unlock: (l) => release(w, l, 'shared'),
    write_lock: (l) => acquire(w, l, 'exclusive'),
    write_unlock: (l) => release(w, l, 'exclusive'),
    filemap_invalidate_lock: (m) => acquire(w, invalidateLockOf(m), 'exclusive'),
    filemap_invalidate_unlock: (m) => release(w, invalidateLockOf(m), 'exclusive'),
    filemap_invalidate_lock_shared: (m) => acquire(w, invalidateLockOf(m), 'shared'),
    filemap_invalidate_unlock_shared: (m) => release(w, invalidateLockOf(m), 'shared'),
    lockdep_assert_held(lock) {
      emit(w, { kind: 'lockdep_assert_held', lock, held: lockHeldBy(w, lock), site: currentSite(w) });
    },
  };
}
