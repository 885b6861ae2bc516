import { expect, test } from 'vitest';
import { refcountBalance } from '../../properties/invariants/refcount-balance.js';
import { ccaOf } from '../../model/backends/cca/access.js';
import type { RunResult } from '../../model/scenario/runScenario.js';
import type { Fault } from '../../model/scenario/Scenario.js';
import { ccaScenario, ccaSetupOps, fw, punchPage, rmiPopulate } from '../model/ccaFixtures.js';
import { GMEM, PS, SRC, folioPfn, initMemRegion, launchUpdate, page, scenario, setupOps } from '../model/fixtures.js';
import { expectMatrixViolated, invariantCases, rev } from './caseTable.js';

const S = setupOps();
const SH = setupOps({ holes: [0] });
const gupShort: Fault = { kind: 'gup', nth: 1, result: 'short' };
const gupFails: Fault = { kind: 'gup', nth: 1, result: 'efault' };

/** Arm CCA (policy OFF): a two-page slot, every RTT present; the first gmem page is pfn 0x104. */
const C = ccaSetupOps({ slotPages: 2 });
const GPP4 = { granules_per_page: 4 };
const copyThenUndelegateFail = [fw('RMI_DATA_CREATE', 'src_copy'), fw('RMI_GRANULE_UNDELEGATE', 'gran_gpt')];
/** Granule 1's copy fails; the rollback's destroy of granule 0 fails, so it stays DATA and get_page(). */
const rollbackDestroyFails = [fw('RMI_DATA_CREATE', 'src_copy', 1, 1), fw('RMI_DATA_DESTROY', 'rmm_defect')];
const pageState = (r: RunResult) => [page(r.world, 0x104).refcount, ccaOf(r.world).granules.get(0x104 * PS) ?? 'UNDELEGATED', folioPfn(r.world, 0) === 0x104];

test('the matrix expects B1 on SNP kvm-x86-next-2025.11.07 and B7 on rfc-v1', () => {
  expectMatrixViolated('refcount-balance', 'snp', 'kvm-x86-next-2025.11.07', 'kmapLeaked');
  expectMatrixViolated('refcount-balance', 'snp', 'rfc-v1', 'pageRefLeaked');
  expectMatrixViolated('refcount-balance', 'tdx', 'rfc-v1', 'kmallocLeaked');
});

test('the matrix expects G15 on rme-v9 and B23-consequence on rme-v12 with the 4K guard lifted', () => {
  expectMatrixViolated('refcount-balance', 'cca', 'rme-v9', 'pageRefLeaked');
  expectMatrixViolated('refcount-balance', 'cca', 'rme-v12', 'pageRefLeaked', '4k-guard-lifted');
});

