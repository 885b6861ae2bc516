import { emit, currentSite, type World } from '../../world/World.js';
import type { AccessVia } from '../../world/events.js';
import { hostPage } from '../../world/hostMemory.js';
import { PROV_GARBAGE } from '../../world/provenance.js';

/** Bytes and their provenance, as moved by memcpy, uaccess and firmware copies. */
export interface Bytes {
  readonly data: Uint8Array;
  readonly prov: Float64Array;
}

/** Reads `len` bytes of a page, logging the access. */
export function readPage(w: World, pfn: number, offset: number, len: number, via: AccessVia): Bytes {
  const p = hostPage(w.host, pfn);
  emit(w, { kind: 'mem_read', pfn, offset, len, via });
  if (p === undefined) {
    return { data: new Uint8Array(len), prov: new Float64Array(len).fill(PROV_GARBAGE) };
  }
  return { data: p.data.slice(offset, offset + len), prov: p.prov.slice(offset, offset + len) };
}

/** Writes bytes into a page, logging the access. */
export function writePage(w: World, pfn: number, offset: number, bytes: Bytes, via: AccessVia): void {
  const p = hostPage(w.host, pfn);
  emit(w, { kind: 'mem_write', pfn, offset, len: bytes.data.length, via });
  if (p === undefined) return;
  p.data.set(bytes.data, offset);
  p.prov.set(bytes.prov, offset);
}

export function fillBytes(len: number, value: number, tag: number): Bytes {
  return { data: new Uint8Array(len).fill(value), prov: new Float64Array(len).fill(tag) };
}

export function badAccess(w: World, what: 'out_of_bounds' | 'unmapped_kva', detail: string): void {
  emit(w, { kind: 'bad_access', what, detail, site: currentSite(w) });
}
