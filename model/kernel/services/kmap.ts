import { emit, currentSite, type World } from '../../world/World.js';
import { hostPage } from '../../world/hostMemory.js';
import { PROV_ZERO } from '../../world/provenance.js';
import { badAccess, fillBytes, readPage, writePage, type Bytes } from './memory.js';
import { pageOrBad } from '../pages.js';
import { PROV_GARBAGE } from '../../world/provenance.js';

/**
 * kmap_local_*() with CONFIG_DEBUG_KMAP_LOCAL_FORCE_MAP semantics: every mapping gets its own
 * per-thread slot address, so a mapping that outlives its scope, an unmap out of LIFO order
 * (a highmem requirement), or a memcpy that runs past the mapped page is observable even on
 * 64-bit, where kmap_local_pfn() is page_address().
 */
export const KMAP_BASE = 0x3000_0000_0000;
const KMAP_SLOTS = 16;

export interface KmapServices {
  kmap_local_pfn(pfn: number): number;
  kmap_local_page(page: number): number;
  kunmap_local(vaddr: number): void;
  /** memcpy between kernel virtual addresses (kmap slots). */
  memcpy(dst: number, src: number, n: number): void;
  clear_highpage(page: number): void;
}

/**
 * The lowest slot no live mapping uses. (Real highmem pops the top slot whatever address
 * kunmap_local() is given, so an out-of-order unmap tears down the wrong mapping; the model
 * keeps 64-bit semantics, where the order is harmless, and kmap-local-lifo reports it.)
 */
function freeSlotBase(w: World, stack: readonly { vaddr: number }[]): number {
  const ps = w.geo.page_size;
  for (let slot = 0; ; slot++) {
    const vaddr = KMAP_BASE + (w.thread * KMAP_SLOTS + slot) * ps;
    if (!stack.some((m) => m.vaddr === vaddr)) return vaddr;
  }
}

/** The (pfn, offset) a kernel virtual address maps to, or undefined outside every live slot. */
export function resolveKva(w: World, vaddr: number): { pfn: number; offset: number } | undefined {
  const stack = w.kmaps.get(w.thread) ?? [];
  for (const m of stack) {
    if (vaddr >= m.vaddr && vaddr < m.vaddr + w.geo.page_size) return { pfn: m.pfn, offset: vaddr - m.vaddr };
  }
  return undefined;
}

/** Reads `n` bytes at a kernel virtual address; bytes outside the mapped page read as stale. */
export function readKva(w: World, vaddr: number, n: number): Bytes {
  const at = resolveKva(w, vaddr);
  if (at === undefined) {
    badAccess(w, 'unmapped_kva', `read of ${n} bytes at unmapped 0x${vaddr.toString(16)}`);
    return fillBytes(n, 0, PROV_GARBAGE);
  }
  const inPage = Math.min(n, w.geo.page_size - at.offset);
  const bytes = readPage(w, at.pfn, at.offset, inPage, 'kmap');
  if (inPage === n) return bytes;
  badAccess(w, 'out_of_bounds', `read of ${n} bytes at +0x${at.offset.toString(16)} runs ${n - inPage} bytes past mapped pfn 0x${at.pfn.toString(16)}`);
  const data = new Uint8Array(n);
  const prov = new Float64Array(n).fill(PROV_GARBAGE);
  data.set(bytes.data);
  prov.set(bytes.prov);
  return { data, prov };
}

/** Writes at a kernel virtual address; bytes past the mapped page are dropped and reported. */
export function writeKva(w: World, vaddr: number, bytes: Bytes): void {
  const at = resolveKva(w, vaddr);
  const n = bytes.data.length;
  if (at === undefined) {
    badAccess(w, 'unmapped_kva', `write of ${n} bytes at unmapped 0x${vaddr.toString(16)}`);
    return;
  }
  const inPage = Math.min(n, w.geo.page_size - at.offset);
  if (inPage < n) {
    badAccess(w, 'out_of_bounds', `write of ${n} bytes at +0x${at.offset.toString(16)} runs ${n - inPage} bytes past mapped pfn 0x${at.pfn.toString(16)}`);
  }
  writePage(w, at.pfn, at.offset, { data: bytes.data.subarray(0, inPage), prov: bytes.prov.subarray(0, inPage) }, 'kmap');
}

export function kmapServices(w: World): KmapServices {
  const kmap = (pfn: number): number => {
    const p = pageOrBad(w, pfn, 'kmap_local_pfn');
    let stack = w.kmaps.get(w.thread);
    if (stack === undefined) {
      stack = [];
      w.kmaps.set(w.thread, stack);
    }
    const vaddr = freeSlotBase(w, stack);
    stack.push({ vaddr, pfn });
    if (p !== undefined) p.kmaps += 1;
    emit(w, { kind: 'kmap', vaddr, pfn });
    return vaddr;
  };
  return {
    kmap_local_pfn: kmap,
    kmap_local_page: kmap,
    kunmap_local(vaddr) {
      const stack = w.kmaps.get(w.thread) ?? [];
      const at = stack.findIndex((m) => vaddr >= m.vaddr && vaddr < m.vaddr + w.geo.page_size);
      if (at < 0) {
        badAccess(w, 'unmapped_kva', `kunmap_local(0x${vaddr.toString(16)}) of no live mapping`);
        return;
      }
      const m = stack[at];
      if (m === undefined) return;
      if (at !== stack.length - 1) {
        emit(w, { kind: 'bad_access', what: 'kunmap_order', detail: `kunmap_local of pfn 0x${m.pfn.toString(16)} while a later kmap is live`, site: currentSite(w) });
      }
      stack.splice(at, 1);
      const p = hostPage(w.host, m.pfn);
      if (p !== undefined) p.kmaps -= 1;
      emit(w, { kind: 'kunmap', vaddr: m.vaddr, pfn: m.pfn });
    },
    memcpy(dst, src, n) {
      writeKva(w, dst, readKva(w, src, n));
    },
    clear_highpage(page) {
      if (pageOrBad(w, page, 'clear_highpage') === undefined) return;
      writePage(w, page, 0, fillBytes(w.geo.page_size, 0, PROV_ZERO), 'host');
    },
  };
}
