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

/** Takes the lowest free pfn (refcount 1) or returns undefined when none is left. */
export function allocPage(w: World, owner: PageOwner): HostPage | undefined {
  const pfn = w.freeList.shift();
  if (pfn === undefined) return undefined;
  const p = hostPage(w.host, pfn);
  if (p === undefined) return undefined;
  p.owner = owner;
  p.refcount = 1;
  p.dirty = false;
  emit(w, { kind: 'page_alloc', pfn, owner });
  return p;
}

function freePage(w: World, p: HostPage): void {
  if (p.owner.kind === 'gmem') w.hooks.free_folio(p.pfn);
  emit(w, { kind: 'page_free', pfn: p.pfn, owner: p.owner });
  p.owner = { kind: 'free' };
  p.gupRefs = 0;
  p.gupWriteRefs = 0;
  const at = w.freeList.findIndex((f) => f > p.pfn);
  if (at < 0) w.freeList.push(p.pfn);
  else w.freeList.splice(at, 0, p.pfn);
}

export function pageRefInc(w: World, p: HostPage, via: string): void {
  p.refcount += 1;
  emit(w, { kind: 'page_ref', pfn: p.pfn, delta: 1, refcount: p.refcount, via });
}

/** Drops one reference; the last one frees the page. Dropping a GUP reference drops a read pin first. */
export function pageRefDec(w: World, p: HostPage, via: string): void {
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
