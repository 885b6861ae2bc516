import { currentSite, emit, fwUnitSize, type World } from '../world/World.js';
import { nextFault } from '../kernel/faults.js';
import { switchPoint } from '../world/switchPoint.js';

/**
 * A firmware command as TF-RMM's CBMC testbenches state one: an ordered list of named failure
 * conditions (the first that holds decides the status), then the success effects.
 *
 * A condition with `when` is a spec condition, evaluated from state. A condition without it is
 * a platform condition (contention, an internal error, content the model does not interpret):
 * it holds only when the operation's fault plan forces it. Either way an earlier condition
 * that holds takes priority, as in the testbenches' antecedents.
 */
export interface FailureCondition<A> {
  /** `<object>_<aspect>`, unique within the command. */
  readonly id: string;
  /** Status the firmware returns (its own name for it). */
  readonly status: string;
  readonly when?: (args: A, w: World) => boolean;
  /** For a platform condition: the invocations it can affect at all (default: every one). */
  readonly applies?: (args: A) => boolean;
  /** Extra effect of this failure (e.g. SNP writes the corrected CPUID table back). */
  readonly effect?: (args: A, w: World) => void;
  /** Index the status carries (RMI_RETURN_INDEX: the RTT level a walk reached). */
  readonly index?: (args: A, w: World) => number;
}

export interface FirmwareCommand<A, R> {
  readonly name: string;
  /** Spec document and version the table encodes. */
  readonly spec: string;
  readonly failures: readonly FailureCondition<A>[];
  readonly success: (args: A, w: World) => R;
  readonly describe: (args: A) => string;
  /** Physical address of the page or granule the command acts on, if any (for the invariants). */
  readonly target?: (args: A, w: World) => number;
  /** If success hands the target page to the guest (makes it private), the GPA it gets. */
  readonly grants?: (args: A) => number | null;
}

export type FwResult<R> =
  | { readonly kind: 'succeeded'; readonly result: R }
  | { readonly kind: 'failed'; readonly condition: string; readonly status: string; readonly index: number };

export function defineFirmwareCommand<A, R>(cmd: FirmwareCommand<A, R>): FirmwareCommand<A, R> {
  const ids = new Set(cmd.failures.map((f) => f.id));
  if (ids.size !== cmd.failures.length) throw new Error(`${cmd.name}: duplicate condition ids`);
  return cmd;
}

/** Condition ids a fault plan may force: the platform conditions. */
export function platformConditions<A, R>(cmd: FirmwareCommand<A, R>): string[] {
  return cmd.failures.filter((f) => f.when === undefined).map((f) => f.id);
}

export function invokeFirmware<A, R>(w: World, cmd: FirmwareCommand<A, R>, args: A): FwResult<R> {
  // Stryker disable next-line StringLiteral,ObjectLiteral: the scheduler tells switch points apart only as lock, unlock and fault (model/concurrent); a fw point's fields are never read, so any label schedules the same.
  switchPoint(w, { kind: 'fw', cmd: cmd.name, site: currentSite(w) });
  const addr = cmd.target?.(args, w) ?? 0;
  const byCall = nextFault(w, `fw:${cmd.name}`);
  const byUnit = addr === 0 ? undefined : nextFault(w, `fw:${cmd.name}@${Math.floor((addr % w.geo.page_size) / fwUnitSize(w))}`);
  const planned = byCall ?? byUnit;
  const forced = planned?.kind === 'fw' ? planned.condition : undefined;
  const pfn = Math.floor(addr / w.geo.page_size);
  const failed = cmd.failures.find((f) => (f.when === undefined ? f.id === forced && (f.applies?.(args) ?? true) : f.when(args, w)));
  if (failed !== undefined) {
    const index = failed.index?.(args, w) ?? 0;
    emit(w, { kind: 'fw', cmd: cmd.name, args: cmd.describe(args), pfn, addr, grantGpa: null, outcome: { kind: 'failed', condition: failed.id, status: failed.status, forced: failed.when === undefined, index } });
    failed.effect?.(args, w);
    return { kind: 'failed', condition: failed.id, status: failed.status, index };
  }
  emit(w, { kind: 'fw', cmd: cmd.name, args: cmd.describe(args), pfn, addr, grantGpa: cmd.grants?.(args) ?? null, outcome: { kind: 'succeeded' } });
  return { kind: 'succeeded', result: cmd.success(args, w) };
}
