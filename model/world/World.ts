import type { Geometry } from '../geometry.js';
import type { Fault } from '../scenario/Scenario.js';
import type { SnpState } from '../backends/snp/state.js';
import type { TdxState } from '../backends/tdx/state.js';
import type { CcaState } from '../backends/cca/state.js';
import type { Event } from './events.js';
import { createGmemState, type GmemState, type InPlaceSeriesId } from './gmem.js';
import { createHostMemory, type HostMemory } from './hostMemory.js';
import { createKernelHeap, type KernelHeap } from './kheap.js';
import { createKvmState, type KvmState } from './kvmState.js';
import { createLockState, type LockState } from './locks.js';
import { createUserMm, type UserMm } from './userspaceMm.js';
import { OP_WORK_LIMIT, SoftLockup } from './lockup.js';

/** Firmware (and vendor KVM) state, tagged by backend. */
export type BackendState = SnpState | TdxState | CcaState;

/** The fault plan of the operation being run, with per-kind counters. */
export interface FaultCursor {
  readonly plan: readonly Fault[];
  /** Calls seen so far in this op, by counter key (`gup`, `alloc:folio`, `signal`, `fw:CMD`). */
  readonly seen: Map<string, number>;
}

/**
 * The whole modelled machine, grouped by owner. Everything except `log`, `stack` and the
 * provenance arrays is state the kernel or firmware has; those three are ghost state.
 */
export interface World {
  readonly geo: Geometry;
  readonly host: HostMemory;
  /** Free pfns, kept sorted so allocation is deterministic. */
  readonly freeList: number[];
  readonly heap: KernelHeap;
  readonly mm: UserMm;
  readonly gmem: GmemState;
  readonly kvm: KvmState;
  readonly locks: LockState;
  readonly fw: BackendState;
  /** Ghost: the event log. */
  readonly log: Event[];
  /** Ghost: kernel functions being executed (innermost last), for call sites. */
  readonly stack: string[];
  /** Thread issuing the current operation. */
  thread: number;
  faults: FaultCursor;
  readonly ub: Readonly<Record<string, number>>;
  /** Log `call`/`ret` events for every kernel function (for traces; off in bulk runs). */
  readonly traceCalls: boolean;
  /** Per-thread kmap_local stack (CONFIG_DEBUG_KMAP_LOCAL_FORCE_MAP: one slot a mapping). */
  readonly kmaps: Map<number, { readonly vaddr: number; readonly pfn: number }[]>;
  /** Calls from services back into kernel code (set by the runner once the kernel is bound). */
  hooks: WorldHooks;
  /** Observers of every event as it happens (invariant monitors). */
  readonly listeners: ((e: Event) => void)[];
  /**
   * Kernel work done by the current operation (events logged, kernel functions entered) and the
   * budget after which it is a soft lockup (lockup.ts); Infinity while the runner reports one.
   */
  work: { done: number; limit: number; tripped?: SoftLockup };
  /** Kernel functions executing when an exception first left kernel code (innermost last). */
  crashStack: readonly string[] | undefined;
  /**
   * Order of the huge folios guest_memfd tries first (the hugepages what-if, model/whatIf.ts);
   * 0 on every machine a merged kernel gives: single pages only.
   */
  gmemHugeOrder: number;
  /**
   * The in-place what-if (model/whatIf.ts): the in-place conversion series the kernel has applied
   * (model/kernel/guest_memfd_inplace.ts), undefined on every merged kernel.
   */
  gmemInPlace: InPlaceSeriesId | undefined;
}

export interface WorldHooks {
  /** `aops->free_folio` of guest_memfd: runs when a folio's last reference goes. */
  free_folio(pfn: number): void;
  /**
   * `vm_ops->fault` of a guest_memfd mapping (the generation's kvm_gmem_fault_user_mapping()):
   * what handle_mm_fault() runs when GUP or a uaccess meets a page of the VMM's mapping of `file`
   * with no PTE. A VM_FAULT_* code.
   */
  gmem_fault(file: number, index: number): number;
}

export function createWorld(geo: Geometry, fw: BackendState, ub: Readonly<Record<string, number>>, traceCalls: boolean): World {
  const host = createHostMemory(geo);
  return {
    geo,
    host,
    freeList: host.pages.map((p) => p.pfn),
    heap: createKernelHeap(),
    mm: createUserMm(),
    gmem: createGmemState(),
    kvm: createKvmState(),
    locks: createLockState(),
    fw,
    log: [],
    stack: [],
    thread: 0,
    faults: { plan: [], seen: new Map() },
    ub,
    traceCalls,
    kmaps: new Map(),
    // Until a kernel is bound no fault handler exists: VM_FAULT_SIGBUS (0x0002, linux/mm_types.h).
    hooks: { free_folio: () => undefined, gmem_fault: () => 0x0002 },
    listeners: [],
    work: { done: 0, limit: OP_WORK_LIMIT },
    crashStack: undefined,
    gmemHugeOrder: 0,
    gmemInPlace: undefined,
  };
}

/** One unit of kernel work; past the operation's budget, a soft lockup. */
export function doWork(w: World): void {
  if (++w.work.done <= w.work.limit) return;
  // Unwinding runs cleanup code that does more work and throws again: the first one counts.
  w.work.tripped ??= new SoftLockup(currentSite(w), w.work.done);
  throw w.work.tripped;
}

export function emit(w: World, e: Event): void {
  doWork(w);
  w.log.push(e);
  for (const l of w.listeners) l(e);
}

/** The kernel function currently executing, for events' `site`. */
export function currentSite(w: World): string {
  return w.stack[w.stack.length - 1] ?? 'userspace';
}

/** Bytes of the firmware's unit of ownership on this machine: a CCA granule, else the page. */
export function fwUnitSize(w: World): number {
  return w.fw.backend === 'cca' ? w.fw.granule_size : w.geo.page_size;
}
