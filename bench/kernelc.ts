/**
 * What a populate ioctl costs when a kernel tree's own C runs it (`npm run bench:kernel -- --tree
 * DIR [--backend snp|tdx|cca|all] [--reps N]`), against the TypeScript revision it is compared
 * with (kvm-x86-next or its API generation's on x86, rmi-newest on Arm), with 4 KiB pages: the first ioctl of a scenario (which makes
 * the WebAssembly instance), a second one-page ioctl, a second one of 16 pages, and what each
 * page past the first adds. Each figure is the median over N scenario runs (default 200) of the
 * wall time from the operation's begin to its end (model/scenario/runScenario.ts observers). Needs clang and wasm-ld (kernel mode's build). Exit 2 on bad arguments or a tree
 * that does not build.
 */
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { BACKENDS, ExtractError, extract } from '../kernelc/extract.js';
import { build, treeKnows } from '../kernelc/compile.js';
import { KERNEL_C_BACKENDS, baseRevisionId, kernelCRevision, type KernelCBackend } from '../model/kernelc/revision.js';
import { compileKernelModule } from '../model/kernelc/wasm.js';
import { REAL_X86_GEOMETRY } from '../model/geometry.js';
import { REVISIONS } from '../model/revisions/registry.js';
import type { Revision } from '../model/revisions/Revision.js';
import { runScenario, type RunObserver } from '../model/scenario/runScenario.js';
import type { Op, Scenario } from '../model/scenario/Scenario.js';
import { KVM_MEMORY_ATTRIBUTE_PRIVATE, KVM_MEM_GUEST_MEMFD } from '../model/world/kvmState.js';
import { KVM_SEV_SNP_PAGE_TYPE_NORMAL } from '../model/backends/snp/uapi.js';
import { KVM_TDX_MEASURE_MEMORY_REGION } from '../model/backends/tdx/uapi.js';
import { KVM_ARM_RMI_POPULATE_FLAGS_MEASURE } from '../model/backends/cca/uapi.js';
import { textTable } from './textTable.js';

function usage(problem: string): never {
  console.error(`bench:kernel: ${problem}\nusage: npm run bench:kernel -- --tree DIR [--backend snp|tdx|cca|all] [--reps N]`);
  process.exit(2);
}

let values: { tree?: string; backend?: string; reps?: string };
try {
  ({ values } = parseArgs({ options: { tree: { type: 'string' }, backend: { type: 'string' }, reps: { type: 'string' } } }));
} catch (e) {
  usage(e instanceof Error ? e.message : String(e));
}
if (values.tree === undefined) usage('--tree DIR is required');
const tree = resolve(values.tree);
const backendArg = values.backend ?? 'all';
const backends: readonly KernelCBackend[] = backendArg === 'all' ? KERNEL_C_BACKENDS : KERNEL_C_BACKENDS.filter((b) => b === backendArg);
if (backends.length === 0) usage(`--backend must be ${KERNEL_C_BACKENDS.join(', ')} or all, got '${backendArg}'`);
const reps = Number(values.reps ?? '200');
if (!Number.isInteger(reps) || reps < 1) usage(`--reps must be a positive integer, got '${values.reps ?? ''}'`);

const PS = REAL_X86_GEOMETRY.page_size;
const BASE_GFN = 0x100;
const SLOT_PAGES = 32;
const SRC = 0x7f00_0000_0000;

/** A guest_memfd bound to a memslot, private (by VM attributes on x86, by guest_memfd itself on Arm), and the source mapped. */
function setup(backend: KernelCBackend): Op[] {
  return [
    { kind: 'create_guest_memfd', size: BigInt(SLOT_PAGES * PS), flags: 0n },
    { kind: 'set_user_memory_region2', slot: 0, flags: KVM_MEM_GUEST_MEMFD, guest_phys_addr: BASE_GFN * PS, memory_size: SLOT_PAGES * PS, userspace_addr: 0x7e00_0000_0000, guest_memfd: 1, guest_memfd_offset: 0n },
    ...(backend === 'cca' ? [] : [{ kind: 'set_memory_attributes', address: BASE_GFN * PS, size: SLOT_PAGES * PS, attributes: BigInt(KVM_MEMORY_ATTRIBUTE_PRIVATE), flags: 0n } as const]),
    { kind: 'mmap', addr: SRC, length: SLOT_PAGES * PS, prot: 'rw', holes: [] },
  ];
}

