import { expect, test } from 'vitest';
import { measurement } from '../../properties/invariants/measurement.js';
import { snpOf } from '../../model/backends/snp/access.js';
import { tdxOf } from '../../model/backends/tdx/access.js';
import {
  KVM_SEV_SNP_PAGE_TYPE_CPUID, KVM_SEV_SNP_PAGE_TYPE_NORMAL, KVM_SEV_SNP_PAGE_TYPE_SECRETS, KVM_SEV_SNP_PAGE_TYPE_UNMEASURED, KVM_SEV_SNP_PAGE_TYPE_ZERO,
} from '../../model/backends/snp/uapi.js';
import { BASE_GFN, PS, initMemRegion, launchUpdate, scenario, setupOps } from '../model/fixtures.js';
import { expectMatrixViolated, invariantCases, mutant, rev } from './caseTable.js';

const S = setupOps();

test('the matrix expects B3 on TDX rfc-v1', () => {
  expectMatrixViolated('measurement', 'tdx', 'rfc-v1', 'mismatch');
});

invariantCases(measurement, {
  holds: [
    {
      name: 'SNP LAUNCH_FINISH measures vCPU 0\'s VMSA at INITIAL_VMSA_GPA, and nothing else',
      revision: rev('kvm-x86-next'),
      scenario: scenario('snp', [...S, launchUpdate(), { kind: 'snp_launch_finish', faults: [] }]),
      check: (r) => expect(snpOf(r.world).guest.ld.map((e) => `${e.what} 0x${e.gpa.toString(16)}`)).toEqual([`SNP_LAUNCH_UPDATE NORMAL 0x${(BASE_GFN * PS).toString(16)}`, 'SNP_LAUNCH_UPDATE VMSA 0xfffffffff000']),
    },
    {
      name: 'SNP: every page type extends the digest with its GPA; only NORMAL hashes contents',
      revision: rev('kvm-x86-next'),
      scenario: scenario('snp', [
        ...S,
        launchUpdate({ at: 0, type: KVM_SEV_SNP_PAGE_TYPE_NORMAL }),
        launchUpdate({ at: 1, type: KVM_SEV_SNP_PAGE_TYPE_ZERO }),
        launchUpdate({ at: 2, type: KVM_SEV_SNP_PAGE_TYPE_UNMEASURED }),
        launchUpdate({ at: 3, type: KVM_SEV_SNP_PAGE_TYPE_SECRETS }),
        launchUpdate({ at: 4, type: KVM_SEV_SNP_PAGE_TYPE_CPUID }),
      ]),
      check: (r) => {
        const ld = snpOf(r.world).guest.ld;
        expect(ld.map((e) => e.what)).toEqual(['NORMAL', 'ZERO', 'UNMEASURED', 'SECRETS', 'CPUID'].map((t) => `SNP_LAUNCH_UPDATE ${t}`));
        expect(ld.map((e) => e.gpa)).toEqual([0, 1, 2, 3, 4].map((i) => (BASE_GFN + i) * PS));
        expect(ld[0]?.contents).toMatch(/^[0-9a-f]{8}$/);
        expect(ld.slice(1).map((e) => e.contents)).toEqual(['', '', '', '']);
      },
    },
    {
      name: 'TDX measured: MEM.PAGE.ADD (GPA only) then 16 MR.EXTEND chunks per page',
      revision: rev('v7.0'),
      scenario: scenario('tdx', [...S, initMemRegion({ nr_pages: 2 })]),
      check: (r) => {
        const mrtd = tdxOf(r.world).module.mrtd;
        expect(mrtd).toHaveLength(34);
        expect(mrtd[0]).toEqual({ what: 'MEM.PAGE.ADD', gpa: BASE_GFN * PS, contents: '' });
        expect(mrtd.slice(1, 17).map((e) => e.gpa)).toEqual(Array.from({ length: 16 }, (_x, i) => BASE_GFN * PS + i * (PS / 16)));
        expect(mrtd[17]?.what).toBe('MEM.PAGE.ADD');
      },
    },
    {
      name: 'TDX unmeasured: one MEM.PAGE.ADD a page',
      revision: rev('kvm-x86-next'),
      scenario: scenario('tdx', [...S, initMemRegion({ nr_pages: 3, flags: 0 })]),
      check: (r) => expect(tdxOf(r.world).module.mrtd.map((e) => e.what)).toEqual(['MEM.PAGE.ADD', 'MEM.PAGE.ADD', 'MEM.PAGE.ADD']),
    },
    {
      name: 'partial SNP success measures exactly the populated pages',
      revision: rev('kvm-x86-next'),
      scenario: scenario('snp', [...S, launchUpdate({ npages: 3, faults: [{ kind: 'fw', cmd: 'SNP_LAUNCH_UPDATE', condition: 'fw_resource', nth: 3 }] })]),
      check: (r) => expect(snpOf(r.world).guest.ld).toHaveLength(2),
    },
    { name: 'rfc-v1 TDX with i read as 0 measures the right source', revision: rev('rfc-v1'), scenario: scenario('tdx', [...S, initMemRegion()], { 'tdx_gmem_post_populate:i': 0 }) },
  ],
  violated: [
    {
      name: 'LAUNCH_FINISH may measure the VMSA at INITIAL_VMSA_GPA only: one at GPA 0 is extra',
      revision: mutant('kvm-x86-next+vmsa-gpa-0'),
      scenario: scenario('snp', [...S, { kind: 'snp_launch_finish', faults: [] }]),
      messageId: 'extra',
      opIndex: 4,
    },
    {
      name: 'B3: rfc-v1 TDX reads src_pages[i] with i = 1, past the one-element array',
      revision: rev('rfc-v1'),
      scenario: scenario('tdx', [...S, initMemRegion()], { 'tdx_gmem_post_populate:i': 1 }),
      messageId: 'mismatch',
      opIndex: 4,
    },
    {
      name: 'mutant: LAUNCH_UPDATE issued as NORMAL for an UNMEASURED page',
      revision: mutant('kvm-x86-next+wrong-page-type'),
      scenario: scenario('snp', [...S, launchUpdate({ type: KVM_SEV_SNP_PAGE_TYPE_UNMEASURED })]),
      messageId: 'mismatch',
      opIndex: 4,
    },
  ],
});
