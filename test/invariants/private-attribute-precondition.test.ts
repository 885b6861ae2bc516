import { expect } from 'vitest';
import { privateAttributePrecondition } from '../../properties/invariants/private-attribute-precondition.js';
import { KVM_MEMORY_ATTRIBUTE_PRIVATE } from '../../model/world/kvmState.js';
import { BASE_GFN, PS, allocate, initMemRegion, launchUpdate, scenario, setupOps } from '../model/fixtures.js';
import { invariantCases, mutant, rev } from './caseTable.js';

const SHARED = setupOps({ private: null });
/** Only the first two pages of the slot are private. */
const HALF = setupOps({ private: [0, 2] });

invariantCases(privateAttributePrecondition, {
  holds: [
    {
      name: 'SNP on a shared gfn: __kvm_gmem_populate() says -EINVAL, the ioctl -EIO',
      revision: rev('v7.0'),
      scenario: scenario('snp', [...SHARED, launchUpdate()]),
      check: (r) => expect(r.results[3]).toMatchObject({ ret: -5, out: { error: 0, gfn_start: BASE_GFN } }),
    },
    {
      name: 'SNP populating across the private boundary stops at it (partial success)',
      revision: rev('kvm-x86-next'),
      scenario: scenario('snp', [...HALF, launchUpdate({ npages: 4 })]),
      check: (r) => expect(r.results[4]).toMatchObject({ ret: 0, out: { gfn_start: BASE_GFN + 2, len: 2 * PS } }),
    },
    {
      name: 'kvm-x86-next-2025.11.07 checks the attribute under the invalidate lock too',
      revision: rev('kvm-x86-next-2025.11.07'),
      scenario: scenario('snp', [...SHARED, launchUpdate()]),
      check: (r) => expect(r.results[3]?.ret).toBe(-5),
    },
    {
      name: 'TDX on a shared gfn: -EINVAL propagated',
      revision: rev('kvm-x86-next'),
      scenario: scenario('tdx', [...SHARED, initMemRegion()]),
      check: (r) => expect(r.results[3]?.ret).toBe(-22),
    },
    {
      name: 'attributes set after the memslot: back to shared then private again',
      revision: rev('kvm-x86-next'),
      scenario: scenario('snp', [
        ...setupOps(),
        { kind: 'set_memory_attributes', address: BASE_GFN * PS, size: PS, attributes: 0n, flags: 0n },
        { kind: 'set_memory_attributes', address: BASE_GFN * PS, size: PS, attributes: BigInt(KVM_MEMORY_ATTRIBUTE_PRIVATE), flags: 0n },
        launchUpdate(),
      ]),
      check: (r) => expect(r.results.map((x) => x.ret)).toEqual([1, 0, 0, 0, 0, 0, 0]),
    },
    {
      name: 'fallocate() over shared gfns: merged trees only allocate (nothing is prepared before a fault)',
      revision: rev('v6.17'),
      scenario: scenario('snp', [...HALF, allocate({ npages: 4 })]),
      check: (r) => expect(r.results[4]?.ret).toBe(0),
    },
  ],
  violated: [
    {
      name: 'G28: paolo-v1\'s fallocate() prepares the page of a shared gfn: guest-private in the RMP',
      revision: rev('paolo-v1'),
      scenario: scenario('snp', [...HALF, allocate({ at: 2 })]),
      messageId: 'notPrivate',
      opIndex: 4,
    },
    {
      name: 'mutant without the attribute check populates a shared SNP gfn',
      revision: mutant('kvm-x86-next+no-attr-check'),
      scenario: scenario('snp', [...SHARED, launchUpdate()]),
      messageId: 'notPrivate',
      opIndex: 3,
    },
    {
      name: 'mutant without the attribute check populates a shared TDX gfn',
      revision: mutant('kvm-x86-next+no-attr-check'),
      scenario: scenario('tdx', [...HALF, initMemRegion({ at: 2 })]),
      messageId: 'notPrivate',
      opIndex: 4,
    },
  ],
});
