import { EEXIST, EINVAL, ENOMEM } from '../kernel/errno.js';
import { allocPage, pageRefDec } from '../kernel/pages.js';
import { isZeroPage, zeroPagePfn } from '../kernel/zeroPage.js';
import { emit, type World } from '../world/World.js';
import { userByte, userTag } from '../world/provenance.js';
import { gmemUserAddress, type Prot, type Vma } from '../world/userspaceMm.js';
import { hostPage } from '../world/hostMemory.js';

/**
 * The VMM's own memory operations. mmap(MAP_ANONYMOUS | MAP_FIXED_NOREPLACE) maps `length`
 * bytes at `addr` except the `holes`, then userspace writes every byte of every page but the
 * `untouched` ones, so each written page is present and each byte's provenance is its own
 * address, and each untouched one maps the shared zero page (model/kernel/zeroPage.ts).
 * munmap() drops the mappings' page references; a page that GUP still holds lives on until its
 * last put_page().
 */
export function userMmap(w: World, addr: number, length: number, prot: Prot, holes: readonly number[], untouched: readonly number[] = []): number {
  const ps = w.geo.page_size;
  if (addr <= 0 || addr % ps !== 0 || length <= 0 || length % ps !== 0) return -EINVAL;
  const npages = length / ps;
  if (w.mm.vmas.some((v) => addr < v.end && v.start < addr + length)) return -EEXIST;
  const pieces: Vma[] = [];
  let run: { start: number; pfns: number[] } | undefined;
  const close = (): void => {
    if (run !== undefined && run.pfns.length > 0) pieces.push({ start: run.start, end: run.start + run.pfns.length * ps, prot, pfns: run.pfns });
    run = undefined;
  };
  for (let i = 0; i < npages; i++) {
    const uaddr = addr + i * ps;
    if (holes.includes(i)) {
      close();
      continue;
    }
    if (untouched.includes(i)) {
      // Read-faulted before any write: the zero page, no reference (vm_normal_page() is NULL).
      const zero = zeroPagePfn(w);
      if (zero === undefined) {
        close();
        for (const v of pieces) for (const pfn of v.pfns) freeUserPage(w, pfn);
        return -ENOMEM;
      }
      run ??= { start: uaddr, pfns: [] };
      run.pfns.push(zero);
      continue;
    }
    const p = allocPage(w, { kind: 'anon' });
    if (p === undefined) {
      close();
      for (const v of pieces) for (const pfn of v.pfns) freeUserPage(w, pfn);
      return -ENOMEM;
    }
    const gen = (w.mm.generations.get(uaddr) ?? 0) + 1;
    w.mm.generations.set(uaddr, gen);
    for (let b = 0; b < ps; b++) {
      p.data[b] = userByte(uaddr + b, gen);
      p.prov[b] = userTag(uaddr + b, gen);
    }
    run ??= { start: uaddr, pfns: [] };
    run.pfns.push(p.pfn);
  }
  close();
  w.mm.vmas.push(...pieces);
  w.mm.vmas.sort((a, b) => a.start - b.start);
  emit(w, { kind: 'note', text: `mmap 0x${addr.toString(16)}+0x${length.toString(16)} ${prot}: ${pieces.map((v) => `[0x${v.start.toString(16)}, 0x${v.end.toString(16)})`).join(' ')}` });
  return 0;
}

function freeUserPage(w: World, pfn: number): void {
  if (isZeroPage(w, pfn)) return;
  const p = hostPage(w.host, pfn);
  if (p !== undefined) pageRefDec(w, p, 'munmap');
}

export function userMunmap(w: World, addr: number, length: number): number {
  const ps = w.geo.page_size;
  if (addr % ps !== 0 || length <= 0 || length % ps !== 0) return -EINVAL;
  const end = addr + length;
  const kept: Vma[] = [];
  for (const v of w.mm.vmas) {
    if (v.end <= addr || v.start >= end) {
      kept.push(v);
      continue;
    }
    const lo = Math.max(v.start, addr);
    const hi = Math.min(v.end, end);
    for (let a = lo; a < hi; a += ps) {
      const pfn = v.pfns[(a - v.start) / ps];
      if (pfn !== undefined) freeUserPage(w, pfn);
    }
    if (v.start < lo) kept.push({ start: v.start, end: lo, prot: v.prot, pfns: v.pfns.slice(0, (lo - v.start) / ps) });
    if (hi < v.end) kept.push({ start: hi, end: v.end, prot: v.prot, pfns: v.pfns.slice((hi - v.start) / ps) });
  }
  w.mm.vmas = kept.sort((a, b) => a.start - b.start);
  return 0;
}

/** madvise() advice values the model takes (include/uapi/asm-generic/mman-common.h). */
export const MADV_DONTNEED = 4;
export const MADV_REMOVE = 9;
export const MADV_PAGEOUT = 21;
export type Madvice = typeof MADV_DONTNEED | typeof MADV_REMOVE | typeof MADV_PAGEOUT;

