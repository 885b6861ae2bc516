import { describe, expect, test } from 'vitest';
import { tdxOf } from '../../model/backends/tdx/access.js';
import { runScenario, type RunResult } from '../../model/scenario/runScenario.js';
import type { Fault, Op } from '../../model/scenario/Scenario.js';
import { hostPage } from '../../model/world/hostMemory.js';
import { rev } from '../invariants/caseTable.js';
import { GMEM, PS, initMemRegion, scenario, setupOps } from './fixtures.js';

/**
 * The premapped S-EPT entry of the v6.16 .. v6.18 TDX MMU (model/backends/tdx/tdx_v6_16.ts,
 * kernelorg-mirror/virt_kvm_kvm:arch/x86/kvm/vmx/tdx.c@6249af46): a busy TDH.MEM.PAGE.ADD leaves
 * the prefetch fault's mirror SPTE set, its page pinned and counted in nr_premapped, never added.
 * Zapping it takes tdx_sept_zap_private_spte()'s premap arm: TDH.MEM.RANGE.BLOCK finds no leaf
 * (TDX_EPT_ENTRY_STATE_INCORRECT), the count drops, the pin goes, nothing is removed and the VM
 * lives. The mutation run of tdx_v6_16.ts left this arm unasserted (reports/mutation-triage.md).
 */
const S = setupOps();
const busy = (cmd: string, nth = 1): Fault => ({ kind: 'fw', cmd, condition: 'tdr_busy', nth });
const punch = (page: number, ...faults: Fault[]): Op => ({ kind: 'punch_hole', guest_memfd: GMEM, offset: page * PS, len: PS, faults });

function run(ops: readonly Op[]) {
  const r = runScenario(scenario('tdx', ops), rev('v6.17'));
  const at = r.world.log.findIndex((e) => e.kind === 'op_begin' && e.op.kind === 'punch_hole');
  const fw = r.world.log.slice(at).flatMap((e) => (e.kind === 'fw' ? [`${e.cmd}:${e.outcome.kind === 'failed' ? e.outcome.condition : 'ok'}`] : []));
  return { r, fw, t: tdxOf(r.world) };
}

const refcountOf = (r: RunResult, pfn: number): number | undefined => hostPage(r.world.host, pfn)?.refcount;

describe('v6.17 TDX: zapping a premapped entry', () => {
  test('an added page is blocked, removed and written back; the VM lives', () => {
    const { r, fw, t } = run([...S, initMemRegion(), punch(0)]);
    expect(fw).toEqual(['TDH.MEM.RANGE.BLOCK:ok', 'TDH.MEM.PAGE.REMOVE:ok', 'TDH.PHYMEM.PAGE.WBINVD:ok']);
    expect([r.world.kvm.vm_bugged, t.kvm_tdx.nr_premapped, t.module.sept.size, t.mirror.size]).toEqual([false, 0, 0, 0]);
  });

  // tdx_sept_drop_private_spte() clears the page with the host's own key once it is written back
  // (tdx_clear_page(), v6.16 .. v6.18; tdx_quirk_reset_page() on the new MMU) before the pin goes.
  test.each(['v6.17', 'kvm-x86-next'])('%s: the removed page is cleared by the host after its write-back', (id) => {
    const added = runScenario(scenario('tdx', [...S, initMemRegion()]), rev(id));
    const pfn = [...tdxOf(added.world).module.pamt.keys()][0];
    const r = runScenario(scenario('tdx', [...S, initMemRegion(), punch(0)]), rev(id));
    const log = r.world.log.slice(r.world.log.findIndex((e) => e.kind === 'op_begin' && e.op.kind === 'punch_hole'));
    const wbinvd = log.findIndex((e) => e.kind === 'fw' && e.cmd === 'TDH.PHYMEM.PAGE.WBINVD');
    const clear = log.findIndex((e) => e.kind === 'mem_write' && e.pfn === pfn);
    expect(pfn).toBeDefined();
    expect(log[clear]).toEqual({ kind: 'mem_write', pfn, offset: 0, len: PS, via: 'host' });
    expect(clear).toBeGreaterThan(wbinvd);
    expect(wbinvd).toBeGreaterThan(0);
  });

  test('a premapped entry (PAGE.ADD busy) is dropped without a removal: count 0, pin released, VM alive', () => {
    const before = run([...S, initMemRegion({ faults: [busy('TDH.MEM.PAGE.ADD')] })]);
    const pfn = [...before.t.mirror.values()][0] ?? 0;
    expect([before.t.kvm_tdx.nr_premapped, before.t.mirror.size]).toEqual([1, 1]);
    const pinned = refcountOf(before.r, pfn) ?? 0;
    const { r, fw, t } = run([...S, initMemRegion({ faults: [busy('TDH.MEM.PAGE.ADD')] }), punch(0)]);
    expect(fw).toEqual(['TDH.MEM.RANGE.BLOCK:sept_entry_state']);
    expect([r.world.kvm.vm_bugged, t.kvm_tdx.nr_premapped, t.mirror.size]).toEqual([false, 0, 0]);
    // The pin tdx_sept_set_private_spte() took is gone with the folio the punch freed.
    expect(refcountOf(r, pfn) ?? 0).toBeLessThan(pinned);
    expect(r.results.at(-1)?.ret).toBe(0);
  });

  test('BLOCK busy twice on an added page bugs the VM at once, even with another entry premapped', () => {
    // Page 1 premapped by a busy PAGE.ADD, page 0 added; the zap of page 0 meets a BLOCK busy twice.
    const ops = [...S, initMemRegion({ at: 1, faults: [busy('TDH.MEM.PAGE.ADD')] }), initMemRegion(), punch(0, busy('TDH.MEM.RANGE.BLOCK'), busy('TDH.MEM.RANGE.BLOCK', 2))];
    const { r, fw, t } = run(ops);
    expect(r.results.slice(-3, -1).map((x) => x.ret)).toEqual([-16, 0]);
    expect(fw).toEqual(['TDH.MEM.RANGE.BLOCK:tdr_busy', 'TDH.MEM.RANGE.BLOCK:tdr_busy']);
    expect([r.world.kvm.vm_bugged, t.kvm_tdx.nr_premapped, t.module.sept.size]).toEqual([true, 1, 1]);
  });
});
