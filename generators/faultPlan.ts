import fc from 'fast-check';
import type { BackendModel } from '../model/backends/Backend.js';
import { platformConditions } from '../model/backends/firmwareCommand.js';
import type { Fault } from '../model/scenario/Scenario.js';

/**
 * Which call of an operation fails, and how: GUP failing outright or pinning short, a folio or
 * kmalloc allocation failing, a signal arriving, or a firmware command failing with one of its
 * platform conditions (the conditions a fault plan may force; spec conditions follow from
 * state). `nth` is small: populate calls make one call per page. Up to two faults per
 * operation, so two failures in one call (a failure and then its cleanup failing) are reached.
 */
export function faultArb(backend: BackendModel, prefer: readonly string[] = []): fc.Arbitrary<Fault> {
  const nth = fc.oneof({ arbitrary: fc.constant(1), weight: 2 }, { arbitrary: fc.integer({ min: 2, max: 3 }), weight: 1 });
  const all = backend.firmware.flatMap((cmd) => platformConditions(cmd).map((condition) => ({ cmd: cmd.name, condition })));
  // Conditions the operation can actually meet get more weight (e.g. cpuid_table for a CPUID page),
  // named by condition or as `COMMAND:condition`.
  const preferred = all.filter((f) => prefer.includes(f.condition) || prefer.includes(`${f.cmd}:${f.condition}`));
  const fw = [...all, ...preferred, ...preferred, ...preferred];
  // Every kind often enough that each budget of runs meets each at least a few times (the
  // coverage minimums); a signal mostly from the first check, as one-page calls make only one.
  const signalNth = fc.oneof({ arbitrary: fc.constant(1), weight: 3 }, { arbitrary: fc.integer({ min: 2, max: 3 }), weight: 1 });
  return fc.oneof(
    { arbitrary: fc.record({ kind: fc.constant('gup' as const), nth, result: fc.constantFrom('efault' as const, 'short' as const) }), weight: 4 },
    // kmalloc()ed arrays exist only in RFC v1; every revision allocates folios.
    { arbitrary: fc.record({ kind: fc.constant('alloc' as const), nth, site: fc.constantFrom('folio' as const, 'folio' as const, 'kmalloc' as const) }), weight: 4 },
    { arbitrary: fc.record({ kind: fc.constant('signal' as const), nth: signalNth }), weight: 3 },
    {
      arbitrary: fc.tuple(fc.constantFrom(...fw), nth).map(([f, n]): Fault => ({ kind: 'fw', cmd: f.cmd, condition: f.condition, nth: n })),
      weight: 5,
    },
  );
}

/**
 * A fault of the populate path's own kernel calls alone: GUP failing or pinning short, a
 * signal, or the folio allocation failing, at the first or second page. faultArb's mix gives
 * each about one populate in 40, and only populates that get past the argument, launch and memslot checks reach them: a cell's
 * budget met GUP's -EFAULT a median of 4 times (tdx/kvm-x86-next-2025.11.07, 30 seeds; 0 under
 * seed 13) once scenarios also started before the launch and drew plain memslots.
 */
export function callFaultArb(): fc.Arbitrary<Fault[]> {
  const nth = fc.constantFrom(1, 1, 2);
  return fc.oneof(
    fc.record({ kind: fc.constant('gup' as const), nth, result: fc.constantFrom('efault' as const, 'short' as const) }),
    fc.record({ kind: fc.constant('signal' as const), nth }),
    // The folio the populate allocates (a memory-cgroup limit): 0 of 1 under seed 18 on rfc-v1.
    fc.record({ kind: fc.constant('alloc' as const), nth, site: fc.constant('folio' as const) }),
  ).map((f): Fault[] => [f]);
}

/** A named firmware failure to combine with its cleanup's failure. */
export interface FwFailure {
  readonly cmd: string;
  readonly condition: string;
  /**
   * For a cleanup whose command the operation also calls once per page before it (SNP's
   * RMPUPDATE: each page's rmp_make_private(), then the failed page's make-shared), how many
   * calls past the failure's nth it is. Without it, the cleanup's first call.
   */
  readonly nthAfter?: number;
}

/**
 * No fault, one fault, or a pair: a failure of the operation's main firmware command at its
 * nth call followed by a failure of the cleanup that runs because of it (`cleanup`, e.g. the
 * SNP_PAGE_RECLAIM after a failed SNP_LAUNCH_UPDATE), the combination behind every leak path.
 */
export function faultPlanArb(backend: BackendModel, prefer: readonly string[] = [], pairs: readonly (readonly [FwFailure, FwFailure])[] = []): fc.Arbitrary<Fault[]> {
  const nth = fc.oneof({ arbitrary: fc.constant(1), weight: 2 }, { arbitrary: fc.integer({ min: 2, max: 3 }), weight: 1 });
  const pair = pairs.length === 0
    ? fc.array(faultArb(backend, prefer), { minLength: 2, maxLength: 2 })
    : fc.tuple(fc.constantFrom(...pairs), nth).map(([[a, b], n]): Fault[] => [
        { kind: 'fw', cmd: a.cmd, condition: a.condition, nth: n },
        { kind: 'fw', cmd: b.cmd, condition: b.condition, nth: b.nthAfter === undefined ? 1 : n + b.nthAfter },
      ]);
  return fc.oneof(
    { arbitrary: fc.constant<Fault[]>([]), weight: 3 },
    { arbitrary: faultArb(backend, prefer).map((f) => [f]), weight: 4 },
    // A failure and its cleanup's failure: every leak path goes through one.
    { arbitrary: pair, weight: 3 },
  );
}
