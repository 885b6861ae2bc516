import type { Invariant } from './Invariant.js';
import { functionalSpec } from './invariants/functional-spec.js';
import { gmemNoKvmRefs } from './invariants/gmem-no-kvm-refs.js';
import { inPlaceSourceInvariant } from './invariants/in-place-source.js';
import { kmapLocalLifo } from './invariants/kmap-local-lifo.js';
import { leakedPage } from './invariants/leaked-page.js';
import { lockOrder } from './invariants/lock-order.js';
import { measurement } from './invariants/measurement.js';
import { memorySafety } from './invariants/memory-safety.js';
import { noDoublePrivate } from './invariants/no-double-private.js';
import { oops } from './invariants/oops.js';
import { softLockup } from './invariants/soft-lockup.js';
import { privateAttributePrecondition } from './invariants/private-attribute-precondition.js';
import { refcountBalance } from './invariants/refcount-balance.js';
import { returnValueContract } from './invariants/return-value-contract.js';
import { sourceWritePermission } from './invariants/source-write-permission.js';
import { srcOffsetStraddling } from './invariants/src-offset-straddling.js';
import { warnReachable } from './invariants/warn-reachable.js';
import { worldWellFormed } from './invariants/world-well-formed.js';

/** Every invariant, the type invariant first, then by id. */
export const INVARIANTS: readonly Invariant[] = [
  worldWellFormed,
  functionalSpec,
  gmemNoKvmRefs,
  inPlaceSourceInvariant,
  kmapLocalLifo,
  leakedPage,
  lockOrder,
  measurement,
  memorySafety,
  noDoublePrivate,
  oops,
  privateAttributePrecondition,
  refcountBalance,
  returnValueContract,
  softLockup,
  sourceWritePermission,
  srcOffsetStraddling,
  warnReachable,
] as readonly Invariant[];

export function invariantById(id: string): Invariant | undefined {
  return INVARIANTS.find((i) => i.id === id);
}
