import { describe, expect, test } from 'vitest';
import { EFAULT } from '../../model/kernel/errno.js';
import { runScenario } from '../../model/scenario/runScenario.js';
import type { Fault } from '../../model/scenario/Scenario.js';
import { rev } from '../invariants/caseTable.js';
import { scenario, setupOps } from './fixtures.js';

/**
 * snp_launch_update_vmsa() in its v6.11 .. v7.0 form (model/backends/snp/sev_vmsa.ts), run by
 * KVM_SEV_SNP_LAUNCH_FINISH: what the written-back `error` holds after a success, and that an
 * RMPUPDATE refused while the VMSA is made private ends the ioctl there (svm/sev.c@0097f9df:
 * `if (ret) return ret;` before the firmware sees the page). The backend mutation run left both
 * unasserted (reports/mutation-triage.md, sev_vmsa.ts:35 and :93).
 */
describe('snp_launch_update_vmsa() (v7.0)', () => {
  const finish = (...faults: Fault[]) => {
    const r = runScenario(scenario('snp', [...setupOps(), { kind: 'snp_launch_finish', faults }]), rev('v7.0'));
    const at = r.world.log.findIndex((e) => e.kind === 'op_begin' && e.op.kind === 'snp_launch_finish');
    expect(at).toBeGreaterThan(0);
    return { r, fw: r.world.log.slice(at).flatMap((e) => (e.kind === 'fw' ? [[e.cmd, e.outcome.kind]] : [])) };
  };

  test('a launch that finishes writes back error 0', () => {
    const { r, fw } = finish();
    expect(r.results.at(-1)).toMatchObject({ ret: 0, out: { error: 0 } });
    expect(fw).toEqual([['RMPUPDATE', 'succeeded'], ['SNP_LAUNCH_UPDATE', 'succeeded'], ['SNP_LAUNCH_FINISH', 'succeeded']]);
  });

  test('an RMPUPDATE refused for the VMSA returns -EFAULT before any firmware command', () => {
    const { r, fw } = finish({ kind: 'fw', cmd: 'RMPUPDATE', condition: 'rmp_inuse', nth: 1 });
    expect(r.results.at(-1)?.ret).toBe(-EFAULT);
    expect(fw).toEqual([['RMPUPDATE', 'failed']]);
  });
});
