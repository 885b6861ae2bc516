import fc from 'fast-check';
import type { BackendId, Op, Scenario } from '../model/scenario/Scenario.js';
import { hugeLayoutArb, layoutArb, type Layout } from './layout.js';
import { attributesOpArb, u64EdgeArb, closeArb, memslotArb, munmapArb, punchHoleArb, remapArb, secondSlotArb, setupArb, teardownArb, userFaultArb } from './ops/common.js';
import { snpLaunchFinishArb, snpLaunchUpdateArb } from './ops/snp.js';
import { tdxFinalizeArb, tdxInitMemRegionArb } from './ops/tdx.js';
import type { RmmVersion } from '../model/revisions/Revision.js';
import type { WhatIfMode } from '../model/whatIf.js';
import { armActivateArb, armPopulateArb, ccaSetupArb } from './ops/cca.js';
import { ubArb } from './ub.js';

/** One operation after set-up: populate most of the time, the other operations around it. */
export function bodyOpArb(backend: BackendId, l: Layout, granulesPerPage = 1, rmm: RmmVersion = 'v1.0'): fc.Arbitrary<Op> {
  const populate = { snp: () => snpLaunchUpdateArb(l), tdx: () => tdxInitMemRegionArb(l), cca: () => armPopulateArb(l, granulesPerPage, rmm) }[backend]();
  const finish = { snp: snpLaunchFinishArb, tdx: tdxFinalizeArb, cca: armActivateArb }[backend]();
  return fc.oneof(
    { arbitrary: populate, weight: 12 },
    { arbitrary: userFaultArb(l), weight: 2 },
    { arbitrary: attributesOpArb(l), weight: 2 },
    { arbitrary: punchHoleArb(backend, l, rmm), weight: 4 },
    { arbitrary: munmapArb(l), weight: 1 },
    { arbitrary: remapArb(l), weight: 1 },
    { arbitrary: memslotArb(l), weight: 2 },
    { arbitrary: finish, weight: 3 },
    { arbitrary: closeArb(backend, rmm), weight: 1 },
  );
}

/**
 * A whole scenario for one backend: a layout, its set-up, one to six operations drawn from the
 * layout (so few runs are wasted on arguments that cannot work, while invalid ones still come
 * up), an optional tear-down, and the values undefined behaviour takes. The machine is one the
 * revision's kernel accepts unless `whatIf` names a mode that lifts its guard (model/whatIf.ts).
 */
export function scenarioArb(backend: BackendId, rmm: RmmVersion = 'v1.0', whatIf?: WhatIfMode): fc.Arbitrary<Scenario> {
  if (whatIf === 'hugepages') {
    return hugeLayoutArb().chain(({ layout, order }) => scenarioOn(backend, rmm, layout, { granules_per_page: 1, rtt_depth: 0 }).map((s): Scenario => ({ ...s, hugepages: { order } })));
  }
  return fc.tuple(layoutArb(), ccaSetupArb(rmm, whatIf)).chain(([l, cca]) => scenarioOn(backend, rmm, l, cca));
}

function scenarioOn(backend: BackendId, rmm: RmmVersion, l: Layout, cca: NonNullable<Scenario['cca']>): fc.Arbitrary<Scenario> {
  return (
    fc
      .record({
        setup: fc
          .tuple(setupArb(l, backend), fc.option(secondSlotArb(l), { freq: 8, nil: [] }), fc.oneof({ arbitrary: fc.constant<Op[]>([]), weight: 4 }, { arbitrary: u64EdgeArb(l), weight: 1 }))
          .map(([a, b, c]) => [...a, ...b, ...c]),
        body: fc.array(bodyOpArb(backend, l, cca.granules_per_page, rmm), { minLength: 1, maxLength: 6 }),
        teardown: teardownArb(backend, rmm, l, cca.granules_per_page),
        ub: ubArb(backend),
      })
      .map(({ setup, body, teardown, ub }): Scenario => ({
        backend, geometry: l.geometry, ops: [...setup, ...body, ...teardown], ub, ...(backend === 'cca' ? { cca } : {}),
      }))
  );
}
