import { describe, expect, test } from 'vitest';
import { revisionById } from '../model/revisions/registry.js';
import type { Revision } from '../model/revisions/Revision.js';
import { BUGS } from '../properties/bugs.js';
import { agreesWith, atLeast, reachOf, scenarioNeeds, type Reach } from '../properties/reach.js';
import { findingReach } from '../reports/checkReport.js';
import { PS, SRC, initMemRegion, launchUpdate, scenario, setupOps } from './model/fixtures.js';

function rev(id: string): Revision {
  const r = revisionById(id);
  if (r === undefined) throw new Error(`no revision ${id}`);
  return r;
}

/**
 * What a finding takes is read off its counterexample: its fault plan, its operations and the
 * machine. The declared label of every known bug is checked against its shrunk counterexamples
 * in the matrix tests (matrixCells.ts); here each rule, and a wrong label, on fixed scenarios.
 */
describe('what a scenario takes', () => {
  const v70 = rev('v7.0');
  test('no faults: userspace alone', () => {
    const s = scenario('snp', [...setupOps(), launchUpdate()]);
    expect(scenarioNeeds(s, v70)).toEqual([]);
    expect(findingReach(s, v70)).toMatchObject({ kind: 'userspace', label: 'userspace', needs: 'userspace alone' });
  });

  test('GUP failing, a signal, a folio allocation failing (memcg): still userspace', () => {
    const s = scenario('snp', [...setupOps(), launchUpdate({ faults: [{ kind: 'gup', nth: 1, result: 'efault' }, { kind: 'signal', nth: 1 }, { kind: 'alloc', nth: 1, site: 'folio' }] })]);
    expect(reachOf(scenarioNeeds(s, v70)).kind).toBe('userspace');
  });

  test('a failing kmalloc() needs failslab: a debug configuration', () => {
    const s = scenario('snp', [...setupOps(), launchUpdate({ faults: [{ kind: 'alloc', nth: 1, site: 'kmalloc' }] })]);
    expect(reachOf(scenarioNeeds(s, v70)).kind).toBe('debug');
  });

  test('a firmware failure, except a CPUID table the firmware corrects (userspace wrote it)', () => {
    const fw = scenario('snp', [...setupOps(), launchUpdate({ faults: [{ kind: 'fw', cmd: 'RMPUPDATE', condition: 'rmp_inuse', nth: 1 }] })]);
    expect(findingReach(fw, v70)).toMatchObject({ kind: 'firmware', needs: 'firmware failure: RMPUPDATE fails with rmp_inuse' });
    const cpuid = scenario('snp', [...setupOps(), launchUpdate({ type: 6, faults: [{ kind: 'fw', cmd: 'SNP_LAUNCH_UPDATE', condition: 'cpuid_table', nth: 1 }] })]);
    expect(reachOf(scenarioNeeds(cpuid, v70)).kind).toBe('userspace');
    const tdx = scenario('tdx', [...setupOps(), initMemRegion({ faults: [{ kind: 'fw', cmd: 'TDH.MEM.PAGE.ADD', condition: 'tdr_busy', nth: 1 }] })]);
    expect(reachOf(scenarioNeeds(tdx, rev('kvm-x86-next'))).kind).toBe('firmware');
  });

  test('a CPUID table the firmware refuses from a source page the VMM never wrote is all zeros, which the firmware accepts: that takes a firmware failure', () => {
    const table = { kind: 'fw', cmd: 'SNP_LAUNCH_UPDATE', condition: 'cpuid_table', nth: 1 } as const;
    const untouched = setupOps().map((op) => (op.kind === 'mmap' ? { ...op, untouched: [0] } : op));
    const zero = scenario('snp', [...untouched, launchUpdate({ type: 6, faults: [table] })]);
    expect(findingReach(zero, v70)).toMatchObject({ kind: 'firmware', needs: 'firmware failure: SNP_LAUNCH_UPDATE refusing an all-zero CPUID table (cpuid_table), which the firmware accepts' });
    // Another page of the mapping, or the page mapped again and written, is the VMM's own table.
    expect(reachOf(scenarioNeeds(scenario('snp', [...untouched, launchUpdate({ at: 0, uaddr: SRC + PS, type: 6, faults: [table] })]), v70)).kind).toBe('userspace');
    const rewritten = scenario('snp', [...untouched, { kind: 'munmap', addr: SRC, length: PS }, { kind: 'mmap', addr: SRC, length: PS, prot: 'rw', holes: [] }, launchUpdate({ type: 6, faults: [table] })]);
    expect(reachOf(scenarioNeeds(rewritten, v70)).kind).toBe('userspace');
  });

  test('a host fault on a guest_memfd mapping is a what-if only on the in-place machine; with a firmware failure too, the what-if wins', () => {
    const s = scenario('snp', [...setupOps(), { kind: 'gmem_user_fault', guest_memfd: 1, offset: 0 }, launchUpdate({ faults: [{ kind: 'fw', cmd: 'RMPUPDATE', condition: 'rmp_inuse', nth: 1 }] })]);
    expect(reachOf(scenarioNeeds({ ...s, inPlace: true }, v70))).toEqual({ kind: 'what-if', mode: 'in-place' });
    // v7.0's own fault path: SIGBUS before any lock, which userspace reaches by itself.
    expect(reachOf(scenarioNeeds(s, v70)).kind).toBe('firmware');
    // Before v6.18 the in-place machine differs already in the mmap()able guest_memfd it creates.
    const created = scenario('snp', [{ kind: 'create_guest_memfd', size: 8192n, flags: 1n }]);
    expect(reachOf(scenarioNeeds({ ...created, inPlace: true }, rev('v6.17')))).toEqual({ kind: 'what-if', mode: 'in-place' });
    expect(scenarioNeeds({ ...created, inPlace: true }, v70)).toEqual([]);
  });

  test('several granules per page: a what-if for the RMM v1.0 series (4K hosts only), a real machine for RMM v2.0', () => {
    const s = { ...scenario('cca', []), cca: { granules_per_page: 4, rtt_depth: 0 } };
    expect(reachOf(scenarioNeeds(s, rev('rme-v12')))).toEqual({ kind: 'what-if', mode: '4k-guard-lifted' });
    expect(reachOf(scenarioNeeds(s, rev('rmi-newest'))).kind).toBe('userspace');
  });
});

