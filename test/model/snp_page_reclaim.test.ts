import { describe, expect, test } from 'vitest';
import { snpOf } from '../../model/backends/snp/access.js';
import { isPreGuest, rmpEntry } from '../../model/backends/snp/state.js';
import { EIO } from '../../model/kernel/errno.js';
import { runScenario } from '../../model/scenario/runScenario.js';
import type { Fault } from '../../model/scenario/Scenario.js';
import { rev } from '../invariants/caseTable.js';
import { launchUpdate, scenario, setupOps } from './fixtures.js';

/**
 * snp_page_reclaim() (model/backends/snp/sev.ts), reached when SNP_LAUNCH_UPDATE fails and
 * sev_gmem_post_populate() hands the page back. On success the page is reclaimed and made
 * shared; when the firmware refuses the reclaim the C bugs the VM with its own message, leaks the
 * page and returns at once, without the RMPUPDATE (kvm-x86 sev.c@1a27afa0, kernel-facts §2.5).
 * The first backend mutation run left that early return unasserted (sev.ts:54, three mutants):
 * without it, kvm_rmp_make_shared() fails on the still-immutable page and bugs and leaks too,
 * so the matrix could not tell the two apart.
 */
describe('snp_page_reclaim()', () => {
  const run = (...faults: Fault[]) => {
    const r = runScenario(scenario('snp', [...setupOps(), launchUpdate({
      at: 0, faults: [{ kind: 'fw', cmd: 'SNP_LAUNCH_UPDATE', condition: 'fw_resource', nth: 1 }, ...faults],
    })]), rev('v7.0'));
    const at = r.world.log.findIndex((e) => e.kind === 'op_begin' && e.op.kind === 'snp_launch_update');
    expect(at).toBeGreaterThan(0);
    const after = r.world.log.slice(at);
    const fw = after.flatMap((e) => (e.kind === 'fw' ? [[e.cmd, e.outcome.kind]] : []));
    const pfn = after.flatMap((e) => (e.kind === 'fw' && e.cmd === 'SNP_LAUNCH_UPDATE' ? [e.pfn] : []))[0];
    if (pfn === undefined) throw new Error('no SNP_LAUNCH_UPDATE');
    return { r, after, fw, pfn };
  };

  test('reclaims the page a failed SNP_LAUNCH_UPDATE left, then makes it shared', () => {
    const { r, after, fw, pfn } = run();
    expect(r.results.at(-1)?.ret).toBe(-EIO);
    expect(fw).toEqual([['RMPUPDATE', 'succeeded'], ['SNP_LAUNCH_UPDATE', 'failed'], ['SNP_PAGE_RECLAIM', 'succeeded'], ['RMPUPDATE', 'succeeded']]);
    expect(rmpEntry(snpOf(r.world), pfn).assigned).toBe(false);
    expect(after.filter((e) => e.kind === 'page_leak' || e.kind === 'warn')).toEqual([]);
    expect(r.world.kvm.vm_bugged).toBe(false);
  });

  test('a refused reclaim bugs the VM, leaks the page once and stops there', () => {
    const { r, after, fw, pfn } = run({ kind: 'fw', cmd: 'SNP_PAGE_RECLAIM', condition: 'page_address', nth: 1 });
    expect(fw).toEqual([['RMPUPDATE', 'succeeded'], ['SNP_LAUNCH_UPDATE', 'failed'], ['SNP_PAGE_RECLAIM', 'failed']]);
    expect(after.filter((e) => e.kind === 'warn').map((e) => [e.macro, e.message])).toEqual([
      ['KVM_BUG', expect.stringMatching(new RegExp(`^Failed to reclaim PFN ${pfn.toString(16)}, rc -\\d+ fw_err \\d+$`))],
    ]);
    expect(after.filter((e) => e.kind === 'page_leak').map((e) => e.kind === 'page_leak' && e.pfn)).toEqual([pfn]);
    expect(r.world.kvm.vm_bugged).toBe(true);
    expect(isPreGuest(rmpEntry(snpOf(r.world), pfn))).toBe(true);
  });
});
