import type { BackendModel } from '../../model/backends/Backend.js';
import type { BackendId, Op } from '../../model/scenario/Scenario.js';
import type { Folio } from '../../model/world/gmem.js';
import type { Memslot } from '../../model/world/kvmState.js';
import type { World } from '../../model/world/World.js';
import type { Generation } from './generations.js';
import { GP, type Row } from './rows.js';
import { folioAt, gmemFile, hasGmem, slotAt } from './world.js';
import { EFAULT, EIO } from '../../model/kernel/errno.js';

/**
 * The shape of a populate ioctl's executable specification. A generation's spec predicts, from
 * the world before the ioctl and its arguments, the documented result: which row decides it, the
 * return value, how many pages a correct kernel populates, and (through `fields`) what it writes
 * back. Per-page preconditions are an ordered list of checks, walked page by page: the first
 * page whose check fails stops the population, and the check decides the errno.
 */
export type Out = Readonly<Record<string, number>>;

export interface PageCtx {
  readonly w: World;
  readonly backend: BackendModel;
  /** Index of the page in the request. */
  readonly i: number;
  readonly gfn: number;
  readonly slot: Memslot | undefined;
  readonly folio: Folio | undefined;
  /** pfn of the page backing `gfn`: the folio's page at its index (a large folio's tail, under the hugepages what-if). */
  readonly pfn: number | undefined;
}

export interface PageCheck {
  readonly row: Row;
  /** What this failure returns for the page (from kvm_gmem_populate() or the ioctl's loop). */
  readonly errno: number;
  /** Other answers the trees of the generation give for it, where the document is silent. */
  readonly alsoErrnos?: readonly number[];
  readonly fails: (p: PageCtx) => boolean;
  /** Firmware refusals through which the kernel finds this condition (`cmd:condition`). */
  readonly fw?: readonly string[];
  /**
   * Checked before kvm_gmem_get_pfn() looks the page up (the memslot and file checks, the
   * source's GUP where the generation pins before it): only such a check can answer for a page
   * whose binding is missing (GP.6) instead of __kvm_gmem_get_pfn()'s -EIO.
   */
  readonly beforeGetPfn?: true;
}

export interface Stop {
  readonly page: number;
  readonly rows: readonly Row[];
  readonly errnos: readonly number[];
  readonly fw: readonly string[];
}

export interface Walk {
  /** Pages, from the first, whose every precondition holds, up to the first that fails. */
  readonly passing: number;
  readonly stop?: Stop;
  /**
   * Where some orders stop at a page that others pass (a tree of the generation checks a
   * condition another does not have): the walk of those others, a second allowed answer.
   */
  readonly alt?: Walk;
}

/**
 * Walks pages [0, count) of a request from `gfn0`. Each order is the check sequence of one
 * kernel tree of the generation (usually one); a page fails when any check does, and each
 * order's first failing check is an allowed answer (the trees of one generation may disagree on
 * which of two failing conditions is found first: the document does not say).
 */
export function walkPages(w: World, backend: BackendModel, gfn0: number, count: number, ...orders: (readonly PageCheck[])[]): Walk {
  for (let i = 0; i < count; i++) {
    const gfn = gfn0 + i;
    const slot = slotAt(w, gfn);
    const folio = slot === undefined ? undefined : folioAt(w, slot, gfn);
    const p: PageCtx = { w, backend, i, gfn, slot, folio, pfn: slot === undefined || folio === undefined ? undefined : folio.pfn + (gfn - slot.base_gfn + slot.gmem_pgoff - folio.index) };
    // GP.6: an index a failed bind left unbound fails the page in every generation's
    // __kvm_gmem_get_pfn() (-EIO, no WARN for an empty index), unless a check of the order that
    // runs before the lookup fails first. A released file is not this: it fails before the loop.
    const file = hasGmem(slot) ? gmemFile(w, slot) : undefined;
    const unbound = hasGmem(slot) && file !== undefined && file.bindings.get(gfn - slot.base_gfn + slot.gmem_pgoff) !== slot.id;
    // Each order's answer: its first failing check, or for an unbound page the first failing check
    // before the lookup, else the lookup's own -EIO.
    const first = orders.map((checks) => (unbound ? beforeLookup(checks).find((c) => c.fails(p)) ?? LOOKUP_UNBOUND : checks.find((c) => c.fails(p)))).filter((c): c is PageCheck => c !== undefined);
    if (first.length === 0) continue;
    const rows = [...new Set(first.map((c) => c.row))];
    const passes = unbound ? [] : orders.filter((checks) => !checks.some((c) => c.fails(p)));
    const stop = { page: i, rows, errnos: [...new Set(first.flatMap((c) => [c.errno, ...(c.alsoErrnos ?? [])]))], fw: first.flatMap((c) => c.fw ?? []) };
    return { passing: i, stop, ...(passes.length === 0 ? {} : { alt: walkPages(w, backend, gfn0, count, ...passes) }) };
  }
  return { passing: count };
}

