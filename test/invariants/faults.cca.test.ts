import { expect } from 'vitest';
import { ccaOf } from '../../model/backends/cca/access.js';
import { granuleState } from '../../model/backends/cca/state.js';
import type { RunResult } from '../../model/scenario/runScenario.js';
import type { Fault, Op } from '../../model/scenario/Scenario.js';
import { ccaSetupOps, fw, punchPage, rmiPopulate } from '../model/ccaFixtures.js';
import { BASE_GFN as G, PS, SRC, folioPfn, page } from '../model/fixtures.js';
import { populateTable, type PopulateRow, type Want } from './populateTable.js';

/**
 * Every firmware platform condition of the Arm CCA populate and unmap paths, forced on a
 * two-page KVM_ARM_RMI_POPULATE (or the punch_hole after a one-page one), against rme-v9 (RMM
 * 1.0, KVM_CAP_ARM_RME: 0 or an error), rme-v12 (RMM 1.0, bytes populated) and rmi-newest (RMM
 * 2.0, the struct written back, 0 on partial progress). Every RTT exists (depth 3) unless a row
 * says otherwise. rme-v9 creates its realm in the set-up's arm_realm_create; the others on the
 * first populate, so there RMI_GRANULE_DELEGATE #1 is the RD's. Rows a revision answers with a
 * known return-value-contract bug (rme-v9's G9, rme-v12's G10) leave that revision out.
 */
const S = ccaSetupOps();
const two = (...faults: Fault[]): Op[] => [...S, rmiPopulate({ npages: 2, faults })];
const punched = (...faults: Fault[]): Op[] => [...S, rmiPopulate(), punchPage(0, faults)];
const DEPTH3 = { granules_per_page: 1, rtt_depth: 3 };
const B = G * PS;

const v9 = (ret: number, reported: number, check?: (r: RunResult) => void): Want => ({ ret, out: { reported }, ...(check === undefined ? {} : { check }) });
const newest = (ret: number, pages: number, check?: (r: RunResult) => void): Want => ({
  ret, out: { base: B + pages * PS, size: (2 - pages) * PS, source_uaddr: SRC + pages * PS, reported: pages }, ...(check === undefined ? {} : { check }),
});
const allDone = { 'rme-v9': v9(0, 2), 'rme-v12': { ret: 2 * PS, out: { reported: 2 } }, 'rmi-newest': newest(0, 2) };
const granuleOf = (r: RunResult, at: number) => granuleState(ccaOf(r.world), (folioPfn(r.world, at) ?? 0) * PS);
const refsOf = (r: RunResult, at: number) => page(r.world, folioPfn(r.world, at) ?? 0).refcount;
const warns = (r: RunResult) => r.world.log.filter((e) => e.kind === 'warn').length;

