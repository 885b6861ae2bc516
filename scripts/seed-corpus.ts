/**
 * Seeds corpus/ with the boundary cases every revision is judged on: source offset 0, 1 and
 * PAGE_SIZE - 1, one page, the slot's end, GMEM_GUP_NPAGES - 1, GMEM_GUP_NPAGES and + 1, every
 * SNP page type, TDX with and without measurement, CCA with 1, 4 and 16 granules a page, and
 * every fault point of each backend (each GUP, allocation and signal fault, each platform
 * condition of each firmware command, at the first and last granule of a page on CCA). The
 * verdicts are what the model says now, explained from the matrix; an existing scenario is not
 * written again. The counterexample of every violated matrix cell comes from
 * `npx gmemcheck check --save` instead.
 *
 *   npx tsx scripts/seed-corpus.ts [DIR]     (default: corpus/)
 */
import { join } from 'node:path';
import { backendById } from '../model/backends/registry.js';
import { platformConditions } from '../model/backends/firmwareCommand.js';
import { KVM_SEV_SNP_PAGE_TYPE_CPUID, KVM_SEV_SNP_PAGE_TYPE_NORMAL, KVM_SEV_SNP_PAGE_TYPE_SECRETS, KVM_SEV_SNP_PAGE_TYPE_UNMEASURED, KVM_SEV_SNP_PAGE_TYPE_ZERO } from '../model/backends/snp/uapi.js';
import { KVM_TDX_MEASURE_MEMORY_REGION } from '../model/backends/tdx/uapi.js';
import { KVM_ARM_RMI_POPULATE_FLAGS_MEASURE } from '../model/backends/cca/uapi.js';
import { KVM_MEMORY_ATTRIBUTE_PRIVATE, KVM_MEM_GUEST_MEMFD } from '../model/world/kvmState.js';
import type { BackendId, Fault, Op, Scenario } from '../model/scenario/Scenario.js';
import { recordVerdicts } from '../properties/corpus/record.js';
import { saveEntry } from '../properties/corpus/store.js';

const PS = 16;
const PMD_ORDER = 2; // GMEM_GUP_NPAGES = 4
const GUP = 2 ** PMD_ORDER;
const SLOT_PAGES = 8;
const BASE_GFN = 0x20;
const SRC = 0x40000;

interface Case {
  readonly name: string;
  readonly about: string;
  /** First page of the slot populated, pages, source offset into the page. */
  readonly page?: number;
  readonly npages?: number;
  readonly offset?: number;
  readonly snpType?: number;
  readonly measure?: boolean;
  readonly faults?: readonly Fault[];
  readonly granules?: 1 | 4 | 16;
}

function scenarioFor(backend: BackendId, c: Case): Scenario {
  const page = c.page ?? 0;
  const npages = c.npages ?? 1;
  const gfn = BASE_GFN + page;
  const src = SRC + page * PS + (c.offset ?? 0);
  const faults = [...(c.faults ?? [])];
  const populate: Op = backend === 'snp'
    ? { kind: 'snp_launch_update', gfn_start: BigInt(gfn), uaddr: src, len: BigInt(npages * PS), type: c.snpType ?? KVM_SEV_SNP_PAGE_TYPE_NORMAL, flags: 0, faults }
    : backend === 'tdx'
      ? { kind: 'tdx_init_mem_region', source_addr: src, gpa: gfn * PS, nr_pages: BigInt(npages), flags: c.measure === false ? 0 : KVM_TDX_MEASURE_MEMORY_REGION, faults }
      : { kind: 'arm_rmi_populate', base: gfn * PS, size: BigInt(npages * PS), source_uaddr: src, flags: c.measure === false ? 0 : KVM_ARM_RMI_POPULATE_FLAGS_MEASURE, reserved: 0, faults };
  const ops: Op[] = [
    { kind: 'create_guest_memfd', size: BigInt(SLOT_PAGES * PS), flags: 0n },
    { kind: 'set_user_memory_region2', slot: 0, flags: KVM_MEM_GUEST_MEMFD, guest_phys_addr: BASE_GFN * PS, memory_size: SLOT_PAGES * PS, userspace_addr: SRC, guest_memfd: 1, guest_memfd_offset: 0n },
    { kind: 'set_memory_attributes', address: BASE_GFN * PS, size: SLOT_PAGES * PS, attributes: BigInt(KVM_MEMORY_ATTRIBUTE_PRIVATE), flags: 0n },
    { kind: 'mmap', addr: SRC, length: (SLOT_PAGES + 1) * PS, prot: 'rw', holes: [] },
    ...(backend === 'cca' ? [{ kind: 'arm_realm_create', faults: [] } as const] : []),
    populate,
    { kind: 'close_guest_memfd', guest_memfd: 1 },
    { kind: 'close_vm' },
  ];
  return {
    backend, geometry: { page_size: PS, pmd_order: PMD_ORDER, nr_host_pages: 192 }, ops, ub: {},
    ...(backend === 'cca' ? { cca: { granules_per_page: c.granules ?? 1, rtt_depth: 0 } } : {}),
  };
}

