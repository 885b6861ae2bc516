import type { BackendId } from '../model/scenario/Scenario.js';

/**
 * How often a cell that holds must have reached each interesting case within its runs, or
 * the property has not been shown to test it. Counters come from coverage.ts. `except` lists
 * revisions that cannot reach a case by construction (v6.11's SNP callback copies with
 * copy_from_user() and never calls GUP, so GUP faults have nothing to fail there). Firmware
 * conditions that only a buggy revision can reach (SNP_LAUNCH_UPDATE page_rmp_state, page_type,
 * page_owner; TDX op-state and S-EPT state checks KVM performs first) are not required here;
 * the mutant tests reach them.
 */
export interface CoverageRequirement {
  readonly key: string;
  readonly min: number;
  readonly except?: readonly string[];
}

const COMMON: readonly CoverageRequirement[] = [
  { key: 'src_offset:nonzero', min: 20 },
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
];

export const COVERAGE_REQUIREMENTS: Readonly<Record<BackendId, readonly CoverageRequirement[]>> = {
  snp: [
    ...COMMON,
    ...['NORMAL', 'ZERO', 'UNMEASURED', 'SECRETS', 'CPUID'].map((t) => ({ key: `flavour:${t}`, min: 5 })),
    { key: 'fault:gup efault', min: 1, except: ['v6.11'] },
    { key: 'fault:gup short', min: 1, except: ['v6.11'] },
    { key: 'fw:SNP_LAUNCH_UPDATE:ok', min: 50 },
    { key: 'fw:SNP_LAUNCH_UPDATE:cpuid_table', min: 1 },
    { key: 'fw:SNP_LAUNCH_UPDATE:cpuid_reserved', min: 1 },
    { key: 'fw:SNP_LAUNCH_UPDATE:fw_resource', min: 3 },
    { key: 'fw:SNP_LAUNCH_UPDATE:guest_state', min: 2 },
    { key: 'fw:SNP_PAGE_RECLAIM:ok', min: 5 },
    { key: 'fw:SNP_PAGE_RECLAIM:page_address', min: 5 },
    { key: 'fw:RMPUPDATE:rmp_inuse', min: 5 },
    { key: 'fw:RMPUPDATE:rmp_immutable', min: 1 },
    { key: 'fw:SNP_LAUNCH_FINISH:guest_state', min: 1 },
    { key: 'ret:snp_launch_update:0', min: 30 },
  ],
  tdx: [
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
  ],
};

/** Requirements a holds cell's coverage misses: `[key, got, min]`. */
export function coverageShortfall(backend: BackendId, revision: string, coverage: ReadonlyMap<string, number>): [string, number, number][] {
  return COVERAGE_REQUIREMENTS[backend]
    .filter((r) => !(r.except ?? []).includes(revision))
    .map((r): [string, number, number] => [r.key, coverage.get(r.key) ?? 0, r.min])
    .filter(([, got, min]) => got < min);
}
