import type { Fault } from '../scenario/Scenario.js';
import { emit, type World } from '../world/World.js';

/** Counter key under which calls of one fault kind are numbered. */
export function faultKey(f: Fault): string {
  switch (f.kind) {
    case 'gup': return 'gup';
    case 'alloc': return `alloc:${f.site}`;
    case 'signal': return 'signal';
    case 'fw': return f.unit === undefined ? `fw:${f.cmd}` : `fw:${f.cmd}@${f.unit}`;
  }
}

export function faultText(f: Fault): string {
  switch (f.kind) {
    case 'gup': return `gup #${f.nth} ${f.result}`;
    case 'alloc': return `alloc:${f.site} #${f.nth} fails`;
    case 'signal': return `signal pending from check #${f.nth}`;
    case 'fw': return `${f.cmd} #${f.nth}${f.unit === undefined ? '' : ` on granule ${f.unit} of a page`} fails with ${f.condition}`;
  }
}

/**
 * Counts one more call under `key` and returns the fault planned for it, if any. A signal
 * stays pending once raised, so `signal` faults match every check from their nth on.
 */
export function nextFault(w: World, key: string): Fault | undefined {
  const n = (w.faults.seen.get(key) ?? 0) + 1;
  w.faults.seen.set(key, n);
  const hit = w.faults.plan.find((f) => faultKey(f) === key && (f.kind === 'signal' ? n >= f.nth : n === f.nth));
  if (hit !== undefined) emit(w, { kind: 'fault', fault: faultText(hit), source: hit.kind });
  return hit;
}
