import type { Revision } from '../model/revisions/Revision.js';
import type { Op, Scenario } from '../model/scenario/Scenario.js';
import type { Invariant } from './Invariant.js';
import { runWithInvariant } from './check.js';

/**
 * A last, deterministic shrinking pass over fast-check's counterexample. fast-check's array
 * shrinker drops elements from the front and shrinks them in place, so operations after the
 * failing one, and set-up the failure does not need, can survive it. This pass, in the spirit
 * of fc.commands' own shrinker ("drop the commands that did not run, keep the failing one"):
 * cuts everything after the operation that broke the invariant, then tries dropping each
 * earlier operation, each fault and each mapping hole, and zeroing undefined-behaviour values,
 * keeping every change after which the same invariant still breaks.
 */
export function minimizeCounterexample(s0: Scenario, revision: Revision, invariant: Invariant): Scenario {
  const fails = (s: Scenario): number | undefined => {
    const { violations } = runWithInvariant(s, revision, invariant);
    return violations[0]?.opIndex;
  };
  const at = fails(s0);
  if (at === undefined) return s0;
  let s: Scenario = { ...s0, ops: s0.ops.slice(0, at + 1) };
  const tryWith = (next: Scenario): boolean => {
    if (fails(next) === undefined) return false;
    const cut = fails(next) ?? next.ops.length - 1;
    s = { ...next, ops: next.ops.slice(0, cut + 1) };
    return true;
  };
  for (let i = s.ops.length - 2; i >= 0; i--) {
    if (i < s.ops.length - 1) tryWith({ ...s, ops: s.ops.filter((_op, j) => j !== i) });
  }
  for (let i = 0; i < s.ops.length; i++) {
    const op = s.ops[i];
    if (op === undefined) continue;
    const replace = (next: Op): Scenario => ({ ...s, ops: s.ops.map((o, j) => (j === i ? next : o)) });
    if ('faults' in op && op.faults !== undefined) {
      for (let f = op.faults.length - 1; f >= 0; f--) {
        const cur = s.ops[i];
        if (cur !== undefined && 'faults' in cur) tryWith(replace({ ...cur, faults: (cur.faults ?? []).filter((_x, j) => j !== f) }));
      }
    }
    if (op.kind === 'mmap' && op.holes.length > 0) tryWith(replace({ ...op, holes: [] }));
    // Shrink sizes from the operation as it stands now, after the drops above.
    const now = s.ops[i];
    const ps = s.geometry.page_size;
    if (now?.kind === 'snp_launch_update') {
      for (let n = 1; n * ps < now.len; n++) if (tryWith(replace({ ...now, len: n * ps }))) break;
    }
    if (now?.kind === 'tdx_init_mem_region') {
      for (let n = 1; n < now.nr_pages; n++) if (tryWith(replace({ ...now, nr_pages: n }))) break;
    }
    if (now?.kind === 'arm_rmi_populate') {
      for (let n = 0; n * ps < now.size; n++) if (tryWith(replace({ ...now, size: n * ps }))) break;
    }
    if (now?.kind === 'mmap') {
      for (let n = 1; n * ps < now.length; n++) if (tryWith(replace({ ...now, length: n * ps, holes: now.holes.filter((h) => h < n) }))) break;
    }
  }
  for (const site of Object.keys(s.ub)) {
    if (s.ub[site] !== 0) tryWith({ ...s, ub: { ...s.ub, [site]: 0 } });
  }
  return s;
}
