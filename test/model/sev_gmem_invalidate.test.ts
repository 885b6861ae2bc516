import { describe, expect, test } from 'vitest';
import { snpOf } from '../../model/backends/snp/access.js';
import { runScenario } from '../../model/scenario/runScenario.js';
import type { Fault, Op } from '../../model/scenario/Scenario.js';
import { rev } from '../invariants/caseTable.js';
import { GMEM, PS, allocate, launchUpdate, scenario, setupOps } from './fixtures.js';

/**
 * sev_gmem_invalidate() (model/backends/snp/sev.ts, 4K form) as a folio is freed: RMPUPDATE to
 * shared for each page the RMP has assigned and for no other, and a WARN, not an error, when
 * that RMPUPDATE fails (the page stays the guest's). The first backend mutation run
 * (reports/mutation-triage.md) found both unasserted: the matrix cannot tell an RMPUPDATE of a
 * shared page (a no-op) from none.
 */
describe('sev_gmem_invalidate()', () => {
  const punch = (faults: readonly Fault[] = []): Op => ({ kind: 'punch_hole', guest_memfd: GMEM, offset: 0, len: 2 * PS, faults });
  const run = (last: Op) => {
    // Page 0 populated (the guest's, validated), page 1 allocated and left shared.
    const r = runScenario(scenario('snp', [...setupOps(), launchUpdate({ at: 0 }), allocate({ at: 1 }), last]), rev('v7.0'));
    const at = r.world.log.findIndex((e) => e.kind === 'op_begin' && e.op.kind === 'punch_hole');
    expect(at).toBeGreaterThan(0);
    return { r, after: r.world.log.slice(at) };
  };

  test('makes shared only the pages the RMP has assigned', () => {
    const { r, after } = run(punch());
    expect(r.results.at(-1)?.ret).toBe(0);
    expect(after.filter((e) => e.kind === 'fw').map((e) => [e.cmd, e.outcome.kind])).toEqual([['RMPUPDATE', 'succeeded']]);
    expect(snpOf(r.world).rmp.size).toBe(0);
  });

  test('a failed RMPUPDATE WARNs, and the page stays the guest\'s', () => {
    const { r, after } = run(punch([{ kind: 'fw', cmd: 'RMPUPDATE', condition: 'rmp_inuse', nth: 1 }]));
    expect(after.filter((e) => e.kind === 'warn').map((e) => e.message)).toEqual([expect.stringMatching(/^SEV: Failed to update RMP entry for PFN 0x[0-9a-f]+ error -14$/)]);
    expect([...snpOf(r.world).rmp.values()].map((e) => e.assigned)).toEqual([true]);
  });
});
