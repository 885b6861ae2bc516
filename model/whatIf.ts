import type { Revision } from './revisions/Revision.js';
import type { Scenario } from './scenario/Scenario.js';

/**
 * What-if modes: configurations a revision's kernel refuses, run on purpose to show what the
 * code would do once the guard that refuses them is lifted. A revision runs in the
 * configurations its kernel accepts by default; each mode it has is a cell of its own in the
 * matrix, the check report and the corpus, so a finding that needs one is never mistaken for a
 * bug of the kernel as posted.
 */
export const WHAT_IF_MODES = ['4k-guard-lifted', 'in-place', 'hugepages'] as const;
export type WhatIfMode = (typeof WHAT_IF_MODES)[number];

export const WHAT_IF_TEXT: Readonly<Record<WhatIfMode, string>> = {
  '4k-guard-lifted': 'hosts with 16K and 64K pages (several 4K RMM granules per page), which kvm_init_rme() of the RMM v1.0 series refuses',
  'in-place': 'in-place conversion (not merged): a guest_memfd of the confidential VM may be mmap()ed and its pages converted between shared and private, and a host fault on it takes the invalidate lock under mmap_lock',
  hugepages: 'huge guest_memfd folios: 2M (PMD_ORDER) as SNP v11 01/35 allocated them, or 1G (PUD_ORDER) as hugetlb would, with __kvm_gmem_get_pfn() reporting their order (no merged kernel allocates them)',
};

/**
 * The what-if cells a revision has besides its default one. kvm_init_rme() of the RMM v1.0
 * series (rme-v9, rme-v12) fails unless PAGE_SIZE is 4K, so by default they run with one
 * granule per page; the "4K guard lifted" cell adds 16K and 64K hosts. RMM v2.0 (rmi-newest)
 * configures the granule to the host page, so one granule per page is every host it takes.
 * Every x86 revision has a hugepages cell (the old order loops run there with several pages a
 * call, and the per-page generations show their refusal: kvm_gmem_get_folio()'s WARN) and an
 * in-place cell (the in-place conversion series applied: host faults on a guest_memfd mapping
 * take the invalidate lock, which the old populate path's GUP under that lock deadlocks with,
 * B2). Of the Arm revisions, rme-v12 has an in-place cell too: its populate_region() holds
 * mmap_read_lock() around the old kvm_gmem_populate(), the form kernel-facts' B25 is about. None
 * has a hugepages cell (their populate is not modelled with large folios), rme-v9 populates
 * through the shared alias and no kvm_gmem_populate(), and rmi-newest's tree carries the in-place
 * fault path itself.
 */
export function whatIfCellsOf(revision: Partial<Pick<Revision, 'arm'>>): WhatIfMode[] {
  if (revision.arm === undefined) return ['hugepages', 'in-place'];
  if (revision.arm.rmm !== 'v1.0') return [];
  return revision.arm.uapi === 'rmi-populate-bytes' ? ['4k-guard-lifted', 'in-place'] : ['4k-guard-lifted'];
}

/** How a cell is named: `rme-v12`, or `rme-v12 [4k-guard-lifted]` for a what-if cell. */
export function cellName(revision: string, whatIf: WhatIfMode | undefined): string {
  return whatIf === undefined ? revision : `${revision} [${whatIf}]`;
}

/**
 * The what-if cell a scenario belongs to on a revision: the mode its machine needs, or none when
 * the revision's kernel accepts it (a corpus scenario is judged against that cell's row).
 */
export function scenarioWhatIf(scenario: Pick<Scenario, 'cca' | 'hugepages' | 'inPlace'>, revision: Partial<Pick<Revision, 'arm'>>): WhatIfMode | undefined {
  if (scenario.hugepages !== undefined) return 'hugepages';
  if (scenario.inPlace !== undefined) return 'in-place';
  return revision.arm?.rmm === 'v1.0' && (scenario.cca?.granules_per_page ?? 1) > 1 ? '4k-guard-lifted' : undefined;
}
