import type { BackendModel } from '../../model/backends/Backend.js';
import type { Op } from '../../model/scenario/Scenario.js';
import type { World } from '../../model/world/World.js';
import { watch, type Invariant, type Violation } from '../../properties/Invariant.js';

/**
 * Runs one invariant's operation-boundary checks on a world built by hand, as if an ioctl had
 * just returned on it: for states no short scenario reaches (a user-mapped guest_memfd page,
 * a leaked page still referenced), so a case table can pin what the invariant accounts for.
 * `during` is what the operation does to the world.
 */
export function auditWorld(inv: Invariant, w: World, backend: BackendModel, during?: () => void): readonly Violation[] {
  const run = watch(inv);
  const op: Op = { kind: 'close_vm' };
  run.observer.opBegin?.(0, op, w, backend);
  // What the "ioctl" did: invariants that report a leak once, by the operation it arose in,
  // see only what changed between the operation's start and end.
  during?.();
  run.observer.opEnd?.({ index: 0, op, ret: 0, out: {} }, w, backend);
  return run.violations;
}
