import { expect, test } from 'vitest';
import { memorySafety } from '../../properties/invariants/memory-safety.js';
import { GUEST_MEMFD_FLAG_MMAP } from '../../model/kernel/guest_memfd.js';
import { KVM_SEV_SNP_PAGE_TYPE_CPUID } from '../../model/backends/snp/uapi.js';
import { initMemRegion, launchUpdate, scenario, setupOps } from '../model/fixtures.js';
import { expectMatrixViolated, invariantCases, mutant, rev } from './caseTable.js';

const S = setupOps();

test('the matrix expects B3 on TDX rfc-v1', () => {
  expectMatrixViolated('memory-safety', 'tdx', 'rfc-v1', 'uninitialised');
});

invariantCases(memorySafety, {
  holds: [
    { name: 'kvm-x86-next TDX indexes its own src_page', revision: rev('kvm-x86-next'), scenario: scenario('tdx', [...S, initMemRegion({ nr_pages: 2 })]) },
    { name: 'rfc-v1 SNP straddling copy stays inside its kmalloc()ed array', revision: rev('rfc-v1'), scenario: scenario('snp', [...S, launchUpdate({ uaddr: 0x40000 + 5, npages: 4 })]) },
    {
      name: 'kvm-x86-next TDX rejects source_addr 0 before any pointer is formed',
      revision: rev('kvm-x86-next'),
      scenario: scenario('tdx', [...S, initMemRegion({ source_addr: 0 })]),
      check: (r) => expect(r.results[4]?.ret).toBe(-22),
    },
  ],
  violated: [
    {
      name: 'B3: rfc-v1 TDX reads the uninitialised i',
      revision: rev('rfc-v1'),
      scenario: scenario('tdx', [...S, initMemRegion()]),
      messageId: 'uninitialised',
      opIndex: 4,
    },
    {
      name: 'B3: rfc-v1 TDX with i = 2 also indexes past the array',
      revision: rev('rfc-v1'),
      scenario: scenario('tdx', [...S, initMemRegion()], { 'tdx_gmem_post_populate:i': 2 }),
      messageId: 'uninitialised',
      also: ['outOfBounds', 'wildPointer'],
    },
    {
      name: 'B3: rfc-v1 TDX with source_addr 0 indexes a NULL src_pages',
      revision: rev('rfc-v1'),
      scenario: scenario('tdx', [...S, initMemRegion({ source_addr: 0 })]),
      messageId: 'uninitialised',
      also: ['wildPointer'],
      // ... and PAGE.ADD "succeeds" from the wild pointer.
      check: (r) => expect(r.results[4]?.ret).toBe(0),
    },
    {
      name: 'the double put frees the source page; the next populate pins a free page',
      revision: mutant('kvm-x86-next+double-put'),
      scenario: scenario('snp', [...S, launchUpdate(), launchUpdate({ at: 1 })]),
      messageId: 'useAfterFree',
      opIndex: 5,
    },
    {
      name: 'B18 (injected): in place, the CPUID write-back without `&& src_page` maps the NULL source page',
      revision: mutant('inplace-v8+no-src-page-guard'),
      scenario: {
        ...scenario('snp', [
          ...setupOps({ gmemFlags: GUEST_MEMFD_FLAG_MMAP, private: null }),
          launchUpdate({ uaddr: 0, type: KVM_SEV_SNP_PAGE_TYPE_CPUID, faults: [{ kind: 'fw', cmd: 'SNP_LAUNCH_UPDATE', condition: 'cpuid_table', nth: 1 }] }),
        ]),
        inPlace: true,
      },
      messageId: 'wildPointer',
    },
  ],
});
