import { defineInvariant } from '../Invariant.js';
import { heldBy, lockClass } from '../../model/world/locks.js';

/**
 * Lockdep's rule, over lock classes and the whole run: whenever B is taken (or may be taken:
 * might_lock_read() in GUP and uaccess) while A is held, A → B joins the dependency graph, and
 * an edge that closes a cycle is a possible deadlock, even if the two halves never ran
 * concurrently. Re-taking a held lock, nesting two locks of one class without a subclass
 * annotation (lockdep's "possible recursive locking detected"), and a failed
 * lockdep_assert_held() are reported too.
 * B2 is the finding this was built for: the old populate path takes mmap_lock (GUP,
 * copy_from_user) under the filemap invalidate lock, while the fault path of in-place
 * conversion takes them the other way round (Yan Zhao, 2025-06-12).
 */
export const lockOrder = defineInvariant({
  id: 'lock-order',
  description: 'Forbid a cycle in the lock acquisition graph, recursive locking of a lock or a class, and unmet lockdep assertions',
  cites: [
    'Documentation/locking/lockdep-design.rst',
    'https://lore.kernel.org/kvm/20250613005400.3694904-1-michael.roth@amd.com/ (B2, Yan Zhao\'s AB-BA)',
  ],
  observes: ['lock', 'lockdep_assert_held'],
  messages: {
    cycle: 'possible deadlock: {site} takes {to} while holding {from}, but {path} was seen before',
    recursive: '{site} takes {lock} ({mode}) while already holding it ({held})',
    recursiveClass: 'possible recursive locking: {site} takes {lock} while holding {held}, of the same class {cls}, with no nesting annotation',
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
    return {
      event(e, w, _b, report) {
        if (e.kind === 'lockdep_assert_held') {
          if (!e.held) report('assertNotHeld', { lock: e.lock, site: e.site });
          return;
        }
        if (e.kind !== 'lock' || e.action === 'release') return;
        // The event is logged before the acquisition is recorded as held.
        const before = heldBy(w.locks, e.thread);
        const to = lockClass(e.lock);
        for (const h of before) {
          if (h.lock === e.lock) {
            report('recursive', { site: e.site, lock: e.lock, mode: e.mode, held: h.mode });
            continue;
          }
          const from = lockClass(h.lock);
          if (from === to) {
            // Lockdep knows classes, not instances: two locks of one class nested is a possible
            // deadlock (another path nests them the other way) unless a subclass says the nesting is
            // ordered (mutex_lock_nested()).
            if ((e.subclass ?? 0) === h.subclass) report('recursiveClass', { site: e.site, lock: e.lock, held: h.lock, cls: to });
            continue;
          }
          const back = pathFrom(to, from);
          if (back !== undefined) {
            // One cycle, one signature, whichever of its edges was seen last: the earliest (by
            // name) of the functions that took its edges.
            const edgeSites = [e.site, ...back.slice(1).map((node, i) => edges.get(back[i] ?? '')?.get(node) ?? e.site)];
            report('cycle', { site: e.site, from, to, path: back.join(' -> ') }, [...edgeSites].sort()[0]);
          }
          let out = edges.get(from);
          if (out === undefined) {
            out = new Map();
            edges.set(from, out);
          }
          if (!out.has(to)) out.set(to, e.site);
        }
      },
    };
  },
});
