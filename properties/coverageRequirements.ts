import type { Revision, RmmVersion } from '../model/revisions/Revision.js';
import type { BackendId } from '../model/scenario/Scenario.js';
import { cellName, type WhatIfMode } from '../model/whatIf.js';

/**
 * How often a cell that holds must have reached each interesting case within its runs, or
 * the property has not been shown to test it. Counters come from coverage.ts. `except` lists
 * revisions that cannot reach a case by construction (the old SNP callback (paolo-v1, v6.17, kvm-x86-next-2025.11.07) copies with
 * copy_from_user() and never calls GUP, so GUP faults have nothing to fail there). Firmware
 * conditions that only a buggy revision can reach (SNP_LAUNCH_UPDATE page_rmp_state, page_type,
 * page_owner; TDX op-state and S-EPT state checks KVM performs first) are not required here;
 * the mutant tests reach them.
 */
export interface CoverageRequirement {
  readonly key: string;
  readonly min: number;
  /** Revision ids, or what-if cells (`v6.17 [hugepages]`), that cannot reach the case by construction. */
  readonly except?: readonly string[];
  /** Arm only: the RMM version whose commands the key names. */
  readonly rmm?: RmmVersion;
  /** Only in this what-if cell (model/whatIf.ts): its machine is what makes the case possible. */
  readonly whatIf?: WhatIfMode;
  /** Only these revisions: the case is their code's alone (a reviewer's module inherits its parent's). */
  readonly only?: readonly string[];
}

const COMMON: readonly CoverageRequirement[] = [
  { key: 'src_offset:nonzero', min: 20 },
  // Populates from a page the VMM never wrote (the shared zero page): 45 at the least over seeds
  // 1..30 and the default on SNP v7.0, kvm-x86-next-2025.11.07 and rfc-v1, TDX v6.17 and
  // kvm-x86-next, 104 on the Arm trees.
  { key: 'src:zero_page', min: 15 },
  { key: 'src_offset:1', min: 5 },
  { key: 'src_offset:PAGE_SIZE-1', min: 5 },
  { key: 'pages:1', min: 20 },
  { key: 'pages:GMEM_GUP_NPAGES-1', min: 20 },
  { key: 'pages:GMEM_GUP_NPAGES', min: 20 },
  { key: 'pages:GMEM_GUP_NPAGES+1', min: 20 },
  { key: 'pages:slot_end', min: 20 },
  { key: 'fault:signal pending from check', min: 3 },
  { key: 'fault:alloc:folio fails', min: 1 },
  { key: 'op:gmem_user_fault', min: 10 },
  { key: 'op:punch_hole', min: 10 },
  { key: 'op:close_guest_memfd', min: 10 },
  // What a syscall fuzzer sends (coverage.ts edgeKeys): each class of malformed or unusual input.
  { key: 'edge:gmem_flags', min: 3 },
  { key: 'edge:attr', min: 3 },
  { key: 'edge:punch_unaligned', min: 3 },
  // fallocate() in allocate mode that allocated, and a mode guest_memfd refuses (generators/scenario.ts
  // allocateArb: one run in eight; over seeds 1..5 on snp/v7.0, 15-23 and 8-10 of them).
  { key: 'ret:fallocate:0', min: 3 },
  { key: 'edge:fallocate_mode', min: 1 },
  { key: 'edge:second_slot_same_gmem', min: 2 },
  { key: 'edge:gmem_offset', min: 2 },
  // u64 fields (model/kernel/u64.ts): a bit above 31 of a flags or attributes field, and a
  // binding offset whose sum with the size passes 2^63 (B15); the binding's xarray store failing (B16).
  { key: 'edge:u64_high_bits', min: 5 },
  { key: 'edge:gmem_offset_loff_overflow', min: 5 },
  { key: 'fault:alloc:xa_node fails', min: 3 },
  { key: 'edge:populate_crosses_slot', min: 20 },
  { key: 'edge:slot_without_gmem', min: 2 },
  { key: 'edge:close_mid_scenario', min: 10 },
  // A hardware memory error (generators/scenario.ts poisonArb, one run in six) and a populate
  // whose first page it poisoned: over seeds 1..10, 41-68 and 13-42 of them on x86 (300 runs),
  // 150-186 and 12-36 on CCA (1000 runs).
  { key: 'op:memory_failure', min: 10 },
  { key: 'edge:populate_poisoned', min: 3 },
  // Set-up calls the kernel refuses (generators/scenario.ts refusedSetupInsertionArb, one run in
  // six, a third each on x86: about 17 of 300): a guest_memfd size (G.3), a memslot over another (M.5).
  { key: 'edge:gmem_size', min: 3 },
  { key: 'edge:slot_overlap', min: 3 },
  // madvise() on a source buffer (madviseInsertionArb, one run in eight): MADV_DONTNEED and
  // MADV_PAGEOUT about 16 to 19 of 300 each; MADV_REMOVE (-EINVAL on anonymous memory) is counted,
  // not required (about 3).
  { key: 'edge:madvise:4', min: 3 },
  { key: 'edge:madvise:21', min: 3 },
  // A populate's struct in a read-only mapping whose copy back faulted (readOnlyArgInsertionArb,
  // one run in eight). v9 and v12 never copy their struct back.
  { key: 'edge:copy_back_fault', min: 5, except: ['rme-v9', 'rme-v12'] },
];

