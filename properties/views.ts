import { memslotForGfn } from '../model/world/kvmState.js';
import { hostPage, type HostPage } from '../model/world/hostMemory.js';
import { findVma, gmemMappingAt } from '../model/world/userspaceMm.js';
import { gmemIndexPrivate } from '../model/world/privacy.js';
import { PROV_ZERO } from '../model/world/provenance.js';
import { GUEST_MEMFD_FLAG_MMAP } from '../model/kernel/guest_memfd.js';
import type { World } from '../model/world/World.js';
import type { PopulateRequest } from '../model/backends/Backend.js';
import { KVM_SEV_SNP_PAGE_TYPE_SECRETS, KVM_SEV_SNP_PAGE_TYPE_ZERO, snpPageTypeName } from '../model/backends/snp/uapi.js';

/** Read-only views of the world that several invariants share. */

/** pfn of the guest_memfd page backing `gfn` through its memslot, if any (a large folio's page at that index). */
export function gfnFolioPfn(w: World, gfn: number): number | undefined {
  const at = gfnFileIndex(w, gfn);
  const folio = at === undefined ? undefined : w.gmem.files.get(at.file)?.folios.get(at.index);
  return at === undefined || folio === undefined ? undefined : folio.pfn + (at.index - folio.index);
}

/** The guest_memfd file and page index backing `gfn` through its memslot, if any. */
export function gfnFileIndex(w: World, gfn: number): { file: number; index: number } | undefined {
  const slot = memslotForGfn(w.kvm, gfn);
  if (slot === undefined || slot.gmem_file === 0) return undefined;
  return { file: slot.gmem_file, index: gfn - slot.base_gfn + slot.gmem_pgoff };
}

/** User bytes [uaddr, uaddr + len): data and provenance, `present` false in holes. */
export interface UserBytes {
  readonly data: Uint8Array;
  readonly prov: Float64Array;
  readonly present: Uint8Array;
}

/**
 * A page of the VMM's mapping of a guest_memfd (model/world/userspaceMm.ts gmemUserAddress()),
 * as an access would find it: the page its PTE maps; else whether a fault would map one (the file
 * has GUEST_MEMFD_FLAG_MMAP, the index lies below its size and is shared: the series' per-index
 * attribute, else INIT_SHARED), and the folio the page cache holds there (a fault clears one not
 * yet uptodate). Undefined for an address of anonymous memory.
 */
export function gmemUserPage(w: World, uaddr: number): { readonly mapped: number | undefined; readonly faultable: boolean; readonly folioPfn: number | undefined; readonly uptodate: boolean } | undefined {
  const ps = w.geo.page_size;
  const at = gmemMappingAt(uaddr, ps);
  if (at === undefined) return undefined;
  const f = w.gmem.files.get(at.file);
  if (f === undefined || f.released || (f.flags & GUEST_MEMFD_FLAG_MMAP) === 0) return { mapped: undefined, faultable: false, folioPfn: undefined, uptodate: false };
  // Below the size, an index the file does not hold private is shared.
  const shared = !gmemIndexPrivate(f, at.index);
  const folio = f.folios.get(at.index);
  return {
    mapped: f.hostMapped.get(at.index),
    faultable: shared && at.index * ps < f.size,
    folioPfn: folio === undefined ? undefined : folio.pfn + (at.index - folio.index),
    uptodate: folio?.uptodate === true,
  };
}

/** The pfn whose bytes a read of the user page at `a` returns, or 'zero' for a page a fault would clear. */
function userReadablePfn(w: World, a: number): number | 'zero' | undefined {
  const g = gmemUserPage(w, a);
  if (g === undefined) {
    const vma = findVma(w.mm, a);
    return vma?.pfns[Math.floor((a - vma.start) / w.geo.page_size)];
  }
  if (g.mapped !== undefined) return g.mapped;
  if (!g.faultable) return undefined;
  return g.uptodate && g.folioPfn !== undefined ? g.folioPfn : 'zero';
}

export function readUser(w: World, uaddr: number, len: number): UserBytes {
  const ps = w.geo.page_size;
  const data = new Uint8Array(len);
  const prov = new Float64Array(len).fill(Number.NaN);
  const present = new Uint8Array(len);
  for (let off = 0; off < len; ) {
    const a = uaddr + off;
    const n = Math.min(len - off, ps - (a % ps));
    const at = userReadablePfn(w, a);
    if (at === 'zero') {
      prov.fill(PROV_ZERO, off, off + n);
      present.fill(1, off, off + n);
      off += n;
      continue;
    }
    const pfn = at;
    const p = pfn === undefined ? undefined : hostPage(w.host, pfn);
    if (p !== undefined) {
      data.set(p.data.subarray(a % ps, (a % ps) + n), off);
      prov.set(p.prov.subarray(a % ps, (a % ps) + n), off);
      present.fill(1, off, off + n);
    }
    off += n;
  }
  return { data, prov, present };
}

/**
 * Every user page's address, by pfn (the reverse map of the user page tables). The shared zero
 * page has no address of its own (every untouched page maps it), so it is not in the map.
 */
