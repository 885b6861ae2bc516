import type { KvmMemorySlot } from './services/kvmcore.js';

/**
 * The hugepages what-if's `*max_order` (model/whatIf.ts): what __kvm_gmem_get_pfn() reports for
 * a folio once guest_memfd hands out large ones, as Sean Christopherson's hugepage patch wrote it
 * in kvm_gmem_get_pfn() (carried as SNP v11 01/35,
 * https://lore.kernel.org/all/20231230172351.574091-2-michael.roth@amd.com/, dropped before the
 * v6.8 merge): the folio's compound order, forced to 0 unless the folio lies inside the range the
 * memslot binds. Every tree modelled writes `*max_order = 0` instead; on every machine it accepts
 * folios are order 0 and this is 0 too, so a revision calling it behaves as its C outside the
 * what-if. The patch rounds `index` up (ALIGN), not down, to the folio boundary: kept as written.
 */
export function kvm_gmem_max_order_huge(
  k: { folio_order(folio: number): number },
  slot: Pick<KvmMemorySlot, 'gmem_pgoff' | 'npages'>,
  index: number,
  folio: number,
): number {
  const max_order = k.folio_order(folio);
  if (!max_order) return 0;
  const nr = 2 ** max_order;
  const ALIGN = (x: number): number => Math.ceil(x / nr) * nr;
  const huge_index = ALIGN(index);
  if (huge_index < ALIGN(slot.gmem_pgoff) || huge_index + nr > slot.gmem_pgoff + slot.npages) return 0;
  return max_order;
}