/**
 * madvise() on the VMM's anonymous mappings, as mm/madvise.c and mm/vmscan.c do it (read at
 * ColinIanKing/linux-next:mm/madvise.c@a9f98443a819f7be9b22a833df05740097b7d0dd and
 * mm/vmscan.c@50b05dfc43f186b83f68b0ad6bd9ba1189e253a2: is_valid_madvise(), madvise_walk_vmas(),
 * madvise_dontneed_single_vma(), madvise_cold_or_pageout_pte_range(), shrink_folio_list(),
 * madvise_remove()):
 * - an unaligned start is -EINVAL, the length is rounded up to pages, an empty range is 0; the
 *   advice goes to each mapped part, and a part of the range no VMA covers makes the call
 *   return -ENOMEM at the end (madvise_walk_vmas()'s unmapped_error);
 * - MADV_DONTNEED zaps the range: each page's mapping reference is dropped (a page GUP still
 *   holds lives on until its put_page()), and a later read of the address maps the shared zero
 *   page, as an untouched page does (do_anonymous_page());
 * - MADV_PAGEOUT reclaims the range's private anonymous pages: written to swap and unmapped, read
 *   back at the next access. The model swaps it in at once, into a new pfn with the same bytes
 *   (one of the kernel's outcomes: a synchronous swap device frees the page during the call; an
 *   asynchronous one or a failed swap allocation leaves the same page, which no invariant tells
 *   apart). A page with a reference besides its mapping stays where it is: a FOLL_PIN pin keeps
 *   it mapped (folio_maybe_dma_pinned()), and a FOLL_GET reference (populate's GUP) lets it be
 *   unmapped but keeps it in the swap cache, so the refault maps the same page. The zero page is
 *   not reclaimed (vm_normal_folio() is NULL);
 * - MADV_REMOVE punches a hole in a shared file mapping: on anonymous memory (no vm_file)
 *   madvise_remove() answers -EINVAL.
 */
export function userMadvise(w: World, addr: number, length: number, advice: Madvice): number {
  const ps = w.geo.page_size;
  if (addr % ps !== 0 || length < 0) return -EINVAL;
  const end = addr + Math.ceil(length / ps) * ps;
  if (end === addr) return 0;
  let unmapped = false;
  for (let a = addr; a < end; a += ps) {
    const v = w.mm.vmas.find((x) => a >= x.start && a < x.end);
    if (v === undefined) {
      unmapped = true;
      continue;
    }
    if (advice === MADV_REMOVE) return -EINVAL;
    const i = (a - v.start) / ps;
    const pfn = v.pfns[i];
    if (pfn === undefined || isZeroPage(w, pfn)) continue;
    const old = hostPage(w.host, pfn);
    if (old === undefined) continue;
    if (advice === MADV_DONTNEED) {
      // The kernel's zero page is static and DONTNEED never fails for memory; the model's zero
      // page takes a page at its first use, so with no page left at all the zap cannot be
      // represented: a model limit (-ENOMEM, the page left mapped), judged by no invariant.
      const zero = zeroPagePfn(w);
      if (zero === undefined) return -ENOMEM;
      freeUserPage(w, pfn);
      v.pfns[i] = zero;
      continue;
    }
    if (old.refcount > 1) continue;
    const fresh = allocPage(w, { kind: 'anon' });
    if (fresh === undefined) continue;
    fresh.data.set(old.data);
    fresh.prov.set(old.prov);
    v.pfns[i] = fresh.pfn;
    freeUserPage(w, pfn);
  }
  emit(w, { kind: 'note', text: `madvise 0x${addr.toString(16)}+0x${length.toString(16)} ${advice === MADV_DONTNEED ? 'MADV_DONTNEED' : advice === MADV_PAGEOUT ? 'MADV_PAGEOUT' : 'MADV_REMOVE'}` });
  return unmapped ? -ENOMEM : 0;
}

/**
 * The VMM writes the whole page `index` of its mapping of `file`, whose PTE a fault just
 * installed: a host write to that pfn, as memory-safety and no-double-private see it. Nothing
 * happens where no PTE maps the index (the fault failed; the VMM got SIGBUS).
 */
export function userWriteGmemPage(w: World, file: number, index: number): void {
  const pfn = w.gmem.files.get(file)?.hostMapped.get(index);
  const p = pfn === undefined ? undefined : hostPage(w.host, pfn);
  if (pfn === undefined || p === undefined) return;
  const ps = w.geo.page_size;
  const uaddr = gmemUserAddress(file, index, ps);
  const gen = (w.mm.generations.get(uaddr) ?? 0) + 1;
  w.mm.generations.set(uaddr, gen);
  emit(w, { kind: 'mem_write', pfn, offset: 0, len: ps, via: 'host' });
  for (let b = 0; b < ps; b++) {
    p.data[b] = userByte(uaddr + b, gen);
    p.prov[b] = userTag(uaddr + b, gen);
  }
}