/**
 * The hugepages what-if cells (x86): populates that meet a huge folio, ones that ask for fewer
 * pages than it holds, and folios larger than GMEM_GUP_NPAGES.
 */
const HUGEPAGES: readonly CoverageRequirement[] = [
  // 300 runs, seeds 1..3: lows 86 and 53 (paolo-v1, whose FGP_CREAT_ONLY refuses much), else 169 and 107.
  { key: 'huge:populate_in_huge_folio', min: 40 },
  { key: 'huge:populate_part_of_folio', min: 25 },
  // A 1G (PUD_ORDER) folio: more pages than RFC v1 pins (B5 as Yan Zhao put it).
  { key: 'huge:folio_larger_than_GMEM_GUP_NPAGES', min: 10 },
  // A whole folio asked for from its folio-aligned first gfn: the old order loop's multi-page
  // post_populate (paolo-v1 13 to 23 per 300 runs at seeds 1, 2 and the suite seed).
  { key: 'huge:populate_whole_folio', min: 5 },
];

/**
 * The SNP hugepages cells: the old multi-page callbacks' cleanup loop giving back the pages made
 * private before the one the firmware refused (generators/scenario.ts wholeFolioFailureArb).
 * Over seeds 1..30 and the default, v6.17, kvm-x86-next-2025.11.07 and rfc-v1 reached it 13 times
 * at the least; paolo-v1 1 to 10 times, so it is not held to it: where the folio's gfn is not
 * aligned to its order (the generator aligns the file index) it populates the first page alone,
 * and FGP_CREAT_ONLY then refuses the rest of the folio, which already exists (-EEXIST after one
 * page: a partial success, 0). v7.0 and later populate one page a call and have no such loop.
 */
const HUGEPAGES_SNP: readonly CoverageRequirement[] = [
  { key: 'huge:snp_cleanup_restored_earlier_pages', min: 5, except: ['paolo-v1', 'roth-v2', 'roth-v3-posted', 'v7.0', 'kvm-x86-next', 'inplace-v7', 'inplace-v8'] },
];

const positions = (key: string, min: number, where: readonly string[]) => where.map((p) => ({ key: `${key}@${p}`, min }));

/**
 * RMM 1.0 (rme-v9, rme-v12) on the 4K hosts kvm_init_rme() accepts: one granule per page, so
 * every injected RMI failure is at the page's only granule; each level a walk can stop at; two
 * failures in one page. A rollback never destroys the granule that failed, so with one granule a
 * DATA_DESTROY failure comes from the stage-2 unmap.
 */
const CCA_RMM_1_0: readonly CoverageRequirement[] = [
  // 1, not 3: the what-if cell shares these, and puts only a third of its pages at one granule (seed 20261122: 1).
  { key: 'fw:RMI_GRANULE_DELEGATE:gran_gpt@only', min: 1 },
  { key: 'fw:RMI_DATA_CREATE:src_copy@only', min: 3 },
  ...[0, 1, 2].map((l) => ({ key: `fw:RMI_DATA_CREATE:rtt_walk:L${l}`, min: 20 })),
  { key: 'fw:RMI_GRANULE_UNDELEGATE:gran_gpt@only', min: 1 },
  { key: 'fw:RMI_RTT_CREATE:rmm_defect', min: 3 },
  { key: 'fw:two injected failures in one page', min: 10 },
];

/**
 * RMM 1.0 with the 4K guard lifted (16K and 64K hosts too): each failure at each granule position
 * of a page (coverage.ts unitPosition: first, middle, last), and destroy failures where a
 * rollback reaches them (first, middle).
 */