function cases(backend: BackendId): Case[] {
  const out: Case[] = [
    { name: 'offset-0', about: 'source at offset 0: one page' },
    { name: 'offset-1', about: 'source at offset 1 into its page: two source pages feed one page', offset: 1, npages: 2 },
    { name: 'offset-page-size-minus-1', about: 'source at offset PAGE_SIZE - 1: the last byte of a page starts the copy', offset: PS - 1, npages: 2 },
    { name: 'slot-end', about: 'the last page of the slot', page: SLOT_PAGES - 1 },
    { name: 'past-slot-end', about: 'a range running two pages past the slot end (clamped or refused)', page: SLOT_PAGES - 2, npages: 4 },
    { name: 'gup-npages-minus-1', about: 'GMEM_GUP_NPAGES - 1 pages', npages: GUP - 1 },
    { name: 'gup-npages', about: 'GMEM_GUP_NPAGES pages', npages: GUP },
    { name: 'gup-npages-plus-1', about: 'GMEM_GUP_NPAGES + 1 pages', npages: GUP + 1 },
  ];
  if (backend === 'snp') {
    for (const [t, type] of [['zero', KVM_SEV_SNP_PAGE_TYPE_ZERO], ['unmeasured', KVM_SEV_SNP_PAGE_TYPE_UNMEASURED], ['secrets', KVM_SEV_SNP_PAGE_TYPE_SECRETS], ['cpuid', KVM_SEV_SNP_PAGE_TYPE_CPUID]] as const) {
      out.push({ name: `type-${t}`, about: `one ${t.toUpperCase()} page`, snpType: type });
    }
  } else {
    out.push({ name: 'unmeasured', about: 'one page, not measured', measure: false });
  }
  if (backend === 'cca') {
    out.push({ name: 'granules-4', about: 'one page of 4 granules (16K host, RMM 1.0)', granules: 4 });
    out.push({ name: 'granules-16', about: 'one page of 16 granules (64K host, RMM 1.0)', granules: 16 });
  }
  // Fault points: in a two-page populate, on the first call of each kind.
  const two = { npages: 2 };
  out.push({ ...two, name: 'fault-gup-efault', about: 'the first GUP fails', faults: [{ kind: 'gup', nth: 1, result: 'efault' }] });
  if (backend !== 'cca') out.push({ ...two, name: 'fault-gup-short', about: 'the first GUP pins one page short', faults: [{ kind: 'gup', nth: 1, result: 'short' }] });
  out.push({ ...two, name: 'fault-alloc-folio', about: 'the first folio allocation fails', faults: [{ kind: 'alloc', nth: 1, site: 'folio' }] });
  out.push({ ...two, name: 'fault-alloc-kmalloc', about: 'the first kmalloc fails', faults: [{ kind: 'alloc', nth: 1, site: 'kmalloc' }] });
  out.push({ ...two, name: 'fault-signal', about: 'a signal is pending from the first check', faults: [{ kind: 'signal', nth: 1 }] });
  for (const cmd of backendById(backend).firmware) {
    for (const condition of platformConditions(cmd)) {
      const base = `fault-${cmd.name.toLowerCase().replace(/[._]/g, '-')}-${condition.replace(/_/g, '-')}`;
      const about = `the first ${cmd.name} fails with ${condition}`;
      out.push({ ...two, name: base, about, faults: [{ kind: 'fw', cmd: cmd.name, condition, nth: 1 }] });
      if (backend === 'cca') {
        for (const [where, unit] of [['first', 0], ['last', 15]] as const) {
          out.push({ ...two, granules: 16, name: `${base}-granule-${where}`, about: `${about} on the ${where} granule of a 16-granule page`, faults: [{ kind: 'fw', cmd: cmd.name, condition, nth: 1, unit }] });
        }
      }
    }
  }
  return out;
}

const dir = process.argv[2] ?? join(import.meta.dirname, '..', 'corpus');
let written = 0;
let duplicates = 0;
for (const backend of ['snp', 'tdx', 'cca'] as const) {
  for (const c of cases(backend)) {
    const scenario = scenarioFor(backend, c);
    const origin = { kind: 'boundary' as const, case: c.about };
    const r = saveEntry(dir, { name: `${backend}-boundary-${c.name}`, about: `${backend}: ${c.about}`, origin, scenario, verdicts: recordVerdicts(scenario, origin) });
    if (r.kind === 'written') written++;
    else duplicates++;
  }
}
process.stdout.write(`${written} written, ${duplicates} already in ${dir}\n`);
