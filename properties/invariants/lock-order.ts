import { defineInvariant, type Reporter } from '../Invariant.js';
import { heldBy, lockClass } from '../../model/world/locks.js';
import { currentSite } from '../../model/world/World.js';

/** The folio lock's node in the graph. */
const FOLIO_LOCK = 'folio lock (PG_locked)';

/**
 * Lockdep's rule, over lock classes and the whole run: whenever B is taken (or may be taken:
 * might_lock_read() in GUP and uaccess) while A is held, A → B joins the dependency graph, and
 * an edge that closes a cycle is a possible deadlock, even if the two halves never ran
 * concurrently. Re-taking a held lock, nesting two locks of one class without a subclass
 * annotation (lockdep's "possible recursive locking detected"; a held nest_lock is one too), a
 * nest_lock annotation naming a lock not held, and a failed lockdep_assert_held() are reported.
 * B2 is the finding this was built for: the old populate path takes mmap_lock (GUP,
 * copy_from_user) under the filemap invalidate lock, while the fault path of in-place
 * conversion takes them the other way round (Yan Zhao, 2025-06-12).
 *
 * One lock lockdep does not see joins the graph here: the folio lock (PG_locked, a bit lock
 * with no lockdep map). mm documents its place (mm/filemap.c: `->invalidate_lock` before
 * `->lock_page`), and a cycle through it deadlocks like every other cycle; it is reported as
 * its own message, since lockdep stays silent about it. Folio locks are only ordered against
 * other classes: mm holds several at once by index (truncate's batches), which is not recursion.
 */
export const lockOrder = defineInvariant({
  id: 'lock-order',
  description: 'Forbid a cycle in the lock acquisition graph, recursive locking of a lock or a class, and unmet lockdep assertions',
  cites: [
    'Documentation/locking/lockdep-design.rst',
    'https://lore.kernel.org/kvm/20250613005400.3694904-1-michael.roth@amd.com/ (B2, Yan Zhao\'s AB-BA)',
  ],
  observes: ['lock', 'lockdep_assert_held', 'folio', 'op_begin'],
  messages: {
    cycle: 'possible deadlock: {site} takes {to} while holding {from}, but {path} was seen before',
    cycleFolioLock: 'possible deadlock lockdep cannot report (the folio lock is a bit lock): {site} takes {to} while holding {from}, but {path} was seen before',
    recursive: '{site} takes {lock} ({mode}) while already holding it ({held})',
    recursiveClass: 'possible recursive locking: {site} takes {lock} while holding {held}, of the same class {cls}, with no nesting annotation',
    nestLockNotHeld: 'nested lock was not taken: {site} takes {lock} with nest_lock {nest}, which it does not hold',
    assertNotHeld: 'lockdep_assert_held({lock}) fails in {site}',
  },
  create: () => {
    const edges = new Map<string, Map<string, string>>();
    const pathFrom = (from: string, to: string): string[] | undefined => {
      const seen = new Set<string>();
      const stack: { node: string; path: string[] }[] = [{ node: from, path: [from] }];
      while (stack.length > 0) {
        const top = stack.pop();
        if (top === undefined) break;
        if (top.node === to) return top.path;
        if (seen.has(top.node)) continue;
        seen.add(top.node);
        for (const next of edges.get(top.node)?.keys() ?? []) stack.push({ node: next, path: [...top.path, next] });
      }
      return undefined;
    };
    // Folio locks held now, by thread (pfn -> the function that took it); a folio lock still held
    // when an operation ends is refcount-balance's finding.
    const foliosOf = new Map<number, Map<number, string>>();
    const folios = (thread: number): Map<number, string> => {
      let f = foliosOf.get(thread);
      if (f === undefined) {
        f = new Map();
        foliosOf.set(thread, f);
      }
      return f;
    };
    const addEdge = (from: string, to: string, site: string, report: Reporter<'cycle' | 'cycleFolioLock'>): void => {
      const back = pathFrom(to, from);
      if (back !== undefined) {
        // One cycle, one signature, whichever of its edges was seen last: the earliest (by
        // name) of the functions that took its edges.
        const edgeSites = [site, ...back.slice(1).map((node, i) => edges.get(back[i] ?? '')?.get(node) ?? site)];
        const msg = back.includes(FOLIO_LOCK) ? 'cycleFolioLock' : 'cycle';
        report(msg, { site, from, to, path: back.join(' -> ') }, [...edgeSites].sort()[0]);
      }
      let out = edges.get(from);
      if (out === undefined) {
        out = new Map();
        edges.set(from, out);
      }
      if (!out.has(to)) out.set(to, site);
    };
    return {
      event(e, w, _b, report) {
        // Each operation of a thread starts with no folio locked (an event, so that in a
        // concurrent run every thread's operation clears its own: Invariant.ts watch()).
        if (e.kind === 'op_begin') {
          folios(w.thread).clear();
          return;
        }
        if (e.kind === 'lockdep_assert_held') {
          if (!e.held) report('assertNotHeld', { lock: e.lock, site: e.site });
          return;
        }
        if (e.kind === 'folio') {
          if (e.change === 'unlock') folios(w.thread).delete(e.pfn);
          if (e.change !== 'lock') return;
          const site = currentSite(w);
          for (const h of heldBy(w.locks, w.thread)) addEdge(lockClass(h.lock), FOLIO_LOCK, site, report);
          folios(w.thread).set(e.pfn, site);
          return;
        }
        if (e.kind !== 'lock' || e.action === 'release') return;
        // The event is logged before the acquisition is recorded as held.
        const before = heldBy(w.locks, e.thread);
        const to = lockClass(e.lock);
        // A nest_lock annotation (mutex_lock_nest_lock()) holds only while that lock is held:
        // lockdep's print_lock_nested_lock_not_held() otherwise, and no exemption below.
        const nest = e.nest_lock !== undefined && before.some((h) => h.lock === e.nest_lock);
        if (e.nest_lock !== undefined && !nest) report('nestLockNotHeld', { site: e.site, lock: e.lock, nest: e.nest_lock });
        if (folios(e.thread).size > 0) addEdge(FOLIO_LOCK, to, e.site, report);
        for (const h of before) {
          if (h.lock === e.lock) {
            report('recursive', { site: e.site, lock: e.lock, mode: e.mode, held: h.mode });
            continue;
          }
          const from = lockClass(h.lock);
          if (from === to) {
            // Lockdep knows classes, not instances: two locks of one class nested is a possible
            // deadlock (another path nests them the other way) unless a subclass says the nesting is
            // ordered (mutex_lock_nested()), or a held nest_lock serialises every such nesting
            // (check_deadlock()'s `if (nest) return 2`).
            if ((e.subclass ?? 0) === h.subclass && !nest) report('recursiveClass', { site: e.site, lock: e.lock, held: h.lock, cls: to });
            continue;
          }
          addEdge(from, to, e.site, report);
        }
      },
    };
  },
});
