import { expect, test } from 'vitest';
import { inPlaceSourceInvariant } from '../../properties/invariants/in-place-source.js';
import { GUEST_MEMFD_FLAG_MMAP } from '../../model/kernel/guest_memfd.js';
import { KVM_SEV_SNP_PAGE_TYPE_CPUID, KVM_SEV_SNP_PAGE_TYPE_UNMEASURED, KVM_SEV_SNP_PAGE_TYPE_ZERO } from '../../model/backends/snp/uapi.js';
import { EIO } from '../../model/kernel/errno.js';
import { gmemUserAddress } from '../../model/world/userspaceMm.js';
import { decodeProvenance } from '../../model/world/provenance.js';
import type { BackendId, Fault, Op, Scenario } from '../../model/scenario/Scenario.js';
import { GMEM, PS, folioPfn, initMemRegion, launchUpdate, page, scenario, setupOps } from '../model/fixtures.js';
import { expectMatrixViolated, invariantCases, rev, type HoldsCase } from './caseTable.js';

/** The set-up with the in-place series on: an MMAP guest_memfd (or `flags`), every index private. */
function inPlace(backend: BackendId, ops: readonly Op[], flags = GUEST_MEMFD_FLAG_MMAP): Scenario {
  return { ...scenario(backend, [...setupOps({ gmemFlags: flags, private: null }), ...ops]), inPlace: true };
}
const FW_FAILS: Fault = { kind: 'fw', cmd: 'SNP_LAUNCH_UPDATE', condition: 'fw_resource', nth: 1 };
const CPUID_CORRECTED: Fault = { kind: 'fw', cmd: 'SNP_LAUNCH_UPDATE', condition: 'cpuid_table', nth: 1 };
const nullPopulate = (backend: BackendId, at: number): Op => (backend === 'snp' ? launchUpdate({ at, uaddr: 0 }) : initMemRegion({ at, source_addr: 0 }));
/** Yan Zhao's steps 3-6 on v8 23/46: shared, written through the mapping, private, populated. */
const image = (backend: BackendId, at: number): Op[] => [
  { kind: 'gmem_convert', guest_memfd: GMEM, offset: at * PS, size: PS, to: 'shared' },
  { kind: 'gmem_user_fault', guest_memfd: GMEM, offset: at * PS, write: true },
  { kind: 'gmem_convert', guest_memfd: GMEM, offset: at * PS, size: PS, to: 'private' },
  nullPopulate(backend, at),
];

test('the matrix expects B17 on inplace-v7 and B19 on both in-place revisions, in the in-place cell only', () => {
  for (const backend of ['snp', 'tdx'] as const) {
    expectMatrixViolated('in-place-source', backend, 'inplace-v7', 'stale', 'in-place');
    expectMatrixViolated('measurement', backend, 'inplace-v7', 'mismatch', 'in-place');
    expectMatrixViolated('in-place-source', backend, 'inplace-v8', 'unmappable', 'in-place');
  }
});

invariantCases(inPlaceSourceInvariant, {
  holds: (['snp', 'tdx'] as const).flatMap((backend): HoldsCase[] => [
    {
      name: `${backend}: the page the VMM wrote through its mapping is loaded as it wrote it`,
      revision: rev('inplace-v8'),
      scenario: inPlace(backend, image(backend, 2)),
      check: (r) => {
        expect(r.results.slice(-4).map((x) => x.ret)).toEqual([0, 0, 0, 0]);
        const p = page(r.world, folioPfn(r.world, 2) ?? 0);
        const first = decodeProvenance(p.prov[0] ?? 0);
        expect(first).toEqual({ kind: 'user', uaddr: gmemUserAddress(GMEM, 2, PS), generation: 1 });
      },
    },
    {
      name: `${backend}: a page the VMM never touched is loaded as zeros (21/46 clears it in __kvm_gmem_get_pfn())`,
      revision: rev('inplace-v8'),
      scenario: inPlace(backend, [nullPopulate(backend, 1)]),
      check: (r) => {
        expect(r.results.at(-1)?.ret).toBe(0);
        expect([...page(r.world, folioPfn(r.world, 1) ?? 0).data].every((b) => b === 0)).toBe(true);
      },
    },
    {
      name: `${backend}: a populate from a user buffer is not this invariant's (v7 too)`,
      revision: rev('inplace-v7'),
      scenario: inPlace(backend, [backend === 'snp' ? launchUpdate({ at: 0 }) : initMemRegion({ at: 0 })], 0),
    },
    {
      name: `${backend}: a page written, then punched out, is a new page: populated in place as zeros`,
      revision: rev('inplace-v8'),
      scenario: inPlace(backend, [...image(backend, 2).slice(0, 3), { kind: 'punch_hole', guest_memfd: GMEM, offset: 2 * PS, len: PS, faults: [] }, nullPopulate(backend, 2)]),
      check: (r) => expect([...page(r.world, folioPfn(r.world, 2) ?? 0).data].every((b) => b === 0)).toBe(true),
    },
  ]).concat([
    {
      name: 'snp: ZERO pages have no source to take, in place or not',
      revision: rev('inplace-v7'),
      scenario: inPlace('snp', [launchUpdate({ at: 0, uaddr: 0, type: KVM_SEV_SNP_PAGE_TYPE_ZERO })], 0),
    },
    {
      // What the failed call copied in stays (the folio is uptodate): the VMM's own source, which
      // the retry in place then loads.
      name: 'snp: a populate from a buffer the firmware refused, retried in place, loads what that call copied in',
      revision: rev('inplace-v8'),
      scenario: inPlace('snp', [launchUpdate({ at: 1, faults: [FW_FAILS] }), nullPopulate('snp', 1)]),
      check: (r) => expect(r.results.slice(-2).map((x) => x.ret)).toEqual([-EIO, 0]),
    },
    {
      // The firmware corrected the CPUID table in the page; the retry loads the corrected table.
      name: 'snp: a CPUID page in place the firmware corrected, retried, loads the correction',
      revision: rev('inplace-v8'),
      scenario: inPlace('snp', [...image('snp', 1).slice(0, 3), launchUpdate({ at: 1, uaddr: 0, type: KVM_SEV_SNP_PAGE_TYPE_CPUID, faults: [CPUID_CORRECTED] }), launchUpdate({ at: 1, uaddr: 0, type: KVM_SEV_SNP_PAGE_TYPE_CPUID })]),
      check: (r) => expect(r.results.slice(-2).map((x) => x.ret)).toEqual([-EIO, 0]),
    },
  ]),
  violated: (['snp', 'tdx'] as const).flatMap((backend) => [
    {
      name: `${backend}: v7 loads an untouched page as the allocator left it (B17)`,
      revision: rev('inplace-v7'),
      scenario: inPlace(backend, [nullPopulate(backend, 1)]),
      messageId: 'stale' as const,
    },
    {
      name: `${backend}: a host fault that leaves the page not uptodate (injected v8~fault-not-uptodate): 21/46 clears the VMM's image away`,
      revision: rev('inplace-v8'),
      scenario: { ...inPlace(backend, image(backend, 2)), inPlace: 'v8~fault-not-uptodate' },
      messageId: 'stale' as const,
    },
    {
      name: `${backend}: a NULL source on a guest_memfd the VMM cannot map (B19)`,
      revision: rev('inplace-v8'),
      scenario: inPlace(backend, [backend === 'snp' ? launchUpdate({ at: 1, uaddr: 0, type: KVM_SEV_SNP_PAGE_TYPE_UNMEASURED }) : nullPopulate(backend, 1)], 0),
      messageId: 'unmappable' as const,
    },
  ]),
});
