import type { BackendModel, PopulateRequest } from '../../model/backends/Backend.js';
import type { Op } from '../../model/scenario/Scenario.js';
import type { World } from '../../model/world/World.js';
import { generationOf, gmemApiOf, hasPreFaultMemory, type RevisionLike } from './generations.js';
import { predictGeneric, type GenericPrediction } from './generic.js';
import type { Row } from './rows.js';
import type { PopulateSpec, Prediction } from './spec.js';
import { SPECS } from './specs.js';

/** What the oracle says of one call, before it runs: a populate ioctl's prediction, a VM ioctl's, or nothing. */
export type CallPrediction =
  | { readonly kind: 'populate'; readonly spec: PopulateSpec; readonly pred: Extract<Prediction, { kind: 'verdict' }>; readonly req: PopulateRequest }
  | { readonly kind: 'generic'; readonly generic: GenericPrediction };

/**
 * The oracle's prediction for `op` on `w` for the revision under check (functional-spec judges
 * it; bench/oracle.ts counts the rows it reaches). None for a revision whose uAPI generation is
 * unknown, and none once the VM is dead or closed: it then answers every ioctl alike.
 */
export function predictCall(op: Op, w: World, backend: BackendModel, revision: RevisionLike | undefined): CallPrediction | undefined {
  const gen = revision === undefined ? undefined : generationOf(revision, backend.id);
  if (revision === undefined || gen === undefined || w.kvm.vm_bugged || w.kvm.vm_fd_closed || w.kvm.destroyed) return undefined;
  const req = backend.populateRequest(op, w.geo);
  if (req === undefined) {
    const generic = predictGeneric(op, w, backend.id, gmemApiOf(revision, w.gmemInPlace !== undefined), hasPreFaultMemory(revision));
    return generic === undefined ? undefined : { kind: 'generic', generic };
  }
  const spec = SPECS[gen];
  if (spec.backend !== backend.id) return undefined;
  const pred = spec.predict(op, w, backend);
  return pred.kind === 'none' ? undefined : { kind: 'populate', spec, pred, req };
}

/** The rows that decide a predicted call. */
export function callRows(c: CallPrediction): readonly Row[] {
  return c.kind === 'populate' ? c.pred.rows : [c.generic.row];
}