const CCA_RMM_1_0_LIFTED: readonly CoverageRequirement[] = [
  { key: 'units_per_page:4', min: 500 },
  { key: 'units_per_page:16', min: 500 },
  ...positions('fw:RMI_GRANULE_DELEGATE:gran_gpt', 3, ['first', 'middle', 'last']),
  ...positions('fw:RMI_DATA_CREATE:src_copy', 3, ['middle', 'last']),
  { key: 'fw:RMI_DATA_CREATE:src_copy@first', min: 1 },
  ...positions('fw:RMI_GRANULE_UNDELEGATE:gran_gpt', 2, ['first', 'middle', 'last']),
  { key: 'fw:RMI_DATA_DESTROY:rmm_defect@first', min: 1 },
  { key: 'fw:RMI_DATA_DESTROY:rmm_defect@middle', min: 5 },
];

/** RMM 2.0 (rmi-newest): one granule per page, range commands, RTT_DATA_MAP_INIT. */
const CCA_RMM_2_0: readonly CoverageRequirement[] = [
  { key: 'fw:RMI_GRANULE_RANGE_DELEGATE:gran_gpt@only', min: 30 },
  { key: 'fw:RMI_RTT_DATA_MAP_INIT:src_copy@only', min: 10 },
  ...[0, 1, 2].map((l) => ({ key: `fw:RMI_RTT_DATA_MAP_INIT:rtt_walk:L${l}`, min: 20 })),
  { key: 'fw:RMI_GRANULE_RANGE_UNDELEGATE:gran_gpt@only', min: 10 },
  { key: 'fw:RMI_RTT_DATA_UNMAP:rmm_defect', min: 2 },
  { key: 'fw:RMI_RTT_CREATE:rmm_defect', min: 5 },
  { key: 'fw:two injected failures in one page', min: 5 },
  { key: 'ret:arm_rmi_populate:0', min: 100 },
];

/**
 * The in-place series' populate in its in-place cell (generators/ops/inplace.ts, one run in two):
 * NULL-source populates, and pages the VMM wrote through its mapping first loaded so (the call
 * populated its first page). Over seeds 1..30, 300 runs: at least 160 and 31 (medians 190 and
 * 43 to 45) on each of the four cells.
 */
const IN_PLACE_POPULATE: readonly CoverageRequirement[] = [
  { key: 'inplace:null_source', min: 80, whatIf: 'in-place', only: ['inplace-v7', 'inplace-v8'] },
  { key: 'inplace:loaded_written', min: 20, whatIf: 'in-place', only: ['inplace-v7', 'inplace-v8'] },
];

/**
 * KVM_PRE_FAULT_MEMORY around populate (preFaultInsertionArb, one x86 run in five): ranges the
 * VM refuses for its launch state (PF.3: -EOPNOTSUPP, paolo-v1's tree -EINVAL), ranges the
 * generic checks refuse first (PF.1, PF.2), and one on a private gfn.
 */
const PRE_FAULT: readonly CoverageRequirement[] = [
  { key: 'edge:pre_fault_valid', min: 5 },
  { key: 'edge:pre_fault_invalid', min: 3 },
  { key: 'edge:pre_fault_private', min: 3 },
  { key: 'ret:pre_fault_memory:-EOPNOTSUPP', min: 3, except: ['paolo-v1'] },
];

/**
 * Every in-place cell: populates whose source is the VMM's mapping of the guest_memfd
 * (generators/ops/inplace.ts gmemSourceArb(), two runs in three where the layout's guest_memfd has
 * GUEST_MEMFD_FLAG_MMAP), a page already mapped or one the populate faults in, of those some
 * loaded (most others fail as the scenario asks: a page already populated, a launch finished),
 * and the source page madvise()d through the mapping first: DONTNEED, REMOVE. Over seeds 1..30,
 * 300 runs, v7.0 and inplace-v8 on both vendors, the fewest were 12, 25, 12, 4 and 3; each
 * minimum is about half that. CCA's one in-place cell (rme-v12) runs 1000 and is held to three
 * times as many.
 */
const GMEM_SOURCE: readonly CoverageRequirement[] = [
  { key: 'src:gmem_mapped', min: 6, whatIf: 'in-place' },
  { key: 'src:gmem_fault', min: 12, whatIf: 'in-place' },
  { key: 'src:gmem_fault_loaded', min: 6, whatIf: 'in-place' },
  { key: 'edge:madvise_gmem:4', min: 2, whatIf: 'in-place' },
  { key: 'edge:madvise_gmem:9', min: 2, whatIf: 'in-place' },
];

