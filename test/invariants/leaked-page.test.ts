import { expect, test } from 'vitest';
import { leakedPage } from '../../properties/invariants/leaked-page.js';
import { snpOf } from '../../model/backends/snp/access.js';
import { tdxOf } from '../../model/backends/tdx/access.js';
import type { Fault, Op } from '../../model/scenario/Scenario.js';
import { GMEM, PS, folioPfn, initMemRegion, launchUpdate, scenario, setupOps } from '../model/fixtures.js';
import { expectMatrixViolated, invariantCases, rev } from './caseTable.js';

const S = setupOps();
const punch = (faults: readonly Fault[] = []): Op => ({ kind: 'punch_hole', guest_memfd: GMEM, offset: 0, len: PS, faults });
const updateFails: Fault = { kind: 'fw', cmd: 'SNP_LAUNCH_UPDATE', condition: 'fw_resource', nth: 1 };
const reclaimFails: Fault = { kind: 'fw', cmd: 'SNP_PAGE_RECLAIM', condition: 'page_address', nth: 1 };
/** The RMPUPDATE back to shared in snp_page_reclaim() (the first RMPUPDATE made the page private). */
const makeSharedFails: Fault = { kind: 'fw', cmd: 'RMPUPDATE', condition: 'rmp_inuse', nth: 2 };

const removeBusy = (nth: number): Fault => ({ kind: 'fw', cmd: 'TDH.MEM.PAGE.REMOVE', condition: 'tdr_busy', nth });

test('the matrix expects G4 on every SNP revision and G5 on every TDX revision', () => {
  for (const r of ['v6.11', 'rfc-v1', 'v7.0', 'kvm-x86-next']) {
    expectMatrixViolated('leaked-page', 'snp', r, 'freedWhileFirmwareOwned');
    expectMatrixViolated('leaked-page', 'tdx', r, 'freedWhileFirmwareOwned');
  }
});

invariantCases(leakedPage, {
  holds: [
    {
      name: 'a failed LAUNCH_UPDATE is reclaimed and made shared, so truncation frees a host page',
      revision: rev('kvm-x86-next'),
      scenario: scenario('snp', [...S, launchUpdate({ faults: [updateFails] }), punch()]),
      check: (r) => {
        expect(r.results[4]?.ret).toBe(-5);
        expect(r.results[4]?.out.error).toBe(0x17); // SEV_RET_RESOURCE_LIMIT
        expect(snpOf(r.world).kernel.leaked).toEqual([]);
      },
    },
    {
      name: 'punching out a populated page: free_folio makes the RMP entry shared first',
      revision: rev('v7.0'),
      scenario: scenario('snp', [...S, launchUpdate(), punch()]),
      check: (r) => expect(snpOf(r.world).rmp.size).toBe(0),
    },
    { name: 'TDX: the zap removes the S-EPT leaf before the folio goes', revision: rev('kvm-x86-next'), scenario: scenario('tdx', [...S, initMemRegion(), punch()]) },
    {
      name: 'TDX: one busy S-EPT removal is retried with the vCPUs kicked out',
      revision: rev('v7.0'),
      scenario: scenario('tdx', [...S, initMemRegion(), punch([removeBusy(1)])]),
      check: (r) => {
        expect(r.world.kvm.vm_bugged).toBe(false);
        expect(tdxOf(r.world).module.pamt.size).toBe(0);
      },
    },
  ],
  violated: [
    {
      name: 'G4: reclaim fails, snp_leak_pages() takes no reference, truncation frees the pre-guest page',
      revision: rev('kvm-x86-next'),
      scenario: scenario('snp', [...S, launchUpdate({ faults: [updateFails, reclaimFails] }), punch()]),
      messageId: 'freedWhileFirmwareOwned',
      opIndex: 5,
      also: ['leakedPageFreed'],
      check: (r) => {
        expect(r.results[4]?.ret).toBe(-5);
        expect(r.world.kvm.vm_bugged).toBe(true);
      },
    },
    {
      name: 'G4 in v6.11 as well',
      revision: rev('v6.11'),
      scenario: scenario('snp', [...S, launchUpdate({ faults: [updateFails, reclaimFails] }), punch()]),
      messageId: 'freedWhileFirmwareOwned',
      opIndex: 5,
    },
    {
      name: 'G4: reclaim succeeds but RMPUPDATE to shared fails; the leaked page is freed once it is shared',
      revision: rev('v7.0'),
      scenario: scenario('snp', [...S, launchUpdate({ faults: [updateFails, makeSharedFails] }), punch()]),
      messageId: 'leakedPageFreed',
      opIndex: 5,
      check: (r) => {
        const pfn = folioPfn(r.world, 0);
        expect(pfn).toBeUndefined();
        expect(snpOf(r.world).kernel.leaked).toHaveLength(1);
      },
    },
    {
      name: 'sev_gmem_invalidate() only WARNs when RMPUPDATE fails, and the guest-valid page is freed',
      revision: rev('kvm-x86-next'),
      scenario: scenario('snp', [...S, launchUpdate(), punch([{ kind: 'fw', cmd: 'RMPUPDATE', condition: 'rmp_inuse', nth: 1 }])]),
      messageId: 'freedWhileFirmwareOwned',
      opIndex: 5,
    },
    {
      name: 'G5: TDX S-EPT removal fails twice; KVM_BUG_ON, and the TD-owned page is freed on truncation',
      revision: rev('kvm-x86-next'),
      scenario: scenario('tdx', [...S, initMemRegion(), punch([removeBusy(1), removeBusy(2)])]),
      messageId: 'freedWhileFirmwareOwned',
      opIndex: 5,
      check: (r) => expect(r.world.kvm.vm_bugged).toBe(true),
    },
    {
      name: 'G5 on close: the last guest_memfd reference truncates the TD-owned page',
      revision: rev('v6.11'),
      scenario: scenario('tdx', [...S, initMemRegion(), { kind: 'close_guest_memfd', guest_memfd: GMEM, faults: [removeBusy(1), removeBusy(2)] }]),
      messageId: 'freedWhileFirmwareOwned',
      opIndex: 5,
    },
  ],
});
