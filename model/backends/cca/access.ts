import { emit, type World } from '../../world/World.js';
import { hostPage, isValidPfn } from '../../world/hostMemory.js';
import { PROV_GARBAGE, PROV_ZERO } from '../../world/provenance.js';
import { hashBytes } from '../../world/hash.js';
import type { CcaState, GranuleState, S2tte } from './state.js';
import { granuleState } from './state.js';

/** The CCA state of a world; calling a CCA service on another backend is a modelling error. */
export function ccaOf(w: World): CcaState {
  if (w.fw.backend !== 'cca') throw new Error(`Arm CCA service used on a ${w.fw.backend} machine`);
  return w.fw;
}

/** Predicates the RMI tables share (TF-RMM's testbench vocabulary: AddrIsGranuleAligned, PaIsDelegable). */
export function AddrIsGranuleAligned(s: CcaState, pa: number): boolean {
  return pa % s.granule_size === 0;
}

export function PaIsDelegable(w: World, pa: number): boolean {
  return isValidPfn(w.host, Math.floor(pa / w.geo.page_size));
}

export function Granule(w: World, pa: number): GranuleState {
  return granuleState(ccaOf(w), pa);
}

export function setGranule(w: World, pa: number, next: GranuleState): void {
  const s = ccaOf(w);
  const before = granuleState(s, pa);
  if (next === 'UNDELEGATED') s.granules.delete(pa);
  else s.granules.set(pa, next);
  emit(w, { kind: 'fw_state', what: 'granule', key: `pa 0x${pa.toString(16)}`, before, after: next });
}

export function setS2tte(w: World, ipa: number, next: S2tte): void {
  const s = ccaOf(w);
  const before = s.s2tte.get(ipa);
  s.s2tte.set(ipa, next);
  const text = (e: S2tte | undefined): string => (e === undefined ? 'UNASSIGNED' : e.state === 'ASSIGNED' ? `ASSIGNED pa 0x${e.data.toString(16)}` : `UNASSIGNED ${e.ripas}`);
  emit(w, { kind: 'fw_state', what: 's2tte', key: `ipa 0x${ipa.toString(16)}`, before: text(before), after: text(next) });
}

/** Copies one granule's bytes (the RMM's NS read into Realm PAS); returns the hash of what it copied. */
export function copyGranule(w: World, dst: number, src: number): string {
  const ps = w.geo.page_size;
  const gs = ccaOf(w).granule_size;
  const sp = hostPage(w.host, Math.floor(src / ps));
  const dp = hostPage(w.host, Math.floor(dst / ps));
  if (dp === undefined) return '';
  const so = src % ps;
  const dO = dst % ps;
  emit(w, { kind: 'mem_read', pfn: Math.floor(src / ps), offset: so, len: gs, via: 'firmware' });
  emit(w, { kind: 'mem_write', pfn: Math.floor(dst / ps), offset: dO, len: gs, via: 'firmware' });
  for (let i = 0; i < gs; i++) {
    dp.data[dO + i] = sp?.data[so + i] ?? 0;
    dp.prov[dO + i] = sp?.prov[so + i] ?? PROV_GARBAGE;
  }
  return hashBytes(dp.data.subarray(dO, dO + gs));
}

/** The RMM scrubs a granule it gives back (or whose copy failed). */
export function zeroGranule(w: World, pa: number): void {
  const ps = w.geo.page_size;
  const gs = ccaOf(w).granule_size;
  const p = hostPage(w.host, Math.floor(pa / ps));
  if (p === undefined) return;
  const off = pa % ps;
  emit(w, { kind: 'mem_write', pfn: p.pfn, offset: off, len: gs, via: 'firmware' });
  p.data.fill(0, off, off + gs);
  p.prov.fill(PROV_ZERO, off, off + gs);
}