export const COVERAGE_REQUIREMENTS: Readonly<Record<BackendId, readonly CoverageRequirement[]>> = {
  snp: [
    ...COMMON.filter((r) => r.key !== 'fault:signal pending from check'),
    ...IN_PLACE_POPULATE,
    ...GMEM_SOURCE,
    // Paolo's v1 kvm_gmem_populate() checks for no signal, and SNP's ioctl has no loop of its own.
    { key: 'fault:signal pending from check', min: 3, except: ['paolo-v1'] },
    ...['NORMAL', 'ZERO', 'UNMEASURED', 'SECRETS', 'CPUID'].map((t) => ({ key: `flavour:${t}`, min: 5 })),
    { key: 'fault:gup efault', min: 1, except: ['paolo-v1', 'v6.17', 'kvm-x86-next-2025.11.07'] },
    { key: 'fault:gup short', min: 1, except: ['paolo-v1', 'v6.17', 'kvm-x86-next-2025.11.07'] },
    // Pages, so a few long populates make most of the count: over seeds 1..100 at 300 runs,
    // rfc-v1 (whose bulk GUP fails a whole call on one bad source page) reached 38 at the least
    // (median 76), v7.0 56. A revision whose populates all fail reaches 0.
    { key: 'fw:SNP_LAUNCH_UPDATE:ok', min: 30 },
    { key: 'fw:SNP_LAUNCH_UPDATE:cpuid_table', min: 1 },
    { key: 'fw:SNP_LAUNCH_UPDATE:cpuid_reserved', min: 1 },
    { key: 'fw:SNP_LAUNCH_UPDATE:fw_resource', min: 2 },
    { key: 'fw:SNP_LAUNCH_UPDATE:guest_state', min: 2 },
    { key: 'fw:SNP_PAGE_RECLAIM:ok', min: 5 },
    { key: 'fw:SNP_PAGE_RECLAIM:page_address', min: 5 },
    { key: 'fw:RMPUPDATE:rmp_inuse', min: 5 },
    { key: 'fw:RMPUPDATE:rmp_immutable', min: 1 },
    // A second LAUNCH_FINISH stops at the VMSA's LAUNCH_UPDATE (guest_state, above) or, from
    // v7.1, before it: SNP_LAUNCH_FINISH's own guest_state check is not reached.
    { key: 'ret:snp_launch_update:0', min: 30 },
    { key: 'edge:snp_type_unknown', min: 3 },
    { key: 'edge:snp_flags', min: 3 },
    { key: 'edge:snp_gfn_u64', min: 5 },
    { key: 'edge:snp_len_u64', min: 5 },
    // uaddr 0 with a type other than ZERO (snpNullSourceInsertionArb, one run in 16, and 2 in 33
    // random populates): G3's WARN where it is let through, oracle row S2.2 where it is refused.
    { key: 'edge:null_source', min: 5 },
    { key: 'edge:before_launch', min: 3 },
    ...PRE_FAULT,
  ],
  tdx: [
    ...IN_PLACE_POPULATE,
    ...GMEM_SOURCE,
    ...COMMON,
    { key: 'flavour:measured', min: 50 },
    { key: 'flavour:unmeasured', min: 50 },
    { key: 'fault:gup efault', min: 1 },
    { key: 'fault:gup short', min: 1 },
    { key: 'fw:TDH.MEM.PAGE.ADD:ok', min: 50 },
    { key: 'fw:TDH.MEM.PAGE.ADD:tdr_busy', min: 5 },
    { key: 'fw:TDH.MR.EXTEND:tdr_busy', min: 5 },
    { key: 'fw:TDH.MR.FINALIZE:tdr_busy', min: 1 },
    { key: 'fw:TDH.MEM.PAGE.REMOVE:ok', min: 20 },
    { key: 'ret:tdx_init_mem_region:0', min: 20 },
    { key: 'edge:tdx_nr_pages_0', min: 3 },
    { key: 'edge:before_launch', min: 3 },
    // A NULL source (edgeOpInsertionArb, 3 runs in 80, and 2 in 33 random populates).
    { key: 'edge:null_source', min: 5 },
    // A range that starts below the shared bit and ends past it (sharedEndArb, and one run in
    // ten sharedEdgeSlotArb, whose first page is a memslot's).
    { key: 'edge:tdx_range_shared_end', min: 5 },
    // nr_pages from 2^(64 - PAGE_SHIFT) - 1 to + 1, where the C's size wraps
    // (tdxInitMemRegionArb, one populate in 42).
    { key: 'edge:tdx_size_wraps', min: 3 },
    // Through a second vCPU's fd (secondVcpuInsertionArb, one run in eight): a populate, and
    // KVM_TDX_INIT_VCPU of that vCPU.
    { key: 'edge:tdx_second_vcpu', min: 5 },
    { key: 'edge:tdx_second_vcpu_init', min: 5 },
    ...PRE_FAULT,
  ],
  cca: [
    ...COMMON.filter((r) => r.key !== 'fault:signal pending from check'),
    ...GMEM_SOURCE.map((r) => ({ ...r, min: r.min * 3 })),
    // rme-v9 predates kvm_gmem_populate(): no signal check on its path.
    { key: 'fault:signal pending from check', min: 3, except: ['rme-v9'] },
    { key: 'fault:gup efault', min: 2 },
    // Both RIM descriptor kinds (RMI_MEASURE_CONTENT or not): the mutation run of backend.ts showed
    // nothing counted them, so a cell that never populated one kind held.
    { key: 'flavour:measured', min: 50 },
    { key: 'flavour:unmeasured', min: 50 },
    // A populate past the protected IPA space (edgeOpInsertionArb: one run in 43, about 23 of 1000).
    { key: 'edge:outside_ipa', min: 5 },
    // From the last protected page of a memslot into the unprotected half (one run in 20).
    { key: 'edge:ipa_range_crosses_protected', min: 5 },
    // A `__u64 size` with which base + size wraps past 2^64 (armPopulateArb, one populate in 32):
    // v9 and the newest tree refuse it, v12 populates to the memslot's end.
    { key: 'edge:populate_range_wraps', min: 5 },
    // A populate of a shared guest_memfd index (an INIT_SHARED file, one layout in 15): only the
    // newest tree's guest_memfd tracks each index and takes INIT_SHARED on a realm.
    { key: 'edge:populate_shared_index', min: 3, except: ['rme-v9', 'rme-v12'] },
    // A populate on a realm left DEAD by a failed activation (failedActivateArb's REC allocation):
    // only rme-v12 marks the realm DEAD before a step that an allocation failure can stop.
    { key: 'edge:realm_dead', min: 3, except: ['rme-v9', 'rmi-newest'] },
    ...CCA_RMM_1_0.map((r) => ({ ...r, rmm: 'v1.0' as const })),
    ...CCA_RMM_1_0_LIFTED.map((r) => ({ ...r, rmm: 'v1.0' as const, whatIf: '4k-guard-lifted' as const })),
    ...CCA_RMM_2_0.map((r) => ({ ...r, rmm: 'v2.0' as const })),
  ],
};