export function userAddressByPfn(w: World): Map<number, number> {
  const ps = w.geo.page_size;
  const out = new Map<number, number>();
  for (const v of w.mm.vmas) v.pfns.forEach((pfn, i) => {
    if (pfn !== w.mm.zeroPage) out.set(pfn, v.start + i * ps);
  });
  return out;
}

/**
 * How many user mappings hold a reference to each pfn: the shared zero page's mappings hold
 * none (vm_normal_page() is NULL for it, model/kernel/zeroPage.ts), so it is not counted.
 */
export function userMapCount(w: World): Map<number, number> {
  const out = new Map<number, number>();
  for (const v of w.mm.vmas) for (const pfn of v.pfns) if (pfn !== w.mm.zeroPage) out.set(pfn, (out.get(pfn) ?? 0) + 1);
  // The VMM's mappings of guest_memfd files (the in-place what-if's host faults).
  for (const f of w.gmem.files.values()) for (const pfn of f.hostMapped.values()) out.set(pfn, (out.get(pfn) ?? 0) + 1);
  return out;
}

/**
 * The references each page's owners account for, summed per compound page: a large folio's
 * references all live on its head (a tail's refcount stays 0), so what its pages are owed is
 * owed to the head. Keyed by the head's pfn; a single page is its own head. memory_failure()'s
 * reference on a poisoned page is always owed (hwpoisonRef()).
 */
export function owedPerHead(w: World, owed: (p: HostPage) => number): Map<number, number> {
  const out = new Map<number, number>();
  for (const p of w.host.pages) {
    // A free page that is no folio's tail owes only itself, and no caller asks what a free page
    // is owed: most of a machine's pages are free, and this ran at every operation's both ends.
    if (p.owner.kind === 'free' && p.head === undefined) continue;
    const head = p.head ?? p.pfn;
    out.set(head, (out.get(head) ?? 0) + owed(p) + hwpoisonRef(p));
  }
  return out;
}

/**
 * The reference memory_failure() took on a poisoned page and keeps for good, so that the page
 * never goes back to the allocator (model/kernel/memory_failure.ts): owned by mm, not a leak.
 */
export function hwpoisonRef(p: HostPage): number {
  return p.hwpoison ? 1 : 0;
}

/** Whether each pfn sits in a guest_memfd page cache (a folio's head: the cache holds one reference a folio). */
export function inPageCache(w: World): Set<number> {
  const out = new Set<number>();
  for (const f of w.gmem.files.values()) for (const folio of f.folios.values()) out.add(folio.pfn);
  return out;
}

export function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

/** One private mapping the firmware holds: the gfn and pfn it ties, described for a report. */
export interface FirmwareMapping {
  readonly gfn: number;
  readonly pfn: number;
  readonly text: string;
}

/**
 * What the firmware maps privately: SNP's assigned RMP entries (indexed by pfn, holding a GPA),
 * the TDX module's S-EPT leaves and KVM's mirror SPTEs (indexed by gfn), the RMM's ASSIGNED
 * stage-2 entries (by IPA, each granule). An operation on some pages must leave the entries of
 * every other gfn and pfn as they were.
 */
export function firmwareMappings(w: World): FirmwareMapping[] {
  const ps = w.geo.page_size;
  const fw = w.fw;
  switch (fw.backend) {
    case 'snp':
      return [...fw.rmp].filter(([, e]) => e.assigned).map(([pfn, e]) => ({ gfn: Math.floor(e.gpa / ps), pfn, text: `RMP entry of pfn ${hex(pfn)} (asid ${e.asid}, gpa ${hex(e.gpa)}${e.validated ? ', validated' : ''})` }));
    case 'tdx':
      return [
        ...[...fw.module.sept].map(([gfn, pfn]) => ({ gfn, pfn, text: `S-EPT leaf of gfn ${hex(gfn)} -> pfn ${hex(pfn)}` })),
        ...[...fw.mirror].map(([gfn, pfn]) => ({ gfn, pfn, text: `mirror SPTE of gfn ${hex(gfn)} -> pfn ${hex(pfn)}` })),
      ];
    case 'cca':
      return [...fw.s2tte].flatMap(([ipa, e]) => (e.state === 'ASSIGNED' ? [{ gfn: Math.floor(ipa / ps), pfn: Math.floor(e.data / ps), text: `ASSIGNED s2tte at IPA ${hex(ipa)} -> ${hex(e.data)}` }] : []));
  }
}

/**
 * A populate whose pages are their own source: a NULL source, of a type that loads one (not SNP's
 * ZERO or SECRETS), on a tree whose populate takes it so (v8 22/46, 23/46: "no source" means "the
 * destination as the VMM left it"; KvmState.gmem_in_place_conversion). Elsewhere a NULL source that
 * populates anything is a bug of its own (B3, B30), judged like every other source.
 */
export function populatesInPlace(w: World, req: Pick<PopulateRequest, 'src' | 'flavour'>): boolean {
  return w.kvm.gmem_in_place_conversion && req.src === 0 && req.flavour !== snpPageTypeName(KVM_SEV_SNP_PAGE_TYPE_ZERO) && req.flavour !== snpPageTypeName(KVM_SEV_SNP_PAGE_TYPE_SECRETS);
}
