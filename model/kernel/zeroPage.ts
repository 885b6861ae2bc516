import { emit, type World } from '../world/World.js';
import { hostPage } from '../world/hostMemory.js';
import { PROV_ZERO } from '../world/provenance.js';
import type { Vma } from '../world/userspaceMm.js';
import { allocPage } from './pages.js';

/**
 * The shared zero page (mm/memory.c do_anonymous_page(): a read fault on private anonymous
 * memory maps ZERO_PAGE read-only, unless mm_forbids_zeropage()) and the copy-on-write fault
 * that replaces it at the first write (wp_page_copy(): a fresh zeroed page, mapped writable).
 * It is one kernel page for every process; vm_normal_page() returns NULL for it, so a mapping
 * of it takes no reference. GUP without FOLL_WRITE returns it as it is (follow_page_pte(), and
 * faultin_page() with a read fault); GUP with FOLL_WRITE breaks COW first. A kernel write through
 * a pin of it therefore writes what every untouched anonymous page of the machine reads.
 *
 * The model allocates it at the first mapping of an untouched page (a pfn of its own, owned by
 * the kernel for good) and maps it where the VMM mapped memory it never wrote.
 */
export const ZERO_PAGE_OWNER = { kind: 'kernel', what: 'ZERO_PAGE' } as const;

export function zeroPagePfn(w: World): number | undefined {
  if (w.mm.zeroPage !== undefined) return w.mm.zeroPage;
  const p = allocPage(w, ZERO_PAGE_OWNER, 'highest');
  if (p === undefined) return undefined;
  p.data.fill(0);
  p.prov.fill(PROV_ZERO);
  w.mm.zeroPage = p.pfn;
  return p.pfn;
}

export function isZeroPage(w: World, pfn: number | undefined): boolean {
  return pfn !== undefined && pfn === w.mm.zeroPage;
}

/**
 * The write fault on a page of `vma` that maps the zero page: a fresh zeroed anonymous page
 * takes its place (the VMA must be writable; the caller checks). Returns the new pfn, or
 * undefined when memory is out (VM_FAULT_OOM: the access fails).
 */
export function breakZeroPageCow(w: World, vma: Vma, index: number): number | undefined {
  const p = allocPage(w, { kind: 'anon' });
  if (p === undefined) return undefined;
  p.data.fill(0);
  p.prov.fill(PROV_ZERO);
  const uaddr = vma.start + index * w.geo.page_size;
  w.mm.generations.set(uaddr, (w.mm.generations.get(uaddr) ?? 0) + 1);
  vma.pfns[index] = p.pfn;
  emit(w, { kind: 'note', text: `write fault at user 0x${uaddr.toString(16)}: the zero page replaced by pfn 0x${p.pfn.toString(16)} (copy-on-write)` });
  return p.pfn;
}

/** The pfn a write at `uaddr` of `vma` lands on: the zero page's COW broken first. */
export function writablePfn(w: World, vma: Vma, uaddr: number): number | undefined {
  const index = Math.floor((uaddr - vma.start) / w.geo.page_size);
  const pfn = vma.pfns[index];
  if (pfn === undefined || !isZeroPage(w, pfn)) return pfn;
  return hostPage(w.host, pfn) === undefined ? undefined : breakZeroPageCow(w, vma, index);
}
