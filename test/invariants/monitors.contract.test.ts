import { describe, expect, test } from 'vitest';
import { snpBackend } from '../../model/backends/snp/backend.js';
import { snpOf } from '../../model/backends/snp/access.js';
import { tdxBackend } from '../../model/backends/tdx/backend.js';
import type { BackendModel } from '../../model/backends/Backend.js';
import { KVM_SEV_SNP_PAGE_TYPE_CPUID } from '../../model/backends/snp/uapi.js';
import { runScenario } from '../../model/scenario/runScenario.js';
import type { Op } from '../../model/scenario/Scenario.js';
import { PROV_ZERO } from '../../model/world/provenance.js';
import { userPfn } from '../../model/world/userspaceMm.js';
import type { World } from '../../model/world/World.js';
import { watch, type Invariant } from '../../properties/Invariant.js';
import { returnValueContract } from '../../properties/invariants/return-value-contract.js';
import { srcOffsetStraddling } from '../../properties/invariants/src-offset-straddling.js';
import { BASE_GFN as G, PS, SRC, folioPfn, initMemRegion, launchUpdate, page, scenario, setupOps } from '../model/fixtures.js';
import { rev } from './caseTable.js';

/**
 * The populate contract monitors fed by hand: a real world is set up by a run, then one
 * operation is "performed" by editing the world between opBegin and opEnd, with a hand-written
 * ioctl result. These are the lies a future patch could tell that no modelled revision tells.
 */
function judge(inv: Invariant, w: World, backend: BackendModel, op: Op, ret: number, out: Record<string, number>, edit: () => void = () => undefined): string[] {
  const run = watch(inv);
  run.observer.opBegin?.(99, op, w, backend);
  edit();
  run.observer.opEnd?.({ index: 99, op, ret, out }, w, backend);
  return run.violations.map((v) => `${v.messageId}: ${v.message}`);
}

/** An SNP world in which gfns 0x10 and 0x11 were populated by kvm-x86-next. */
function snpWorld(): World {
  return runScenario(scenario('snp', [...setupOps(), launchUpdate({ npages: 2 })]), rev('kvm-x86-next')).world;
}

describe('return-value-contract, by hand', () => {
  const op = launchUpdate({ at: 2, npages: 2 });

  test('progress claimed for a page the firmware never got, with the wrong remaining length', () => {
    expect(judge(returnValueContract, snpWorld(), snpBackend, op, 0, { gfn_start: G + 3, uaddr: SRC + PS, len: 2 * PS })).toEqual([
      'progressMismatch: KVM_SEV_SNP_LAUNCH_UPDATE wrote back len=128, expected 64 for 1 populated page(s)',
      'notPopulated: gfn 18 is reported populated but the firmware does not give it to the guest (host-owned)',
    ]);
  });

  test('an error return that still rewrote the parameters', () => {
    expect(judge(returnValueContract, snpWorld(), snpBackend, op, -5, { gfn_start: G + 4, uaddr: SRC, len: 0 })).toEqual([
      'paramsOnError: KVM_SEV_SNP_LAUNCH_UPDATE failed with -5 but changed gfn_start/len/uaddr from 18 to 20',
    ]);
  });

  test('pages past the reported count changed owner or contents, and the measurement grew', () => {
    const w = snpWorld();
    const pfn1 = folioPfn(w, 1) ?? 0;
    const back = launchUpdate({ at: 0, npages: 3 });
    const v = judge(returnValueContract, w, snpBackend, back, -5, { gfn_start: G, uaddr: SRC, len: 3 * PS }, () => {
      snpOf(w).rmp.delete(pfn1);
      snpOf(w).guest.ld.push({ what: 'SNP_LAUNCH_UPDATE NORMAL', gpa: 0, contents: '' });
    });
    expect(v).toEqual([
      'pastCountTouched: gfn 17, past the 0 reported page(s), changed: ownership guest -> host',
      'measuredPastCount: measurement grew by 1 entries, but 0 page(s) were reported',
    ]);
    const w2 = snpWorld();
    expect(judge(returnValueContract, w2, snpBackend, back, -5, { gfn_start: G, uaddr: SRC, len: 3 * PS }, () => {
      page(w2, folioPfn(w2, 1) ?? 0).data[0] = 0x77;
    })).toEqual(['pastCountTouched: gfn 17, past the 0 reported page(s), changed: contents']);
  });

  test('TDX: success must consume nr_pages, and source_addr must match the pages reported', () => {
    const w = runScenario(scenario('tdx', setupOps()), rev('kvm-x86-next')).world;
    expect(judge(returnValueContract, w, tdxBackend, initMemRegion({ nr_pages: 2 }), 0, { source_addr: SRC + 2 * PS, gpa: G * PS, nr_pages: 1 })).toEqual([
      'progressMismatch: KVM_TDX_INIT_MEM_REGION wrote back nr_pages=1, expected 0 for 0 populated page(s)',
      'progressMismatch: KVM_TDX_INIT_MEM_REGION wrote back source_addr=0x40080, expected 0x40000 for 0 populated page(s)',
    ]);
  });

  test('a dead VM is exempt', () => {
    const w = snpWorld();
    w.kvm.vm_bugged = true;
    expect(judge(returnValueContract, w, snpBackend, op, 0, { gfn_start: G + 3, len: 0 })).toEqual([]);
  });
});

describe('src-offset-straddling write-backs, by hand', () => {
  /** kvm-x86-next after a CPUID page failed with cpuid_table: the table was written back. */
  function cpuidWorld() {
    const w = runScenario(scenario('snp', [...setupOps(), launchUpdate({ type: KVM_SEV_SNP_PAGE_TYPE_CPUID, faults: [{ kind: 'fw', cmd: 'SNP_LAUNCH_UPDATE', condition: 'cpuid_table', nth: 1 }] })]), rev('kvm-x86-next')).world;
    return { w, src: page(w, userPfn(w.mm, SRC, PS) ?? 0), dst: page(w, folioPfn(w, 0) ?? 0) };
  }
  const op = launchUpdate({ type: KVM_SEV_SNP_PAGE_TYPE_CPUID });

  test('a write-back byte that is not the destination\'s', () => {
    const { w, src } = cpuidWorld();
    expect(judge(srcOffsetStraddling, w, snpBackend, op, -5, { gfn_start: G, uaddr: SRC, len: PS, error: 0x16 }, () => {
      src.data[3] = 0;
      src.prov[3] = PROV_ZERO;
    })).toEqual(['writeBackWrong: write-back of gfn 16: user byte 0x40003 holds zero, destination byte 3 holds firmware']);
  });

  test('a write-back of part of the page', () => {
    const { w, src, dst } = cpuidWorld();
    expect(judge(srcOffsetStraddling, w, snpBackend, op, -5, { gfn_start: G, uaddr: SRC, len: PS, error: 0x16 }, () => {
      src.data[0] = 0;
      src.prov[0] = PROV_ZERO;
      dst.data[0] = 0;
      dst.prov[0] = PROV_ZERO;
    })).toEqual([`writeBackPartial: write-back of gfn 16 rewrote 1 of ${PS} source bytes`]);
  });
});
