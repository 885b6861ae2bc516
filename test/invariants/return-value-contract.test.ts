import { expect, test } from 'vitest';
import { returnValueContract } from '../../properties/invariants/return-value-contract.js';
import type { Fault } from '../../model/scenario/Scenario.js';
import { BASE_GFN, PS, SRC, initMemRegion, launchUpdate, scenario, setupOps } from '../model/fixtures.js';
import { ccaScenario, ccaSetupOps, fw, rmiPopulate } from '../model/ccaFixtures.js';
import { expectMatrixViolated, invariantCases, mutant, rev } from './caseTable.js';

const S = setupOps();
const updateFails = (nth: number): Fault => ({ kind: 'fw', cmd: 'SNP_LAUNCH_UPDATE', condition: 'fw_resource', nth });
/** Arm CCA: a two-page slot, every RTT present. */
const C = ccaSetupOps({ slotPages: 2 });

test('the matrix expects G9 on rme-v9 and G10 on rme-v12 with the 4K guard lifted', () => {
  expectMatrixViolated('return-value-contract', 'cca', 'rme-v9', 'failedPageKept');
  expectMatrixViolated('return-value-contract', 'cca', 'rme-v12', 'measuredPastCount', '4k-guard-lifted');
});

invariantCases(returnValueContract, {
  holds: [
    {
      name: 'SNP partial success: ret 0, gfn_start/uaddr/len advanced past the populated pages',
      revision: rev('kvm-x86-next'),
      scenario: scenario('snp', [...S, launchUpdate({ npages: 4, faults: [updateFails(3)] })]),
      check: (r) => expect(r.results[4]).toMatchObject({ ret: 0, out: { gfn_start: BASE_GFN + 2, uaddr: SRC + 2 * PS, len: 2 * PS, error: 0 } }),
    },
    {
      name: 'SNP first page fails: -EIO, params untouched, the firmware status in error',
      revision: rev('v7.0'),
      scenario: scenario('snp', [...S, launchUpdate({ npages: 4, faults: [updateFails(1)] })]),
      check: (r) => expect(r.results[4]).toMatchObject({ ret: -5, out: { gfn_start: BASE_GFN, uaddr: SRC, len: 4 * PS, error: 0x17 } }),
    },
    {
      name: 'TDX stops at the slot end with the region written back',
      revision: rev('kvm-x86-next'),
      scenario: scenario('tdx', [...S, initMemRegion({ at: 6, nr_pages: 4 })]),
      check: (r) => expect(r.results[4]).toMatchObject({ ret: -22, out: { source_addr: SRC + 2 * PS, gpa: (BASE_GFN + 8) * PS, nr_pages: 2 } }),
    },
    {
      // Three signal checks a page: the ioctl loop, kvm_gmem_populate(), kvm_tdp_mmu_map_private_pfn().
      name: 'TDX signal at the fourth check (before the second page): -EINTR after one page',
      revision: rev('kvm-x86-next-2025.11.07'),
      scenario: scenario('tdx', [...S, initMemRegion({ nr_pages: 3, faults: [{ kind: 'signal', nth: 4 }] })]),
      check: (r) => expect(r.results[4]).toMatchObject({ ret: -4, out: { source_addr: SRC + PS, nr_pages: 2 } }),
    },
    {
      name: 'SNP on a destroyed VM: -EBADF, nothing touched',
      revision: rev('kvm-x86-next-2025.11.07'),
      scenario: scenario('snp', [...S, { kind: 'close_vm' }, launchUpdate()]),
      check: (r) => expect(r.results[5]?.ret).toBe(-9),
    },
    {
      name: 'rmi-newest partial success: ret 0, base/size/source_uaddr advanced past the populated page',
      revision: rev('rmi-newest'),
      scenario: ccaScenario([...C, rmiPopulate({ npages: 2, faults: [fw('RMI_RTT_DATA_MAP_INIT', 'src_copy', 2)] })]),
      check: (r) => expect(r.results[5]).toMatchObject({ ret: 0, out: { base: (BASE_GFN + 1) * PS, size: PS, source_uaddr: SRC + PS } }),
    },
    {
      name: 'rme-v12 on one-granule pages: a failure on page 2 returns the bytes of page 1',
      revision: rev('rme-v12'),
      scenario: ccaScenario([...C, rmiPopulate({ npages: 2, faults: [fw('RMI_DATA_CREATE', 'src_copy', 2)] })]),
      check: (r) => expect(r.results[5]?.ret).toBe(PS),
    },
  ],
  violated: [
    {
      name: 'mutant returns 0 (no progress) when the first page fails',
      revision: mutant('kvm-x86-next+return-i'),
      scenario: scenario('snp', [...S, launchUpdate({ faults: [updateFails(1)] })]),
      messageId: 'noProgress',
      opIndex: 4,
    },
    {
      // The slot's 8 pages populated, where a 32-bit reader saw one page and wrote back 0.
      name: 'injected: v7.0 reading len through 32 bits writes back 0 after one page of a 2^32 + PAGE_SIZE len',
      revision: mutant('v7.0+u32-len'),
      scenario: scenario('snp', [...S, launchUpdate({ len: (1n << 32n) + BigInt(PS) })]),
      messageId: 'progressMismatch',
      opIndex: 4,
      check: (r) => expect(r.results[4]).toMatchObject({ ret: 0, out: { gfn_start: BASE_GFN + 1, len: 0 } }),
    },
    {
      name: 'mutant reports reclaim success without reclaiming: the failed page stays the guest\'s',
      revision: mutant('kvm-x86-next+no-reclaim'),
      scenario: scenario('snp', [...S, launchUpdate({ npages: 2, faults: [updateFails(2)] })]),
      messageId: 'failedPageKept',
      opIndex: 4,
      check: (r) => expect(r.results[4]).toMatchObject({ ret: 0, out: { gfn_start: BASE_GFN + 1 } }),
    },
    {
      name: 'G9: rme-v9 fails page 2 and reports nothing, though page 1 is the guest\'s and measured',
      revision: rev('rme-v9'),
      scenario: ccaScenario([...C, rmiPopulate({ npages: 2, faults: [fw('RMI_DATA_CREATE', 'src_copy', 2)] })]),
      messageId: 'failedPageKept',
      opIndex: 5,
      also: ['measuredPastCount'],
      check: (r) => expect(r.results[5]?.ret).toBe(-6),
    },
    {
      name: 'G10: rme-v12 rolls granules 0 and 1 back when granule 2 fails, but their RIM entries stay',
      revision: rev('rme-v12'),
      scenario: ccaScenario([...C, rmiPopulate({ faults: [fw('RMI_DATA_CREATE', 'src_copy', 1, 2)] })], { granules_per_page: 4 }),
      messageId: 'measuredPastCount',
      opIndex: 5,
      check: (r) => expect(r.results[5]?.ret).toBe(-6),
    },
  ],
});
