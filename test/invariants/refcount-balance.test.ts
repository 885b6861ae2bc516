import { expect, test } from 'vitest';
import { refcountBalance } from '../../properties/invariants/refcount-balance.js';
import type { Fault } from '../../model/scenario/Scenario.js';
import { GMEM, PS, SRC, initMemRegion, launchUpdate, scenario, setupOps } from '../model/fixtures.js';
import { expectMatrixViolated, invariantCases, rev } from './caseTable.js';

const S = setupOps();
const SH = setupOps({ holes: [0] });
const gupShort: Fault = { kind: 'gup', nth: 1, result: 'short' };
const gupFails: Fault = { kind: 'gup', nth: 1, result: 'efault' };

test('the matrix expects B1 on SNP v6.11 and B7 on rfc-v1', () => {
  expectMatrixViolated('refcount-balance', 'snp', 'v6.11', 'kmapLeaked');
  expectMatrixViolated('refcount-balance', 'snp', 'rfc-v1', 'pageRefLeaked');
  expectMatrixViolated('refcount-balance', 'tdx', 'rfc-v1', 'kmallocLeaked');
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
  ],
  violated: [
    {
      name: 'B1: v6.11 skips kunmap_local() when copy_from_user() faults',
      revision: rev('v6.11'),
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
  ],
});
