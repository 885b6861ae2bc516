import { expect, test } from 'vitest';
import { srcOffsetStraddling } from '../../properties/invariants/src-offset-straddling.js';
import { KVM_SEV_SNP_PAGE_TYPE_CPUID, KVM_SEV_SNP_PAGE_TYPE_SECRETS, KVM_SEV_SNP_PAGE_TYPE_ZERO } from '../../model/backends/snp/uapi.js';
import { PROV_FIRMWARE, PROV_ZERO, userTag } from '../../model/world/provenance.js';
import type { RunResult } from '../../model/scenario/runScenario.js';
import { GMEM_GUP_NPAGES, PS, SRC, folioPfn, initMemRegion, launchUpdate, page, scenario, setupOps } from '../model/fixtures.js';
import { expectMatrixViolated, invariantCases, mutant, rev } from './caseTable.js';

const S = setupOps();
/** The set-up with the source's first page never written by the VMM (the shared zero page). */
const UNTOUCHED_FIRST = S.map((op) => (op.kind === 'mmap' ? { ...op, untouched: [0] } : op));
/** A CPUID page from `uaddr` that the firmware corrects. */
const cpuidFrom = (uaddr: number) => launchUpdate({ uaddr, type: KVM_SEV_SNP_PAGE_TYPE_CPUID, faults: [{ kind: 'fw', cmd: 'SNP_LAUNCH_UPDATE', condition: 'cpuid_table', nth: 1 }] });

/** Destination page `at` holds exactly the user bytes from `from` on (generation 1). */
function expectCopiedFrom(r: RunResult, at: number, from: number): void {
  const pfn = folioPfn(r.world, at);
  expect(pfn).toBeDefined();
  if (pfn === undefined) return;
  const prov = [...page(r.world, pfn).prov];
  expect(prov).toEqual(Array.from({ length: PS }, (_x, b) => userTag(from + b, 1)));
}

test('the matrix expects B3 on TDX rfc-v1', () => {
  expectMatrixViolated('src-offset-straddling', 'tdx', 'rfc-v1', 'wrongByte');
});

invariantCases(srcOffsetStraddling, {
  holds: [
    {
      name: 'rfc-v1 source offset PAGE_SIZE-1 over GMEM_GUP_NPAGES pages: two memcpy()s a page',
      revision: rev('rfc-v1'),
      scenario: scenario('snp', [...S, launchUpdate({ uaddr: SRC + PS - 1, npages: GMEM_GUP_NPAGES })]),
      check: (r) => {
        expect(r.results[4]).toMatchObject({ ret: 0, out: { uaddr: SRC + PS - 1 + GMEM_GUP_NPAGES * PS, len: 0 } });
        expectCopiedFrom(r, 0, SRC + PS - 1);
        expectCopiedFrom(r, 3, SRC + 4 * PS - 1);
      },
    },
    {
      name: 'rfc-v1 source offset 1',
      revision: rev('rfc-v1'),
      scenario: scenario('snp', [...S, launchUpdate({ uaddr: SRC + 1, npages: 2 })]),
      check: (r) => expectCopiedFrom(r, 1, SRC + PS + 1),
    },
    {
      name: 'kvm-x86-next-2025.11.07 copy_from_user() from an unaligned source',
      revision: rev('kvm-x86-next-2025.11.07'),
      scenario: scenario('snp', [...S, launchUpdate({ uaddr: SRC + PS - 1, npages: 3 })]),
      check: (r) => expectCopiedFrom(r, 2, SRC + 3 * PS - 1),
    },
    {
      name: 'ZERO pages hold zeros, SECRETS pages the firmware\'s bytes',
      revision: rev('kvm-x86-next'),
      scenario: scenario('snp', [...S, launchUpdate({ type: KVM_SEV_SNP_PAGE_TYPE_ZERO }), launchUpdate({ at: 1, type: KVM_SEV_SNP_PAGE_TYPE_SECRETS })]),
      check: (r) => {
        const z = folioPfn(r.world, 0);
        const s = folioPfn(r.world, 1);
        expect(z === undefined ? [] : [...new Set(page(r.world, z).prov)]).toEqual([PROV_ZERO]);
        expect(z === undefined ? [] : [...new Set(page(r.world, z).data)]).toEqual([0]);
        expect(s === undefined ? [] : [...new Set(page(r.world, s).prov)]).toEqual([PROV_FIRMWARE]);
      },
    },
    {
      name: 'the CPUID write-back lands on the failed page\'s source, all of it',
      revision: rev('kvm-x86-next'),
      scenario: scenario('snp', [...S, launchUpdate({ npages: 2, type: KVM_SEV_SNP_PAGE_TYPE_CPUID, faults: [{ kind: 'fw', cmd: 'SNP_LAUNCH_UPDATE', condition: 'cpuid_table', nth: 2 }] })]),
      check: (r) => expect(r.results[4]).toMatchObject({ ret: 0, out: { gfn_start: 0x11, uaddr: SRC + PS } }),
    },
    {
      name: 'a write-back into an untouched source: copied on write by copy_to_user() (kvm-x86-next-2025.11.07), all of it lands',
      revision: rev('kvm-x86-next-2025.11.07'),
      scenario: scenario('snp', [...UNTOUCHED_FIRST, cpuidFrom(SRC + 3)]),
      check: (r) => expect(r.results[4]).toMatchObject({ ret: -5, out: { error: 0x16 } }),
    },
    {
      // What lands in the zero page (rfc-v1 kmaps its read-only pin of it) is G2's, source-write-permission's
      // zeroPageWritten; the VMM's own page gets the rest of the table, all of it.
      name: 'rfc-v1\'s write-back of a straddling source whose first page is the zero page: the VMM\'s own page gets its part whole',
      revision: rev('rfc-v1'),
      scenario: scenario('snp', [...UNTOUCHED_FIRST, cpuidFrom(SRC + 3)]),
      check: (r) => expect(r.results[4]).toMatchObject({ ret: -5, out: { error: 0x16 } }),
    },
    { name: 'TDX v7.0 copies through PAGE.ADD', revision: rev('v7.0'), scenario: scenario('tdx', [...S, initMemRegion({ nr_pages: 3 })]), check: (r) => expectCopiedFrom(r, 2, SRC + 2 * PS) },
  ],
  violated: [
    {
      name: 'B3: rfc-v1 TDX adds from src_pages[1], a wild page',
      revision: rev('rfc-v1'),
      scenario: scenario('tdx', [...S, initMemRegion()], { 'tdx_gmem_post_populate:i': 1 }),
      messageId: 'wrongByte',
      opIndex: 4,
    },
    {
      name: 'mutant reads src_pages[i] for src_pages[i + 1]: it reads before the source, and copies the wrong bytes',
      revision: mutant('rfc-v1+straddle-same-page'),
      scenario: scenario('snp', [...S, launchUpdate({ uaddr: SRC + PS - 1 })]),
      messageId: 'readPastSource',
      opIndex: 4,
      also: ['wrongByte'],
    },
    {
      name: 'mutant double-put: the freed source page becomes a folio the user still maps, and populate writes it',
      revision: mutant('kvm-x86-next+double-put'),
      scenario: scenario('snp', [...S, launchUpdate({ npages: 5 })]),
      messageId: 'writeBackOutside',
      opIndex: 4,
    },
  ],
});
