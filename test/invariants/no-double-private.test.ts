import { expect, test } from 'vitest';
import { noDoublePrivate } from '../../properties/invariants/no-double-private.js';
import { snpOf } from '../../model/backends/snp/access.js';
import { KVM_SEV_SNP_PAGE_TYPE_CPUID, KVM_SEV_SNP_PAGE_TYPE_ZERO } from '../../model/backends/snp/uapi.js';
import { PS, SRC, folioPfn, initMemRegion, launchUpdate, page, scenario, setupOps } from '../model/fixtures.js';
import { expectMatrixViolated, invariantCases, mutant, rev } from './caseTable.js';
import type { Op } from '../../model/scenario/Scenario.js';

const S = setupOps();
const finish: Op = { kind: 'snp_launch_finish', faults: [] };
const destroy: Op[] = [{ kind: 'close_guest_memfd', guest_memfd: 1, faults: [] }, { kind: 'close_vm' }];
/** Source page 0 is a hole: copy_from_user()/GUP of it fails. */
const SH = setupOps({ holes: [0] });
/** A CPUID page the firmware rejects (it rewrites the table), and whose reclaim then fails: leaked, the firmware's. */
const CPUID_RECLAIM_FAILS = scenario('snp', [...S, launchUpdate({
  type: KVM_SEV_SNP_PAGE_TYPE_CPUID,
  faults: [{ kind: 'fw', cmd: 'SNP_LAUNCH_UPDATE', condition: 'cpuid_table', nth: 1 }, { kind: 'fw', cmd: 'SNP_PAGE_RECLAIM', condition: 'page_address', nth: 1 }],
})]);

test('the matrix expects the B1 consequence on SNP kvm-x86-next-2025.11.07', () => {
  expectMatrixViolated('no-double-private', 'snp', 'kvm-x86-next-2025.11.07', 'grantWhileMapped');
});

invariantCases(noDoublePrivate, {
  holds: [
    {
      name: 'SNP repopulating a gfn: the RMP look-up refuses, -EEXIST becomes -EIO with error 0',
      revision: rev('kvm-x86-next'),
      scenario: scenario('snp', [...S, launchUpdate(), launchUpdate()]),
      check: (r) => {
        expect(r.results[5]?.ret).toBe(-5);
        expect(r.results[5]?.out).toMatchObject({ error: 0, gfn_start: 0x10, len: PS, uaddr: SRC });
      },
    },
    {
      name: 'kvm-x86-next-2025.11.07 repopulating: the folio is uptodate (-EEXIST), also -EIO',
      revision: rev('kvm-x86-next-2025.11.07'),
      scenario: scenario('snp', [...S, launchUpdate({ npages: 2 }), launchUpdate({ at: 1 })]),
      check: (r) => expect(r.results[5]?.ret).toBe(-5),
    },
    {
      name: 'TDX repopulating: the mirror SPTE is present, RET_PF_SPURIOUS gives -EIO',
      revision: rev('v7.0'),
      scenario: scenario('tdx', [...S, initMemRegion(), initMemRegion()]),
      check: (r) => {
        expect(r.results[5]?.ret).toBe(-5);
        expect(r.results[5]?.out).toEqual({ source_addr: SRC, gpa: 0x10 * PS, nr_pages: 1 });
        expect(r.world.kvm.vm_bugged).toBe(false);
      },
    },
    {
      name: 'kvm-x86-next (v7.1\'s fix): a second LAUNCH_FINISH is -EINVAL before touching the VMSA; the vCPU\'s free gives it back',
      revision: rev('kvm-x86-next'),
      scenario: scenario('snp', [...S, launchUpdate(), finish, finish, ...destroy]),
      check: (r) => {
        expect(r.results.map((x) => x.ret).slice(4)).toEqual([0, 0, -22, 0, 0]);
        expect(snpOf(r.world).guest.ld.map((e) => e.what)).toEqual(['SNP_LAUNCH_UPDATE NORMAL', 'SNP_LAUNCH_UPDATE VMSA']);
        const vmsa = snpOf(r.world).vcpu.vmsa;
        expect(page(r.world, vmsa).owner.kind).toBe('free');
      },
    },
    {
      name: 'kvm-x86-next after a failed GUP: no kmap is left behind, the retry is clean',
      revision: rev('kvm-x86-next'),
      scenario: scenario('snp', [...SH, launchUpdate(), launchUpdate({ uaddr: SRC + PS })]),
      check: (r) => {
        expect(r.results.map((x) => x.ret).slice(4)).toEqual([-5, 0]);
        const pfn = folioPfn(r.world, 0);
        expect(pfn === undefined ? -1 : page(r.world, pfn).kmaps).toBe(0);
      },
    },
  ],
  violated: [
    {
      name: 'B1 consequence: the kmap leaked by the failed copy_from_user() is live when the page is made private',
      revision: rev('kvm-x86-next-2025.11.07'),
      scenario: scenario('snp', [...SH, launchUpdate(), launchUpdate({ uaddr: SRC + PS })]),
      messageId: 'grantWhileMapped',
      opIndex: 5,
      also: ['privateStillMapped'],
      check: (r) => expect(r.results[4]?.ret).toBe(-5),
    },
    {
      name: 'G26: v7.0\'s second LAUNCH_FINISH syncs the VMSA into the page the guest owns (an RMP #PF), then makes it private again',
      revision: rev('v7.0'),
      scenario: scenario('snp', [...S, launchUpdate(), finish, finish]),
      messageId: 'hostAccessPrivate',
      opIndex: 6,
      also: ['privateTwice'],
      check: (r) => expect(r.results[6]?.ret).toBe(-5),
    },
    {
      name: 'G26 on SNP v15\'s form (paolo-v1): the same write, no VM bug on the way',
      revision: rev('paolo-v1'),
      scenario: scenario('snp', [...S, finish, finish]),
      messageId: 'hostAccessPrivate',
      opIndex: 5,
      also: ['privateTwice'],
    },
    {
      name: 'without the RMP check, a ZERO page is made private a second time',
      revision: mutant('kvm-x86-next+no-rmp-check'),
      scenario: scenario('snp', [...S, launchUpdate({ type: KVM_SEV_SNP_PAGE_TYPE_ZERO }), launchUpdate({ type: KVM_SEV_SNP_PAGE_TYPE_ZERO })]),
      messageId: 'privateTwice',
      opIndex: 5,
      check: (r) => expect(snpOf(r.world).guest.ld).toHaveLength(2),
    },
    {
      name: 'a reclaim failure reported as success: the corrected CPUID table is copied back from the page the firmware kept',
      revision: mutant('kvm-x86-next+reclaim-forgets-failure'),
      scenario: CPUID_RECLAIM_FAILS,
      messageId: 'hostAccessPrivate',
      opIndex: 4,
    },
    {
      name: 'paolo-v1 with `(!reclaim && !shared) || (CPUID && INVALID_PARAM)`: the rejected CPUID page is copied back from the page a failed reclaim leaked',
      revision: mutant('paolo-v1+copy-back-after-failed-reclaim'),
      scenario: CPUID_RECLAIM_FAILS,
      messageId: 'hostAccessPrivate',
      opIndex: 4,
    },
    {
      name: 'without the RMP check, NORMAL repopulation first writes into the guest\'s page',
      revision: mutant('kvm-x86-next+no-rmp-check'),
      scenario: scenario('snp', [...S, launchUpdate(), launchUpdate()]),
      messageId: 'hostAccessPrivate',
      opIndex: 5,
      also: ['privateTwice'],
    },
  ],
});