describe('a label is checked against the counterexample', () => {
  const fwFault = scenario('snp', [...setupOps(), launchUpdate({ faults: [{ kind: 'fw', cmd: 'RMPUPDATE', condition: 'rmp_inuse', nth: 1 }] })]);
  const plain = scenario('snp', [...setupOps(), launchUpdate()]);
  const v70 = rev('v7.0');

  test('a firmware bug labelled userspace disagrees with a counterexample that needs the firmware to fail, and the reverse', () => {
    const wrong: Reach = { kind: 'userspace', how: 'mislabelled' };
    expect(agreesWith(wrong, scenarioNeeds(fwFault, v70))).toBe(false);
    expect(agreesWith(BUGS.G4.reach, scenarioNeeds(fwFault, v70))).toBe(true);
    expect(agreesWith(BUGS.G4.reach, scenarioNeeds(plain, v70))).toBe(false);
    // A disagreeing label is not shown: the counterexample speaks for itself.
    expect(findingReach(fwFault, v70, wrong).label).toBe('firmware failure');
  });

  test('no counterexample may take less than the label says; a harder path to the same bug is fine', () => {
    const wrong: Reach = { kind: 'firmware', how: 'mislabelled: a VMM reaches it alone' };
    expect(atLeast(wrong, scenarioNeeds(plain, v70))).toBe(false);
    expect(atLeast(wrong, scenarioNeeds(fwFault, v70))).toBe(true);
    expect(atLeast(BUGS.G3.reach, scenarioNeeds(fwFault, v70))).toBe(true);
  });

  test('a debug-configuration bug: its trigger needs no more than userspace (the configuration shows the damage)', () => {
    expect(agreesWith(BUGS.B1.reach, scenarioNeeds(plain, v70))).toBe(true);
    expect(agreesWith(BUGS.B1.reach, scenarioNeeds(fwFault, v70))).toBe(false);
    expect(findingReach(plain, v70, BUGS.B1.reach).label).toBe('debug config');
  });

  test('every known bug carries a label, with the reason in words', () => {
    for (const bug of Object.values(BUGS)) {
      expect(bug.reach, bug.id).toBeDefined();
      expect(bug.reach.how.length, bug.id).toBeGreaterThan(10);
    }
  });
});
