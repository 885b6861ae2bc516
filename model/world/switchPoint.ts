import type { LockMode } from './locks.js';
import type { World } from './World.js';

/**
 * Where another thread may run: the one list of the model's switch points. Kernel code is
 * preemptible almost everywhere, but what another thread can observe or change in the model only
 * matters where a lock is taken or dropped, where the task may sleep, or where it reaches outside
 * its own state; so a thread switches only at:
 *
 * - `lock`: before a lock is taken (services/locking.ts acquire()), or a folio's PG_locked
 *   (services/filemap.ts: folio_lock(), FGP_LOCK lookups, truncation). The thread waits there until
 *   the lock can be granted to it (model/concurrent/scheduler.ts decides, with rwsem fairness);
 * - `unlock`: after a lock is dropped (release()); not after folio_unlock(): a thread that waits
 *   for the folio runs from the holder's next switch point on;
 * - `fault`: a user access that faults the page in (GUP's slow path, copy_{from,to}_user() on a
 *   page not yet faulted in): the fault takes `mm->mmap_lock` for read around handle_mm_fault(),
 *   so the thread waits until a reader may take it, and holds it for no other switch point;
 * - `alloc`: a page or slab allocation (it may sleep in reclaim);
 * - `fw`: a firmware, TDX-module or RMM command (a long, non-atomic call on real hardware);
 * - `resched`: cond_resched().
 *
 * Nowhere else. In the normal build this function does nothing, so a run with one thread is the
 * sequential model unchanged; the concurrent build (model/concurrent/build.ts) turns it into a
 * `yield` and every function that can reach it into a generator, and the scheduler decides at
 * each yield which thread runs next.
 */
export type SwitchAt =
  | { readonly kind: 'lock'; readonly lock: string; readonly mode: LockMode; readonly site: string }
  | { readonly kind: 'unlock'; readonly lock: string; readonly site: string }
  | { readonly kind: 'fault'; readonly lock: string; readonly uaddr: number; readonly site: string }
  | { readonly kind: 'alloc'; readonly what: string; readonly site: string }
  | { readonly kind: 'fw'; readonly cmd: string; readonly site: string }
  | { readonly kind: 'resched'; readonly site: string };

export function switchPoint(w: World, at: SwitchAt): void {
  // The concurrent build replaces this body with `yield at`.
  void w;
  void at;
}