invariantCases(refcountBalance, {
  holds: [
    {
      name: 'kvm-x86-next: a short pin is dropped, nothing leaks',
      revision: rev('kvm-x86-next'),
      scenario: scenario('snp', [...S, launchUpdate({ npages: 2, faults: [gupShort] })]),
      check: (r) => expect(r.results[4]?.ret).toBe(-5),
    },
    {
      name: 'rfc-v1 frees its page array when kmalloc() itself fails',
      revision: rev('rfc-v1'),
      scenario: scenario('snp', [...S, launchUpdate({ faults: [{ kind: 'alloc', nth: 1, site: 'kmalloc' }] })]),
      check: (r) => expect(r.results[4]?.ret).toBe(-5),
    },
    {
      name: 'v7.0 TDX populate of 5 pages, each page pinned and put',
      revision: rev('v7.0'),
      scenario: scenario('tdx', [...S, initMemRegion({ nr_pages: 5 })]),
      check: (r) => expect(r.world.host.pages.every((p) => p.gupRefs === 0)).toBe(true),
    },
    {
      name: 'closing the guest_memfd drops the fd reference; release runs on return',
      revision: rev('kvm-x86-next'),
      scenario: scenario('snp', [...S, launchUpdate(), { kind: 'close_guest_memfd', guest_memfd: GMEM }]),
      check: (r) => {
        const f = r.world.gmem.files.get(GMEM);
        expect(f).toMatchObject({ refcount: 0, fdOpen: false, released: true });
        expect(f?.folios.size).toBe(0);
      },
    },
    {
      name: 'policy off: rme-v12\'s get_page() on a page whose granule stays DELEGATED is the one allowed hand-over',
      revision: rev('rme-v12'),
      scenario: ccaScenario([...C, rmiPopulate({ faults: copyThenUndelegateFail })]),
      check: (r) => expect(pageState(r)).toEqual([2, 'DELEGATED', true]),
    },
    {
      name: 'policy off: the hand-over outlives truncation while a granule is still DATA',
      revision: rev('rme-v12'),
      scenario: ccaScenario([...C, rmiPopulate({ faults: rollbackDestroyFails }), punchPage(0, [fw('RMI_DATA_DESTROY', 'rmm_defect')])], GPP4),
      check: (r) => expect(pageState(r)).toEqual([1, 'DATA', false]),
    },
    {
      name: 'rme-v9 populated DATA pages: its leaked gmem_page reference passes as the hand-over while the RMM owns them',
      revision: rev('rme-v9'),
      scenario: ccaScenario([...C, rmiPopulate()]),
      check: (r) => expect(pageState(r)).toEqual([2, 'DATA', true]),
    },
  ],
  violated: [
    {
      name: 'B1: kvm-x86-next-2025.11.07 skips kunmap_local() when copy_from_user() faults',
      revision: rev('kvm-x86-next-2025.11.07'),
      scenario: scenario('snp', [...SH, launchUpdate()]),
      messageId: 'kmapLeaked',
      opIndex: 4,
    },
    {
      name: 'B7: rfc-v1 returns on a failed GUP without freeing the array',
      revision: rev('rfc-v1'),
      scenario: scenario('snp', [...S, launchUpdate({ npages: 2, faults: [gupFails] })]),
      messageId: 'kmallocLeaked',
      opIndex: 4,
    },
    {
      name: 'B7: rfc-v1 returns on a short pin without putting the pinned pages',
      revision: rev('rfc-v1'),
      scenario: scenario('snp', [...S, launchUpdate({ npages: 3, faults: [gupShort] })]),
      messageId: 'pageRefLeaked',
      opIndex: 4,
      also: ['pinLeaked', 'kmallocLeaked'],
    },
    {
      name: 'B7: rfc-v1 unaligned source pins npages + 1, the hole makes it short',
      revision: rev('rfc-v1'),
      scenario: scenario('snp', [...setupOps({ srcPages: 2 }), launchUpdate({ uaddr: SRC + PS - 1, npages: 2 })]),
      messageId: 'pageRefLeaked',
      opIndex: 4,
    },
    {
      name: 'B7: rfc-v1 TDX GUP failure leaks the array',
      revision: rev('rfc-v1'),
      scenario: scenario('tdx', [...S, initMemRegion({ faults: [gupFails] })]),
      messageId: 'kmallocLeaked',
      opIndex: 4,
      check: (r) => expect(r.results[4]?.ret).toBe(-14),
    },
    {
      name: 'B23-consequence: once every granule is home, rme-v12\'s get_page() reference is leaked',
      revision: rev('rme-v12'),
      scenario: ccaScenario([...C, rmiPopulate({ faults: rollbackDestroyFails }), punchPage(0)], GPP4),
      messageId: 'pageRefLeaked',
      opIndex: 6,
      check: (r) => expect(pageState(r)).toEqual([1, 'UNDELEGATED', false]),
    },
    {
      name: 'the allowance is one reference: rme-v9 takes get_page() on top of its leaked gmem_page',
      revision: rev('rme-v9'),
      scenario: ccaScenario([...C, rmiPopulate({ faults: copyThenUndelegateFail })]),
      messageId: 'pageRefLeaked',
      opIndex: 5,
      check: (r) => expect(pageState(r)).toEqual([3, 'DELEGATED', true]),
    },
    {
      name: 'G15: rme-v9 rolls a failed copy back; the host-owned page keeps the gmem_page reference',
      revision: rev('rme-v9'),
      scenario: ccaScenario([...C, rmiPopulate({ faults: [fw('RMI_DATA_CREATE', 'src_copy')] })]),
      messageId: 'pageRefLeaked',
      opIndex: 5,
      check: (r) => expect(pageState(r)).toEqual([2, 'UNDELEGATED', true]),
    },
  ],
});