/** A populate of `npages` pages from slot page `at`. */
function populate(backend: KernelCBackend, at: number, npages: number): Op {
  if (backend === 'cca') return { kind: 'arm_rmi_populate', base: (BASE_GFN + at) * PS, size: BigInt(npages * PS), source_uaddr: SRC + at * PS, flags: KVM_ARM_RMI_POPULATE_FLAGS_MEASURE, reserved: 0, faults: [] };
  if (backend === 'snp') return { kind: 'snp_launch_update', gfn_start: BigInt(BASE_GFN + at), uaddr: SRC + at * PS, len: BigInt(npages * PS), type: KVM_SEV_SNP_PAGE_TYPE_NORMAL, flags: 0, faults: [] };
  return { kind: 'tdx_init_mem_region', source_addr: SRC + at * PS, gpa: (BASE_GFN + at) * PS, nr_pages: BigInt(npages), flags: KVM_TDX_MEASURE_MEMORY_REGION, faults: [] };
}

// Arm: one 4K granule a page, the realm's tables down to level 2 made, so the first populate creates a level-3 RTT.
const scenario = (backend: KernelCBackend, ops: readonly Op[]): Scenario =>
  ({ backend, geometry: REAL_X86_GEOMETRY, ops: [...setup(backend), ...ops], ub: {}, ...(backend === 'cca' ? { cca: { granules_per_page: 1, rtt_depth: 2 } } : {}) });

/** Median wall microseconds of each operation of `s` on `r` (from its begin to its end), after a warm-up. */
function opCosts(s: Scenario, r: Revision): number[] {
  const per: number[][] = s.ops.map(() => []);
  let began = 0;
  const observer: RunObserver = {
    opBegin: () => {
      began = performance.now();
    },
    opEnd: (res) => {
      per[res.index]?.push(performance.now() - began);
    },
  };
  for (let i = 0; i < 20; i++) runScenario(s, r);
  for (let i = 0; i < reps; i++) {
    const res = runScenario(s, r, { observers: [observer] });
    if (res.crash !== undefined) throw new Error(`${r.id}: the bench's scenario crashed: ${res.crash.crash.kind}`);
  }
  return per.map((t) => {
    t.sort((a, b) => a - b);
    return (t[Math.floor(t.length / 2)] ?? 0) * 1000;
  });
}

const rows: string[][] = [];
for (const backend of backends) {
  let x;
  try {
    x = extract(tree, backend);
  } catch (e) {
    if (e instanceof ExtractError) usage(e.message);
    throw e;
  }
  const r = build(x, BACKENDS[backend].files, treeKnows(tree));
  if (r.kind !== 'built') usage(`${tree} does not build for ${backend}: ${r.kind}`);
  const base = REVISIONS.find((b) => b.id === baseRevisionId(backend, x.api));
  if (base === undefined) usage(`kernel mode has no revision for ${x.api}`);
  const c = kernelCRevision({ id: 'kernel-tree', title: tree, cites: [tree], api: x.api }, new Map([[backend, compileKernelModule(r.wasm)]]));
  for (const rev of [c, base]) {
    const at = setup(backend).length;
    const small = opCosts(scenario(backend, [populate(backend, 0, 1), populate(backend, 1, 1)]), rev);
    const big = opCosts(scenario(backend, [populate(backend, 0, 1), populate(backend, 1, 16)]), rev);
    const first = small[at] ?? 0;
    const second = small[at + 1] ?? 0;
    const sixteen = big[at + 1] ?? 0;
    rows.push([backend, rev === c ? 'tree C' : rev.id, first.toFixed(0), second.toFixed(0), sixteen.toFixed(0), ((sixteen - second) / 15).toFixed(1)]);
  }
}
console.log(`kernel-mode cost on ${tree}, 4 KiB pages, median of ${reps} scenario runs (µs of wall time)`);
const heads = ['backend', 'revision', 'first 1-page ioctl', 'second 1-page ioctl', 'second, 16 pages', 'each further page'];
console.log(textTable(heads.map((head, i) => ({ head, align: i < 2 ? 'left' : 'right' })), rows));
