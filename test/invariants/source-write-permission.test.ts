import { expect, test } from 'vitest';
import { sourceWritePermission } from '../../properties/invariants/source-write-permission.js';
import { KVM_SEV_SNP_PAGE_TYPE_CPUID } from '../../model/backends/snp/uapi.js';
import type { Fault } from '../../model/scenario/Scenario.js';
import { SRC, launchUpdate, page, scenario, setupOps } from '../model/fixtures.js';
import { userPfn } from '../../model/world/userspaceMm.js';
import { expectMatrixViolated, invariantCases, rev } from './caseTable.js';

const S = setupOps();
const RO = setupOps({ prot: 'ro' });
/** The set-up with a source the VMM mapped and never wrote: the shared zero page. */
const UNTOUCHED = S.map((op) => (op.kind === 'mmap' ? { ...op, untouched: [0] } : op));
const cpuidTable: Fault = { kind: 'fw', cmd: 'SNP_LAUNCH_UPDATE', condition: 'cpuid_table', nth: 1 };
const cpuid = launchUpdate({ type: KVM_SEV_SNP_PAGE_TYPE_CPUID, faults: [cpuidTable] });

test('the matrix expects G2 on SNP rfc-v1 and v7.0', () => {
  expectMatrixViolated('source-write-permission', 'snp', 'rfc-v1', 'writeWithoutFollWrite');
  expectMatrixViolated('source-write-permission', 'snp', 'v7.0', 'writeWithoutFollWrite');
});

invariantCases(sourceWritePermission, {
  holds: [
    {
      name: 'kvm-x86-next pins CPUID sources with FOLL_WRITE and dirties them',
      revision: rev('kvm-x86-next'),
      scenario: scenario('snp', [...S, cpuid]),
      check: (r) => {
        expect(r.results[4]).toMatchObject({ ret: -5, out: { error: 0x16 } });
        const pfn = userPfn(r.world.mm, SRC, 64);
        expect(pfn === undefined ? false : page(r.world, pfn).dirty).toBe(true);
      },
    },
    {
      name: 'kvm-x86-next refuses to pin a read-only CPUID source for write: -EIO, error 0',
      revision: rev('kvm-x86-next'),
      scenario: scenario('snp', [...RO, cpuid]),
      check: (r) => expect(r.results[4]).toMatchObject({ ret: -5, out: { error: 0 } }),
    },
    { name: 'kvm-x86-next-2025.11.07 writes back with copy_to_user(), which honours the mapping', revision: rev('kvm-x86-next-2025.11.07'), scenario: scenario('snp', [...RO, cpuid]) },
    {
      name: 'kvm-x86-next\'s FOLL_WRITE pin of an untouched source breaks copy-on-write first: the write-back lands on a page of its own',
      revision: rev('kvm-x86-next'),
      scenario: scenario('snp', [...UNTOUCHED, cpuid]),
      check: (r) => {
        const pfn = userPfn(r.world.mm, SRC, 64);
        expect(pfn === undefined ? 'unmapped' : page(r.world, pfn).owner.kind).toBe('anon');
      },
    },
    { name: 'kvm-x86-next-2025.11.07\'s copy_to_user() into an untouched source copies it on write', revision: rev('kvm-x86-next-2025.11.07'), scenario: scenario('snp', [...UNTOUCHED, cpuid]) },
  ],
  violated: [
    {
      name: 'G2: v7.0 writes the CPUID table back through a read-only pin',
      revision: rev('v7.0'),
      scenario: scenario('snp', [...S, cpuid]),
      messageId: 'writeWithoutFollWrite',
      opIndex: 4,
      also: ['notDirtied'],
    },
    {
      name: 'G2: v7.0 scribbles on a PROT_READ source',
      revision: rev('v7.0'),
      scenario: scenario('snp', [...RO, cpuid]),
      messageId: 'writeWithoutFollWrite',
      opIndex: 4,
    },
    {
      name: 'G2: v7.0 writes the corrected table into the shared zero page, which its read-only pin of an untouched source took',
      revision: rev('v7.0'),
      scenario: scenario('snp', [...UNTOUCHED, cpuid]),
      messageId: 'zeroPageWritten',
      opIndex: 4,
      check: (r) => {
        const pfn = userPfn(r.world.mm, SRC, 64);
        expect(pfn === undefined ? 'unmapped' : page(r.world, pfn).owner).toEqual({ kind: 'kernel', what: 'ZERO_PAGE' });
        expect(new Set(page(r.world, pfn ?? 0).data)).not.toEqual(new Set([0]));
      },
    },
    {
      name: 'G2: rfc-v1 the same, with a straddling source',
      revision: rev('rfc-v1'),
      scenario: scenario('snp', [...S, launchUpdate({ uaddr: SRC + 3, type: KVM_SEV_SNP_PAGE_TYPE_CPUID, faults: [cpuidTable] })]),
      messageId: 'writeWithoutFollWrite',
      opIndex: 4,
    },
  ],
});
