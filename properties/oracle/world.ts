import type { BackendModel } from '../../model/backends/Backend.js';
import type { Folio, GmemFile } from '../../model/world/gmem.js';
import { KVM_MEM_GUEST_MEMFD, memslotForGfn, type Memslot } from '../../model/world/kvmState.js';
import { gfnIsPrivate } from '../../model/world/privacy.js';
import { findVma } from '../../model/world/userspaceMm.js';
import { hostPage } from '../../model/world/hostMemory.js';
import { gmemUserPage } from '../views.js';
import { fwUnitSize, type World } from '../../model/world/World.js';

/**
 * What the documented preconditions read from the world before an ioctl: memslots and their
 * guest_memfd, attributes, folios, the user mm and who owns a page. Read-only views; the
 * conditions themselves are in the generation files.
 */

export function slotAt(w: World, gfn: number): Memslot | undefined {
  return w.kvm.destroyed ? undefined : memslotForGfn(w.kvm, gfn);
}

/** `kvm_slot_has_gmem()`: the slot was created with KVM_MEM_GUEST_MEMFD. */
export function hasGmem(slot: Memslot | undefined): slot is Memslot {
  return slot !== undefined && (slot.flags & KVM_MEM_GUEST_MEMFD) !== 0;
}

/** The slot's guest_memfd, if it is still there to take a reference on. */
export function gmemFile(w: World, slot: Memslot): GmemFile | undefined {
  const f = w.gmem.files.get(slot.gmem_file);
  return f === undefined || f.refcount === 0 ? undefined : f;
}

export function folioAt(w: World, slot: Memslot, gfn: number): Folio | undefined {
  return w.gmem.files.get(slot.gmem_file)?.folios.get(gfn - slot.base_gfn + slot.gmem_pgoff);
}

/** folio_test_hwpoison(): PG_hwpoison on the folio's head page. */
export function folioPoisoned(w: World, folio: Folio | undefined): boolean {
  return folio !== undefined && hostPage(w.host, folio.pfn)?.hwpoison === true;
}

export const isPrivate = gfnIsPrivate;

/** The user page containing `uaddr` is mapped (and writable, for `write`): what a one-page GUP needs. */
export function userPageOk(w: World, uaddr: number, write: boolean): boolean {
  const ps = w.geo.page_size;
  const a = Math.floor(uaddr / ps) * ps;
  // The VMM's mapping of a guest_memfd is MAP_SHARED and writable: a mapped page, or one a fault maps.
  const gmem = gmemUserPage(w, a);
  if (gmem !== undefined) return gmem.mapped !== undefined || gmem.faultable;
  const vma = findVma(w.mm, a);
  if (vma === undefined || (write && vma.prot !== 'rw')) return false;
  return vma.pfns[(a - vma.start) / ps] !== undefined;
}

/** Every byte of [uaddr, uaddr + len) is mapped: what copy_from_user() of it needs. */
export function userRangeReadable(w: World, uaddr: number, len: number): boolean {
  const ps = w.geo.page_size;
  if (len <= 0) return true;
  for (let a = Math.floor(uaddr / ps) * ps; a < uaddr + len; a += ps) if (!userPageOk(w, a, false)) return false;
  return true;
}

/** The units (CCA granules, else the page) of host page `pfn`, by physical address. */
export function unitsOf(w: World, pfn: number): number[] {
  const ps = w.geo.page_size;
  const us = fwUnitSize(w);
  const out: number[] = [];
  for (let off = 0; off < ps; off += us) out.push(pfn * ps + off);
  return out;
}

/** The page is wholly the guest's memory at `gfn` (every unit mapped at its GPA). */
export function guestAt(w: World, backend: BackendModel, pfn: number, gfn: number): boolean {
  const ps = w.geo.page_size;
  return unitsOf(w, pfn).every((pa) => {
    const o = backend.ownershipAt(w, pa);
    return o.kind === 'guest' && o.gpa === gfn * ps + (pa % ps);
  });
}

/** The firmware holds any part of the page (a populated page, or one left delegated). */
export function notHostOwned(w: World, backend: BackendModel, pfn: number): boolean {
  return backend.ownership(w, pfn).kind !== 'host';
}
