import type { MeasureEntry } from '../world/events.js';
import type { World, BackendState } from '../world/World.js';
import type { BackendId, Op } from '../scenario/Scenario.js';
import type { Revision } from '../revisions/Revision.js';
import type { KvmMainK } from '../kernel/kvm_main.js';
import type { FirmwareCommand } from './firmwareCommand.js';

/** What the firmware says a host page is, for the invariants. */
export type FwOwnership =
  | { readonly kind: 'host' }
  /** The page belongs to the guest (RMP-assigned, TD-owned, delegated granule). */
  | { readonly kind: 'guest'; readonly gpa: number; readonly state: string };

/** What one populate ioctl asked for, in backend-neutral terms. */
export interface PopulateRequest {
  readonly gfn_start: number;
  readonly npages: number;
  /** User address of the source buffer, 0 for none. */
  readonly src: number;
  /** Page type (SNP) or measure flag (TDX): what the measurement records for each page. */
  readonly flavour: string;
  /** The ioctl may write back into the source (SNP CPUID). */
  readonly may_write_source: boolean;
}

/** The bound kernel of one run: the generic entry points, and the vendor's own ioctls. */
export interface BootedKernel {
  readonly k: KvmMainK;
  /** Runs one of this backend's ioctls (`ops`); undefined for any other op. */
  runOp(op: Op): { ret: number; out: Record<string, number> } | undefined;
}

/** A vendor backend: firmware state and commands, ioctls, and views invariants read. */
export interface BackendModel {
  readonly id: BackendId;
  readonly title: string;
  createState(): BackendState;
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
  populateRequest(op: Op, page_size: number): PopulateRequest | undefined;
  /** Pages the ioctl reported as populated (from its return value and written-back arguments). */
  populatedCount(op: Op, ret: number, out: Readonly<Record<string, number>>, page_size: number): number;
  ownership(w: World, pfn: number): FwOwnership;
  /** The launch measurement register's entries so far. */
  measurement(w: World): readonly MeasureEntry[];
  /** The entries a correct populate of one page appends (a pure function of what was populated). */
  expectedMeasurement(req: PopulateRequest, gfn: number, source: Uint8Array, page_size: number): MeasureEntry[];
  /** Pages the kernel deliberately took out of circulation (snp_leak_pages). */
  leakedByDesign(w: World): readonly number[];
}
