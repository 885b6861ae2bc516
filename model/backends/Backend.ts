import type { MeasureEntry } from '../world/events.js';
import type { World, BackendState } from '../world/World.js';
import type { BackendId, Op, Scenario } from '../scenario/Scenario.js';
import type { Revision } from '../revisions/Revision.js';
import type { KvmMainK } from '../kernel/kvm_main.js';
import type { FirmwareCommand } from './firmwareCommand.js';
import type { Geometry } from '../geometry.js';

/** What the firmware says a host page (or one of its granules) is, for the invariants. */
export type FwOwnership =
  | { readonly kind: 'host' }
  /** Taken from the host but not (or no longer) the guest's memory: a DELEGATED granule, an RTT or RD. */
  | { readonly kind: 'firmware'; readonly state: string }
  /** The guest's memory at `gpa` (RMP-assigned, TD-owned, a DATA granule). */
  | { readonly kind: 'guest'; readonly gpa: number; readonly state: string };

/** What one populate ioctl asked for, in backend-neutral terms. */
export interface PopulateRequest {
  readonly gfn_start: number;
  /**
   * Pages the call asks for, or, for a count past the machine (a TDX nr_pages from 2^52 on, whose
   * size wraps), the machine's pages: each page a call adds takes a host page, so no call can
   * add more, and the invariants that look at each page of the range stay bounded.
   */
  readonly npages: number;
  /** User address of the source buffer, 0 for none. */
  readonly src: number;
  /** Page type (SNP) or measure flag (TDX): what the measurement records for each page. */
  readonly flavour: string;
  /** The ioctl may write back into the source (SNP CPUID). */
  readonly may_write_source: boolean;
}

/**
 * What an ioctl returned to userspace: its return value and the fields userspace reads back.
 * `lost`: the copy back of its struct faulted (a read-only mapping, Op `arg_readonly`) and
 * returned -EFAULT; what the kernel had computed then (its return value, where the backend knows
 * it, and the struct it failed to write), which userspace never sees but the work was done.
 */
export interface OpOutcome {
  readonly ret: number;
  readonly out: Readonly<Record<string, number>>;
  readonly lost?: { readonly ret: number; readonly out: Readonly<Record<string, number>> };
}

/** The bound kernel of one run: the generic entry points, and the vendor's own ioctls. */
export interface BootedKernel {
  readonly k: KvmMainK;
  /** Runs one of this backend's ioctls (`ops`); undefined for any other op. */
  runOp(op: Op): OpOutcome | undefined;
  /** kvm_arch_destroy_vm()'s vendor part, run by kvm_destroy_vm() before the memslots go. */
  destroyVm?(): void;
}

/** A vendor backend: firmware state and commands, ioctls, and views invariants read. */
export interface BackendModel {
  readonly id: BackendId;
  readonly title: string;
  createState(scenario: Scenario, revision: Revision): BackendState;
  /**
   * Binds the kernel for a machine of this backend: the generic services and kernel code, the
   * vendor's services, unchanged vendor code and arch hooks, then the revision's functions.
   * A backend is added without touching the core by providing this.
   */
  boot(w: World, revision: Revision): BootedKernel;
  /** Every firmware command, for coverage and fault plans. */
  readonly firmware: readonly FirmwareCommand<never, unknown>[];
  /** The op kinds that are this backend's ioctls. */
  readonly ops: readonly Op['kind'][];
  /** The populate ioctl's request, or undefined for other ops. */
  populateRequest(op: Op, geo: Geometry): PopulateRequest | undefined;
  /** Pages the ioctl reported as populated (from its return value and written-back arguments). */
  populatedCount(op: Op, ret: number, out: Readonly<Record<string, number>>, page_size: number): number;
  /** A page is the guest's if any of it is, else the firmware's if any of it is. */
  ownership(w: World, pfn: number): FwOwnership;
  /** The unit (page, or CCA granule) containing physical address `pa`. */
  ownershipAt(w: World, pa: number): FwOwnership;
  /** The launch measurement register's entries so far. */
  measurement(w: World): readonly MeasureEntry[];
  /** The entries a correct populate of one page appends (a pure function of what was populated). */
  expectedMeasurement(req: PopulateRequest, gfn: number, source: Uint8Array, w: World): MeasureEntry[];
  /**
   * The entries an operation other than populate may append, at most once each (SNP's
   * LAUNCH_FINISH measures the vCPUs' VMSAs); every other operation appends none.
   */
  otherMeasurement?(op: Op): readonly Pick<MeasureEntry, 'what' | 'gpa'>[];
  /** Pages the kernel deliberately took out of circulation (snp_leak_pages). */
  leakedByDesign(w: World): readonly number[];
  /**
   * KVM's own page tables map `pfn` for the guest (TDX's mirror SPTEs). Before v6.19 TDX pinned
   * every page it mapped, also one only premapped (no TDH.MEM.PAGE.ADD yet): a reference the
   * mapping owns, not a leak. Absent: no such mapping.
   */
  mappedByKvm?(w: World, pfn: number): boolean;
}
