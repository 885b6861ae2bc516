import { beforeAll, describe, expect, test } from 'vitest';
import { exploreBounded } from '../../model/concurrent/explore.js';
import { loadConcurrent, type ConcurrentModel } from '../../model/concurrent/load.js';
import type { Op, Scenario } from '../../model/scenario/Scenario.js';
import { exploreExhaustive, judgeThreads, raceCasesOf } from '../../properties/interleave.js';
import { GMEM, initMemRegion, launchUpdate, scenario, setupOps } from '../model/fixtures.js';

/**
 * Teardown against a populate under way. The VMM's threads share one fd table, so the populate
 * ioctl holds the VM's fd and kvm_gmem_populate() its own reference to the guest_memfd
 * (kvm_gmem_get_file()); a close() of either by another thread releases nothing until the
 * populate returns: the guest_memfd's release (kvm_gmem_release()) and the VM's destruction run
 * at the last reference (model/scenario/runScenario.ts runOp(), `shared`). Every schedule of up
 * to two preemptions holds on every revision, and in some of them the close lands inside the
 * populate and the release waits for it.
 */
let m: ConcurrentModel;
beforeAll(async () => {
  m = await loadConcurrent();
}, 120_000);

const closeGmem: Op = { kind: 'close_guest_memfd', guest_memfd: GMEM, faults: [] };
const closeVm: Op = { kind: 'close_vm' };
const populate = (backend: 'snp' | 'tdx'): Op => (backend === 'snp' ? launchUpdate() : initMemRegion());
const race = (backend: 'snp' | 'tdx'): Scenario => ({ ...scenario(backend, setupOps()), threads: [[populate(backend)], [closeGmem], [closeVm]] });
const REVISIONS = { snp: ['v6.17', 'v7.0', 'kvm-x86-next'], tdx: ['v6.17', 'kvm-x86-next'] } as const;

describe('close() of the guest_memfd and the VM while a populate is under way', () => {
  for (const backend of ['snp', 'tdx'] as const) {
    for (const revision of REVISIONS[backend]) {
      test(`${backend} × ${revision}: every schedule within 2 preemptions holds; a close inside the populate defers the release until it returns`, () => {
        const all = exploreExhaustive(m, { backend, revision, inPlace: false }, race(backend), 2);
        expect(all.counterexample).toBeUndefined();
        expect(all.complete).toBe(true);
        const r = m.revisionById(revision);
        if (r === undefined) throw new Error(revision);
        let deferred = 0;
        exploreBounded((choose) => {
          const j = judgeThreads(m, race(backend), r, choose);
          return { schedule: j.run.schedule, value: j };
        }, 2, (j) => {
          if (!raceCasesOf(j.run).has('close-in-flight')) return false;
          const log = j.run.world.log;
          const pop = j.run.results.find((x) => x.op.kind === populate(backend).kind);
          const popEnd = log.findIndex((e) => e.kind === 'op_end' && e.index === pop?.index);
          const closeEnd = log.findIndex((e) => e.kind === 'op_end' && j.run.results.some((x) => x.index === e.index && x.op.kind === 'close_guest_memfd'));
          const lastRef = log.findIndex((e) => e.kind === 'file_ref' && e.refcount === 0);
          // The populate succeeds, the close returns first, the last reference goes with the populate.
          if (pop?.ret === 0 && closeEnd >= 0 && closeEnd < lastRef && lastRef < popEnd) deferred++;
          return false;
        });
        expect(deferred).toBeGreaterThan(0);
      });
    }
  }
});

describe('what a close() waits for: each operation under way holds what it came through', () => {
  /** Every schedule within 2 preemptions of `sc`: how many put `close` inside `work`, the teardown deferred to the work's return. */
  const deferredRuns = (sc: Scenario, revision: string, work: Op['kind'], close: Op['kind'], teardown: (e: { kind: string; text?: string; refcount?: number }) => boolean): number => {
    const r = m.revisionById(revision);
    if (r === undefined) throw new Error(revision);
    let n = 0;
    exploreBounded((choose) => {
      const j = judgeThreads(m, sc, r, choose);
      return { schedule: j.run.schedule, value: j };
    }, 2, (j) => {
      expect(j.verdict.kind === 'ok' ? 'ok' : j.verdict.signature).toBe('ok');
      const log = j.run.world.log;
      const endOf = (kind: Op['kind']): number => log.findIndex((e) => e.kind === 'op_end' && j.run.results.some((x) => x.index === e.index && x.op.kind === kind && x.index >= sc.ops.length));
      const beginOf = (kind: Op['kind']): number => log.findIndex((e) => e.kind === 'op_begin' && e.op.kind === kind && e.index >= sc.ops.length);
      const down = log.findIndex((e) => teardown(e));
      // The close returns inside the work; the teardown comes after it, as the work returns.
      if (beginOf(work) < endOf(close) && endOf(close) < down && down < endOf(work)) n++;
      return false;
    });
    return n;
  };

  test('a punch-hole (fallocate on the guest_memfd fd) under way keeps the file: its release follows the punch-hole', () => {
    const punch: Op = { kind: 'punch_hole', guest_memfd: GMEM, offset: 0, len: 128, faults: [] };
    const sc: Scenario = { ...scenario('snp', [...setupOps(), launchUpdate()]), threads: [[punch], [closeGmem]] };
    expect(deferredRuns(sc, 'kvm-x86-next', 'punch_hole', 'close_guest_memfd', (e) => e.kind === 'file_ref' && e.refcount === 0)).toBeGreaterThan(0);
  });

  test('a VM ioctl under way keeps the VM: kvm_destroy_vm() follows it, though no guest_memfd is left', () => {
    const sc: Scenario = { ...scenario('snp', [...setupOps(), closeGmem]), threads: [[launchUpdate()], [closeVm]] };
    expect(deferredRuns(sc, 'kvm-x86-next', 'snp_launch_update', 'close_vm', (e) => e.kind === 'note' && e.text === 'kvm_destroy_vm()')).toBeGreaterThan(0);
  });
});
