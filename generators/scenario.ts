import fc from 'fast-check';
import type { BackendId, Op, Scenario } from '../model/scenario/Scenario.js';
import { layoutArb, type Layout } from './layout.js';
import { attributesOpArb, memslotArb, munmapArb, punchHoleArb, remapArb, setupArb, teardownArb, userFaultArb } from './ops/common.js';
import { snpLaunchFinishArb, snpLaunchUpdateArb } from './ops/snp.js';
import { tdxFinalizeArb, tdxInitMemRegionArb } from './ops/tdx.js';
import { ubArb } from './ub.js';

/** One operation after set-up: populate most of the time, the other operations around it. */
export function bodyOpArb(backend: BackendId, l: Layout): fc.Arbitrary<Op> {
  const populate = backend === 'snp' ? snpLaunchUpdateArb(l) : tdxInitMemRegionArb(l);
  const finish = backend === 'snp' ? snpLaunchFinishArb() : tdxFinalizeArb();
  return fc.oneof(
    { arbitrary: populate, weight: 12 },
    { arbitrary: userFaultArb(l), weight: 2 },
    { arbitrary: attributesOpArb(l), weight: 2 },
    { arbitrary: punchHoleArb(backend, l), weight: 2 },
    { arbitrary: munmapArb(l), weight: 1 },
    { arbitrary: remapArb(l), weight: 1 },
    { arbitrary: memslotArb(l), weight: 1 },
    { arbitrary: finish, weight: 2 },
  );
}

/**
 * A whole scenario for one backend: a layout, its set-up, one to six operations drawn from the
 * layout (so few runs are wasted on arguments that cannot work, while invalid ones still come
 * up), an optional tear-down, and the values undefined behaviour takes.
 */
export function scenarioArb(backend: BackendId): fc.Arbitrary<Scenario> {
  return layoutArb().chain((l) =>
    fc
      .record({
        setup: setupArb(l),
        body: fc.array(bodyOpArb(backend, l), { minLength: 1, maxLength: 6 }),
        teardown: teardownArb(backend),
        ub: ubArb(),
      })
      .map(({ setup, body, teardown, ub }): Scenario => ({ backend, geometry: l.geometry, ops: [...setup, ...body, ...teardown], ub })),
  );
}
