import type { Geometry } from '../../model/geometry.js';
import { kernelServices, type KernelServices } from '../../model/kernel/Kernel.js';
import { createSnpState } from '../../model/backends/snp/state.js';
import { createTdxState } from '../../model/backends/tdx/state.js';
import { KVM_SEV_SNP_PAGE_TYPE_NORMAL } from '../../model/backends/snp/uapi.js';
import { KVM_TDX_MEASURE_MEMORY_REGION } from '../../model/backends/tdx/uapi.js';
import type { BackendId, Fault, Op, Scenario } from '../../model/scenario/Scenario.js';
import { KVM_MEMORY_ATTRIBUTE_PRIVATE, KVM_MEM_GUEST_MEMFD } from '../../model/world/kvmState.js';
import { FALLOC_FL_KEEP_SIZE } from '../../model/kernel/guest_memfd.js';
import type { Prot } from '../../model/world/userspaceMm.js';
import { createWorld, type World } from '../../model/world/World.js';
import { hostPage, type HostPage } from '../../model/world/hostMemory.js';

/**
 * Shared fixtures: a small machine (64-byte pages, PMD_ORDER 2 so GMEM_GUP_NPAGES = 4), the
 * VMM set-up generators/ops/common.ts setupOps() produces, and builders for populate ioctls
 * whose gfns are given relative to the memslot.
 */
export const PS = 64;
export const GEO: Geometry = { page_size: PS, pmd_order: 2, nr_host_pages: 64 };
export const GMEM_GUP_NPAGES = 4;
export const BASE_GFN = 0x10;
export const SRC = 0x40000;
export const SRC2 = 0x80000;
export const GMEM = 1;
export const SLOT_PAGES = 8;

export interface SetupOptions {
  readonly slotPages?: number;
  readonly gmemFlags?: number;
  /** Slot-relative [start, end) made private; null for none. Default: the whole slot. */
  readonly private?: readonly [number, number] | null;
  readonly srcPages?: number;
  readonly prot?: Prot;
  readonly holes?: readonly number[];
  /** guest_memfd page offset of the memslot. */
  readonly pgoff?: number;
}

export function setupOps(o: SetupOptions = {}): Op[] {
  const slotPages = o.slotPages ?? SLOT_PAGES;
  const pgoff = o.pgoff ?? 0;
  const priv = o.private === undefined ? ([0, slotPages] as const) : o.private;
  const ops: Op[] = [
    { kind: 'create_guest_memfd', size: BigInt((slotPages + pgoff + 1) * PS), flags: BigInt(o.gmemFlags ?? 0) },
    {
      kind: 'set_user_memory_region2', slot: 0, flags: KVM_MEM_GUEST_MEMFD, guest_phys_addr: BASE_GFN * PS,
      memory_size: slotPages * PS, userspace_addr: 0x7f00_0000_0000, guest_memfd: GMEM, guest_memfd_offset: BigInt(pgoff * PS),
    },
  ];
  if (priv !== null && priv[1] > priv[0]) {
    ops.push({ kind: 'set_memory_attributes', address: (BASE_GFN + priv[0]) * PS, size: (priv[1] - priv[0]) * PS, attributes: BigInt(KVM_MEMORY_ATTRIBUTE_PRIVATE), flags: 0n });
  }
  ops.push({ kind: 'mmap', addr: SRC, length: (o.srcPages ?? slotPages + 1) * PS, prot: o.prot ?? 'rw', holes: o.holes ?? [] });
  return ops;
}

/** fallocate(FALLOC_FL_KEEP_SIZE) of `npages` pages of the set-up's guest_memfd from page `at` (allocate mode). */
export function allocate(o: { at?: number; npages?: number; mode?: number; faults?: readonly Fault[] } = {}): Op {
  return { kind: 'fallocate', guest_memfd: GMEM, mode: o.mode ?? FALLOC_FL_KEEP_SIZE, offset: (o.at ?? 0) * PS, len: (o.npages ?? 1) * PS, faults: o.faults ?? [] };
}

