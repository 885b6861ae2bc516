import type { World } from '../../world/World.js';
import { emit } from '../../world/World.js';
import { rmpEntry, rmpStateName, type RmpEntry, type SnpState } from './state.js';

/** The SNP state of a world; calling an SNP service on another backend is a modelling error. */
export function snpOf(w: World): SnpState {
  if (w.fw.backend !== 'snp') throw new Error(`SEV-SNP service used on a ${w.fw.backend} machine`);
  return w.fw;
}

export function setRmp(w: World, pfn: number, next: RmpEntry): void {
  const s = snpOf(w);
  const before = rmpEntry(s, pfn);
  if (next.assigned) s.rmp.set(pfn, next);
  else s.rmp.delete(pfn);
  emit(w, { kind: 'fw_state', what: 'rmp', key: `pfn 0x${pfn.toString(16)}`, before: rmpStateName(before), after: rmpStateName(next) });
}
