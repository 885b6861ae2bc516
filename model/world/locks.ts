/**
 * Locks with a per-thread acquisition log. A lock is named by instance
 * (`gmem1->invalidate_lock`); lockdep reasons about classes, which `lockClass` derives by
 * dropping the instance number.
 */
export type LockMode = 'exclusive' | 'shared';

export interface HeldLock {
  readonly lock: string;
  readonly mode: LockMode;
  /** lockdep subclass it was taken with (mutex_lock_nested()), 0 for a plain acquisition. */
  readonly subclass: number;
  /** Call site (kernel function) that took it. */
  readonly site: string;
}

export interface LockState {
  /** Locks held, per thread, in acquisition order. */
  readonly held: Map<number, HeldLock[]>;
}

export function createLockState(): LockState {
  return { held: new Map() };
}

export function heldBy(locks: LockState, thread: number): HeldLock[] {
  let h = locks.held.get(thread);
  if (h === undefined) {
    h = [];
    locks.held.set(thread, h);
  }
  return h;
}

/** `gmem3->invalidate_lock` → `gmem->invalidate_lock`; `folio@0x104` → `folio`. */
export function lockClass(lock: string): string {
  return lock.replace(/^([a-z_]+)\d+/, '$1').replace(/@.*$/, '');
}