/** A hardware memory error in the page at slot-relative index `at` of the set-up's guest_memfd (memory_failure()). */
export function memoryFailure(at = 0): Op {
  return { kind: 'memory_failure', guest_memfd: GMEM, offset: at * PS };
}

export function scenario(backend: BackendId, ops: readonly Op[], ub: Readonly<Record<string, number>> = {}): Scenario {
  return { backend, geometry: GEO, ops, ub };
}

export interface LaunchUpdateArgs {
  /** Slot-relative page index of gfn_start. */
  readonly at?: number;
  readonly uaddr?: number;
  readonly npages?: number;
  /** Bytes, or a u64 past what a number holds (a fuzzer's `len`). */
  readonly len?: number | bigint;
  /** A `gfn_start` as a u64, in place of `at`. */
  readonly gfn_start?: bigint;
  readonly type?: number;
  readonly flags?: number;
  readonly arg_readonly?: boolean;
  readonly faults?: readonly Fault[];
}

export function launchUpdate(a: LaunchUpdateArgs = {}): Op {
  return {
    kind: 'snp_launch_update', gfn_start: a.gfn_start ?? BigInt(BASE_GFN + (a.at ?? 0)), uaddr: a.uaddr ?? SRC, len: BigInt(a.len ?? (a.npages ?? 1) * PS),
    type: a.type ?? KVM_SEV_SNP_PAGE_TYPE_NORMAL, flags: a.flags ?? 0, faults: a.faults ?? [],
    ...(a.arg_readonly === undefined ? {} : { arg_readonly: a.arg_readonly }),
  };
}

export interface InitMemRegionArgs {
  readonly at?: number;
  readonly hw_error?: number;
  readonly gpa?: number;
  readonly source_addr?: number;
  readonly nr_pages?: number | bigint;
  readonly flags?: number;
  readonly arg_readonly?: boolean;
  readonly faults?: readonly Fault[];
  /** Through vCPU 1's fd (the scenario needs `vcpus: 2`). */
  readonly vcpu?: 1;
}

export function initMemRegion(a: InitMemRegionArgs = {}): Op {
  return {
    kind: 'tdx_init_mem_region', source_addr: a.source_addr ?? SRC, gpa: a.gpa ?? (BASE_GFN + (a.at ?? 0)) * PS,
    nr_pages: BigInt(a.nr_pages ?? 1), flags: a.flags ?? KVM_TDX_MEASURE_MEMORY_REGION, faults: a.faults ?? [],
    ...(a.hw_error === undefined ? {} : { hw_error: a.hw_error }),
    ...(a.arg_readonly === undefined ? {} : { arg_readonly: a.arg_readonly }),
    ...(a.vcpu === undefined ? {} : { vcpu: a.vcpu }),
  };
}

/** pfn of the folio at slot-relative index `at` (no pgoff), or undefined. */
export function folioPfn(w: World, at: number): number | undefined {
  return w.gmem.files.get(GMEM)?.folios.get(at)?.pfn;
}

/** A bare world with the kernel services bound, for service-level tests. */
export function smallWorld(backend: BackendId = 'snp', geo: Geometry = GEO): { w: World; k: KernelServices } {
  const w = createWorld(geo, backend === 'snp' ? createSnpState() : createTdxState(), {}, false);
  return { w, k: kernelServices(w) };
}

export function page(w: World, pfn: number): HostPage {
  const p = hostPage(w.host, pfn);
  if (p === undefined) throw new Error(`no page 0x${pfn.toString(16)}`);
  return p;
}

/** Events of one kind, narrowed. */
export function eventsOf<K extends World['log'][number]['kind']>(w: World, kind: K): Extract<World['log'][number], { kind: K }>[] {
  return w.log.filter((e): e is Extract<World['log'][number], { kind: K }> => e.kind === kind);
}