const rows: PopulateRow[] = [
  { name: 'no fault: both pages populated', ops: two(), cca: DEPTH3, want: allDone },
  {
    name: 'RMI_GRANULE_DELEGATE #1 gran_gpt: v9 the first data granule, v12 the RD; -ENXIO',
    ops: two(fw('RMI_GRANULE_DELEGATE', 'gran_gpt')),
    cca: DEPTH3,
    want: {
      'rme-v9': v9(-6, 0, (r) => expect([granuleOf(r, 0), ccaOf(r.world).realm.rmm_state]).toEqual(['UNDELEGATED', 'REALM_NEW'])),
      'rme-v12': { ret: -6, out: { reported: 0 }, check: (r) => expect([ccaOf(r.world).kernel.state, ccaOf(r.world).granules.size]).toEqual(['REALM_STATE_NONE', 0]) },
      'rmi-newest': newest(0, 2),
    },
  },
  {
    name: 'RMI_GRANULE_RANGE_DELEGATE #1 gran_gpt: rmi-newest cannot delegate its RD',
    ops: two(fw('RMI_GRANULE_RANGE_DELEGATE', 'gran_gpt')),
    cca: DEPTH3,
    want: { ...allDone, 'rmi-newest': newest(-6, 0, (r) => expect(ccaOf(r.world).kernel.state).toBe('REALM_STATE_NONE')) },
  },
  {
    name: 'RMI_GRANULE_RANGE_DELEGATE #3 gran_gpt: page 2 is not delegated, page 1 is reported',
    ops: two(fw('RMI_GRANULE_RANGE_DELEGATE', 'gran_gpt', 3)),
    cca: DEPTH3,
    want: { ...allDone, 'rmi-newest': newest(0, 1, (r) => expect(granuleOf(r, 1)).toBe('UNDELEGATED')) },
  },
  {
    name: 'RMI_DATA_CREATE #1 src_copy: the granule is undelegated again, nothing measured',
    ops: two(fw('RMI_DATA_CREATE', 'src_copy')),
    cca: DEPTH3,
    want: {
      'rme-v9': v9(-6, 0, (r) => expect(ccaOf(r.world).realm.rim).toEqual([])),
      'rme-v12': { ret: -6, out: { reported: 0 }, check: (r) => expect([granuleOf(r, 0), ccaOf(r.world).realm.rim.length]).toEqual(['UNDELEGATED', 0]) },
      'rmi-newest': newest(0, 2),
    },
  },
  {
    name: 'RMI_DATA_CREATE #2 src_copy: rme-v12 returns the bytes of page 1',
    ops: two(fw('RMI_DATA_CREATE', 'src_copy', 2)),
    cca: DEPTH3,
    want: { 'rme-v12': { ret: PS, out: { reported: 1 } }, 'rmi-newest': newest(0, 2) },
  },
  {
    name: 'RMI_RTT_DATA_MAP_INIT #2 src_copy: rmi-newest writes back one page of progress and returns 0',
    ops: two(fw('RMI_RTT_DATA_MAP_INIT', 'src_copy', 2)),
    cca: DEPTH3,
    want: { ...allDone, 'rmi-newest': newest(0, 1, (r) => expect([granuleOf(r, 1), r.world.kvm.vm_bugged]).toEqual(['UNDELEGATED', false])) },
  },
  {
    name: 'RMI_GRANULE_UNDELEGATE #1 gran_gpt after a failed copy: get_page() keeps the DELEGATED page',
    ops: two(fw('RMI_DATA_CREATE', 'src_copy'), fw('RMI_GRANULE_UNDELEGATE', 'gran_gpt')),
    cca: DEPTH3,
    want: {
      'rme-v9': v9(-6, 0, (r) => expect([granuleOf(r, 0), refsOf(r, 0)]).toEqual(['DELEGATED', 3])),
      'rme-v12': { ret: -6, out: { reported: 0 }, check: (r) => expect([granuleOf(r, 0), refsOf(r, 0), warns(r)]).toEqual(['DELEGATED', 2, 1]) },
      'rmi-newest': newest(0, 2),
    },
  },
  {
    name: 'RMI_GRANULE_RANGE_UNDELEGATE #1 gran_gpt after a failed MAP_INIT: KVM_BUG_ON, no reference',
    ops: two(fw('RMI_RTT_DATA_MAP_INIT', 'src_copy'), fw('RMI_GRANULE_RANGE_UNDELEGATE', 'gran_gpt')),
    cca: DEPTH3,
    want: { ...allDone, 'rmi-newest': newest(-6, 0, (r) => expect([r.world.kvm.vm_bugged, granuleOf(r, 0), refsOf(r, 0)]).toEqual([true, 'DELEGATED', 1])) },
  },
  {
    name: 'RMI_RTT_CREATE #1 rmm_defect with no tables: WARN, the table granule freed, -ENXIO',
    ops: two(fw('RMI_RTT_CREATE', 'rmm_defect')),
    cca: { granules_per_page: 1, rtt_depth: 0 },
    want: {
      '*': { ret: -6, out: { reported: 0 }, check: (r) => expect([warns(r), r.world.host.pages.filter((p) => p.owner.kind === 'kernel').length, granuleOf(r, 0)]).toEqual([1, 1, 'UNDELEGATED']) },
      // The kernel page count too: a loop that went on past the failed level-1 table would leave
      // its granule DELEGATED and its page held (rme-v9.ts's RMI_ERROR_RTT retry test).
      'rme-v9': v9(-6, 0, (r) => expect([warns(r), r.world.host.pages.filter((p) => p.owner.kind === 'kernel').length, granuleOf(r, 0)]).toEqual([1, 1, 'UNDELEGATED'])),
      'rmi-newest': newest(-6, 0, (r) => expect([warns(r), r.world.kvm.vm_bugged]).toEqual([1, false])),
    },
  },
  {
    name: 'punch_hole: RMI_DATA_DESTROY #1 rmm_defect WARNs and leaves the granule DATA',
    ops: punched(fw('RMI_DATA_DESTROY', 'rmm_defect')),
    cca: DEPTH3,
    want: { 'rme-v9': { ret: 0, check: (r) => expect([warns(r), [...ccaOf(r.world).granules.values()]]).toEqual([1, ['RD', 'DATA']]) }, 'rme-v12': { ret: 0 } },
  },
  {
    name: 'punch_hole: RMI_GRANULE_UNDELEGATE #1 gran_gpt WARNs and leaves the granule DELEGATED',
    ops: punched(fw('RMI_GRANULE_UNDELEGATE', 'gran_gpt')),
    cca: DEPTH3,
    want: { 'rme-v9': { ret: 0 }, 'rme-v12': { ret: 0, check: (r) => expect([warns(r), [...ccaOf(r.world).granules.values()]]).toEqual([1, ['RD', 'DELEGATED']]) } },
  },
  {
    name: 'punch_hole: RMI_RTT_DATA_UNMAP #1 rmm_defect WARNs and leaves the page mapped',
    ops: punched(fw('RMI_RTT_DATA_UNMAP', 'rmm_defect')),
    cca: DEPTH3,
    want: { 'rmi-newest': { ret: 0, check: (r) => expect([warns(r), ccaOf(r.world).s2tte.get(B)?.state]).toEqual([1, 'ASSIGNED']) } },
  },
  {
    name: 'punch_hole: RMI_GRANULE_RANGE_UNDELEGATE #1 gran_gpt WARNs; the page stays the RMM\'s',
    ops: punched(fw('RMI_GRANULE_RANGE_UNDELEGATE', 'gran_gpt')),
    cca: DEPTH3,
    want: { 'rmi-newest': { ret: 0, check: (r) => expect([warns(r), [...ccaOf(r.world).granules.values()]]).toEqual([1, ['RD', 'DELEGATED']]) } },
  },
  {
    name: 'a source other than the memslot\'s alias: rme-v9\'s uAPI has no source argument',
    ops: [...S, rmiPopulate({ source_uaddr: SRC + PS })],
    cca: DEPTH3,
    want: { 'rme-v9': v9(-25, 0), 'rme-v12': { ret: PS, out: { reported: 1 } }, 'rmi-newest': { ret: 0, out: { base: B + PS, size: 0, source_uaddr: SRC + 2 * PS } } },
  },
  {
    name: 'an unknown flag is -EINVAL everywhere',
    ops: [...S, rmiPopulate({ flags: 2 })],
    cca: DEPTH3,
    want: { 'rme-v9': v9(-22, 0), 'rme-v12': { ret: -22, out: { reported: 0 } }, 'rmi-newest': { ret: -22, out: { base: B, size: PS, source_uaddr: SRC } } },
  },
  {
    name: 'after the first vCPU run (activation) the realm refuses populate',
    ops: [...S, rmiPopulate(), { kind: 'arm_realm_activate', faults: [] }, rmiPopulate({ at: 1 })],
    cca: DEPTH3,
    want: { 'rme-v9': v9(-1, 0), 'rme-v12': { ret: -16, out: { reported: 0 } }, 'rmi-newest': { ret: -16, out: { base: B + PS, size: PS } } },
  },
];

populateTable('cca', 'fault points of KVM_ARM_RMI_POPULATE and the stage-2 unmap', rows);