/**
 * The requirements that apply to a revision on a backend (in a what-if cell, with that mode's
 * own): its RMM version's on Arm, less the ones it cannot reach by construction (a reviewer's
 * module inherits its parent's exceptions).
 */
export function applicableRequirements(backend: BackendId, revision: Pick<Revision, 'id' | 'arm' | 'derivedFrom'>, whatIf?: WhatIfMode): CoverageRequirement[] {
  const ids = [revision.id, ...(revision.derivedFrom === undefined ? [] : [revision.derivedFrom])].flatMap((id) => whatIf === undefined ? [id] : [id, cellName(id, whatIf)]);
  // A hugepages cell draws its own machines (hugeLayoutArb): what it must reach are huge folios
  // under populate, the default cell's cases being that cell's to reach.
  if (whatIf === 'hugepages') return backend === 'cca' ? [] : [...HUGEPAGES, ...(backend === 'snp' ? HUGEPAGES_SNP : [])].filter((r) => !(r.except ?? []).some((id) => ids.includes(id)));
  return COVERAGE_REQUIREMENTS[backend].filter((r) => !(r.except ?? []).some((id) => ids.includes(id))
    && (r.rmm === undefined || r.rmm === (revision.arm?.rmm ?? 'v2.0'))
    && (r.whatIf === undefined || r.whatIf === whatIf)
    && (r.only === undefined || r.only.some((id) => ids.includes(id))));
}

/** Requirements a holds cell's coverage misses: `[key, got, min]`. */
export function coverageShortfall(backend: BackendId, revision: Pick<Revision, 'id' | 'arm' | 'derivedFrom'>, coverage: ReadonlyMap<string, number>, whatIf?: WhatIfMode): [string, number, number][] {
  return applicableRequirements(backend, revision, whatIf)
    .map((r): [string, number, number] => [r.key, coverage.get(r.key) ?? 0, r.min])
    .filter(([, got, min]) => got < min);
}
