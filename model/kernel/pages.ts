import { emit, type World } from '../world/World.js';
import { hostPage, isValidPfn, type HostPage, type PageOwner } from '../world/hostMemory.js';
import { currentSite } from '../world/World.js';

/**
 * Page lifetime shared by every service: allocation from the (deterministic, lowest-pfn-first)
 * allocator, reference counting, and the free path. A guest_memfd folio's last reference runs
 * the filesystem's `free_folio` hook (kvm_gmem_free_folio → kvm_arch_gmem_invalidate) before
 * the page returns to the allocator, as in the kernel.
 */

export function pageOrBad(w: World, pfn: number, what: string): HostPage | undefined {
  if (!isValidPfn(w.host, pfn)) {
    emit(w, { kind: 'bad_access', what: 'wild_pointer', detail: `${what} on non-page 0x${pfn.toString(16)}`, site: currentSite(w) });
    return undefined;
  }
  const p = hostPage(w.host, pfn);
  if (p !== undefined && p.owner.kind === 'free') {
    emit(w, { kind: 'bad_access', what: 'use_after_free', detail: `${what} on free pfn 0x${pfn.toString(16)}`, site: currentSite(w) });
  }
  return p;
}

/**
 * Takes the lowest free pfn (refcount 1) or returns undefined when none is left. `highest`: the
 * highest free pfn instead, for a page allocated before the scenario's first op (an SNP vCPU's
 * VMSA), so the pages the ops allocate keep the pfns they have on a machine without it.
 */
export function allocPage(w: World, owner: PageOwner, from: 'lowest' | 'highest' = 'lowest'): HostPage | undefined {
  const pfn = from === 'lowest' ? w.freeList.shift() : w.freeList.pop();
  if (pfn === undefined) return undefined;
  const p = hostPage(w.host, pfn);
  if (p === undefined) return undefined;
  p.owner = owner;
  p.refcount = 1;
  p.dirty = false;
  emit(w, { kind: 'page_alloc', pfn, owner });
  return p;
}

/**
 * Takes the lowest naturally aligned run of `1 << order` free pfns as one compound page (the
 * head carries the order and the reference count, each tail points at the head), or returns
 * undefined when no such run is free. The page allocator's large allocations (a PMD_ORDER THP
 * folio, a 1G hugetlb folio) are aligned to their size in physical memory, and guest_memfd's
 * folio_file_pfn() relies on it.
 */
export function allocCompound(w: World, order: number, ownerAt: (k: number) => PageOwner): HostPage | undefined {
  if (order === 0) return allocPage(w, ownerAt(0));
  const nr = 2 ** order;
  const free = new Set(w.freeList);
  const first = w.freeList.find((pfn) => pfn % nr === 0 && Array.from({ length: nr }, (_, k) => pfn + k).every((f) => free.has(f)));
  if (first === undefined) return undefined;
  for (let k = 0; k < nr; k++) {
    w.freeList.splice(w.freeList.indexOf(first + k), 1);
    const p = hostPage(w.host, first + k);
    if (p === undefined) return undefined;
    p.owner = ownerAt(k);
    p.refcount = k === 0 ? 1 : 0;
    p.dirty = false;
    p.order = k === 0 ? order : 0;
    p.head = k === 0 ? undefined : first;
    emit(w, { kind: 'page_alloc', pfn: first + k, owner: p.owner });
  }
  return hostPage(w.host, first);
}

/** compound_head(): a tail page's references are its head's. */
function compoundHead(w: World, p: HostPage): HostPage {
  return p.head === undefined ? p : (hostPage(w.host, p.head) ?? p);
}

function freePage(w: World, p: HostPage): void {
  // free_folio runs once for a whole folio, before any of its pages goes back.
  if (p.owner.kind === 'gmem') w.hooks.free_folio(p.pfn);
  const nr = 2 ** p.order;
  for (let k = 0; k < nr; k++) {
    const q = hostPage(w.host, p.pfn + k);
    if (q === undefined) continue;
    emit(w, { kind: 'page_free', pfn: q.pfn, owner: q.owner });
    q.owner = { kind: 'free' };
    q.gupRefs = 0;
    q.gupWriteRefs = 0;
    q.order = 0;
    q.head = undefined;
    const at = w.freeList.findIndex((f) => f > q.pfn);
    if (at < 0) w.freeList.push(q.pfn);
    else w.freeList.splice(at, 0, q.pfn);
  }
}

export function pageRefInc(w: World, page: HostPage, via: string): void {
  const p = compoundHead(w, page);
  p.refcount += 1;
  emit(w, { kind: 'page_ref', pfn: p.pfn, delta: 1, refcount: p.refcount, via });
}

/** Drops one reference; the last one frees the page. Dropping a GUP reference drops a read pin first. */
export function pageRefDec(w: World, page: HostPage, via: string): void {
  const p = compoundHead(w, page);
  if (p.refcount <= 0) {
    emit(w, { kind: 'bad_access', what: 'double_free', detail: `${via} on pfn 0x${p.pfn.toString(16)} with refcount 0`, site: currentSite(w) });
    return;
  }
  p.refcount -= 1;
  if (via === 'put_page' && p.gupRefs > 0) {
    p.gupRefs -= 1;
    if (p.gupWriteRefs > p.gupRefs) p.gupWriteRefs = p.gupRefs;
  }
  emit(w, { kind: 'page_ref', pfn: p.pfn, delta: -1, refcount: p.refcount, via });
  if (p.refcount === 0) freePage(w, p);
}