/** GP.6 as the answer of __kvm_gmem_get_pfn() for a page whose binding is missing. */
const LOOKUP_UNBOUND: PageCheck = { row: GP.unbound, errno: -EIO, fails: () => true };

/** The checks of an order up to the first that runs at or after kvm_gmem_get_pfn(). */
function beforeLookup(checks: readonly PageCheck[]): readonly PageCheck[] {
  const at = checks.findIndex((c) => c.beforeGetPfn !== true);
  return at < 0 ? checks : checks.slice(0, at);
}

/** What the documents say one call does. */
export type Prediction =
  | { readonly kind: 'none'; readonly why: string }
  | {
      readonly kind: 'verdict';
      /** The rows that decide the result: the failing condition's, or the success row (and the row that cut the range). */
      readonly rows: readonly Row[];
      /** The return values the documents give. */
      readonly ret: readonly number[];
      /** A correct kernel populates at least `min` and at most `max` pages (equal unless the document allows a short success). */
      readonly min: number;
      readonly max: number;
      /** Set when the outcome is not determined: then only consistency is required, and why. */
      readonly relational?: string;
      /** Firmware refusals the predicted outcome goes through (`cmd:condition`). */
      readonly fw: readonly string[];
      /** Another outcome the generation's trees allow (Walk.alt): a call may match either. */
      readonly or?: Extract<Prediction, { kind: 'verdict' }>;
    };

export function none(why: string): Prediction {
  return { kind: 'none', why };
}

/** A call that fails before any page with `errno` (row decides). */
export function rejected(row: Row, ...errnos: number[]): Prediction {
  return { kind: 'verdict', rows: [row], ret: errnos, min: 0, max: 0, fw: [] };
}

type Verdict = Extract<Prediction, { kind: 'verdict' }>;

/**
 * The ioctl's struct in a read-only mapping (Op `arg_readonly`): every outcome whose path copies
 * the struct back (`copies(ret)`, per generation) answers -EFAULT after its work instead, with
 * the same pages populated; `row` says so, first.
 */
export function copyBackFaults(pred: Prediction, row: Row, copies: (ret: number) => boolean): Prediction {
  const one = (p: Verdict): Verdict => {
    const or = p.or === undefined ? {} : { or: one(p.or) };
    if (!p.ret.some(copies)) return { ...p, ...or };
    return { ...p, rows: [row, ...p.rows], ret: [-EFAULT, ...p.ret.filter((r) => !copies(r))], ...or };
  };
  return pred.kind === 'verdict' ? one(pred) : pred;
}

export interface PopulateSpec {
  readonly gen: Generation;
  readonly backend: BackendId;
  /** The ioctl, as messages name it. */
  readonly ioctl: string;
  readonly doc: string;
  /** Every errno the documents (or, where they are silent, the code) give the ioctl. */
  readonly errnos: readonly number[];
  /** Firmware refusals the kernel resolves itself (an RTT walk it completes): never a reason for doubt. */
  readonly internalFw: readonly string[];
  predict(op: Op, w: World, backend: BackendModel): Prediction;
  /**
   * The pages populated as the return value and the written-back fields say. functional-spec
   * hands it the kernel's outcome (kernelOutcome()): where the copy back faulted, the struct
   * the kernel wrote, which userspace never sees.
   */
  reported(op: Op, ret: number, out: Out, ps: number): number;
  /** Pages that must be populated (and measured) when userspace reads `n` pages and `ret`. */
  mustPopulate(n: number, ret: number): number;
  /**
   * What a correct kernel writes back after `n` pages and `ret` (only the fields it writes);
   * `exact`: no fault fired and no firmware refusal (so no firmware status to report).
   */
  fields(op: Op, n: number, ret: number, ps: number, exact: boolean): Out;
  /** The success return value after `n` pages. */
  success(n: number, ps: number): number;
}
