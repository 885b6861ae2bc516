import fc from 'fast-check';
import { tdxBackend } from '../../model/backends/tdx/backend.js';
import { KVM_TDX_MEASURE_MEMORY_REGION, TDX_SHARED_BIT } from '../../model/backends/tdx/uapi.js';
import type { Fault, Op } from '../../model/scenario/Scenario.js';
import { callFaultArb, faultPlanArb } from '../faultPlan.js';
import { BUFFER_ADDRS, type Layout } from '../layout.js';
import { KVM_MEMORY_ATTRIBUTE_PRIVATE, KVM_MEM_GUEST_MEMFD } from '../../model/world/kvmState.js';
import { GMEM_FD, onePagePopulateArb } from './common.js';
import { pageCountArb } from '../pageCount.js';
import { gfnInSlotArb, sourceAddrArb } from '../sourceAddr.js';

/**
 * KVM_TDX_INIT_MEM_REGION with `struct kvm_tdx_init_mem_region` and `kvm_tdx_cmd.flags`:
 * mostly what tdx_vcpu_init_mem_region() accepts, sometimes a shared or unaligned GPA or an
 * unknown flag.
 */
export function tdxInitMemRegionArb(l: Layout): fc.Arbitrary<Op> {
  const ps = l.geometry.page_size;
  const gup = 2 ** l.geometry.pmd_order;
  return fc.record({ gfn: gfnInSlotArb(l), source_addr: sourceAddrArb(l) }).chain(({ gfn, source_addr }) =>
    fc
      .record({
        // nr_pages 0 is refused up front (!region.nr_pages); around 2^(64 - PAGE_SHIFT) the C's
        // `nr_pages << PAGE_SHIFT` wraps: one page short (the end wraps below the start) and the
        // wrap to 0 are refused, one page more is a one-page size, accepted, and the loop walks
        // on until a page fails (syzkaller's u64 values; the Stryker hole of reports/mutation-triage.md).
        nr_pages: fc.oneof(
          { arbitrary: pageCountArb(l.slot.base_gfn + l.slot.npages - gfn, gup).map(BigInt), weight: 40 },
          { arbitrary: fc.constant(0n), weight: 1 },
          { arbitrary: fc.constantFrom(-1n, 0n, 1n).map((d) => (1n << BigInt(64 - Math.log2(ps))) + d), weight: 1 },
        ),
        gpaSkew: fc.oneof({ arbitrary: fc.constant(0), weight: 30 }, { arbitrary: fc.constantFrom(1, TDX_SHARED_BIT), weight: 1 }),
        flags: fc.oneof(
          { arbitrary: fc.constantFrom(KVM_TDX_MEASURE_MEMORY_REGION, 0), weight: 30 },
          { arbitrary: fc.constant(2), weight: 1 },
        ),
        // The populate's own SEAMCALLs first. Before v6.19 a contended PAGE.ADD ends the call (no
        // retry), so the pair below never reaches MR.EXTEND there: its failure alone, too (G18).
        faults: fc.oneof(
          { arbitrary: faultPlanArb(tdxBackend, ['TDH.MEM.PAGE.ADD:tdr_busy', 'TDH.MR.EXTEND:tdr_busy'], [[{ cmd: 'TDH.MEM.PAGE.ADD', condition: 'tdr_busy' }, { cmd: 'TDH.MR.EXTEND', condition: 'tdr_busy' }]]), weight: 9 },
          { arbitrary: fc.integer({ min: 1, max: 3 }).map((nth): Fault[] => [{ kind: 'fw', cmd: 'TDH.MR.EXTEND', condition: 'tdr_busy', nth }]), weight: 2 },
          // The populate's own kernel calls (GUP, a signal, the folio): at weight 1, GUP's -EFAULT
          // met tdx/kvm-x86-next-2025.11.07's callback 0 times in 300 runs under seed 24 (3-9
          // under seeds 1..30 otherwise).
          { arbitrary: callFaultArb(), weight: 2 },
        ),
      })
      .map(({ nr_pages, gpaSkew, flags, faults }): Op => ({ kind: 'tdx_init_mem_region', source_addr, gpa: gfn * ps + gpaSkew, nr_pages, flags, faults })),
  );
}

/**
 * KVM_TDX_INIT_MEM_REGION of one page from a NULL source (T.src: the old callback's GUP gives
 * -EFAULT; RFC v1's uninitialised `src_pages[i]` adds from a wild pointer, B3), half the time
 * with its TDH.MEM.PAGE.ADD contended, so the count the call writes back is judged on a failed
 * add too. A NULL source in the random populates (2 in 33) met the contended add under 29 seeds
 * of 30 on tdx/rfc-v1 (reports/detection.md at b2bc0f6).
 */
export function nullSourceArb(l: Layout): fc.Arbitrary<Op> {
  const ps = l.geometry.page_size;
  return fc.record({ gfn: gfnInSlotArb(l), faults: fc.constantFrom<Fault[]>([], [{ kind: 'fw', cmd: 'TDH.MEM.PAGE.ADD', condition: 'tdr_busy', nth: 1 }]) })
    .map(({ gfn, faults }): Op => ({ kind: 'tdx_init_mem_region', source_addr: 0, gpa: gfn * ps, nr_pages: 1n, flags: KVM_TDX_MEASURE_MEMORY_REGION, faults }));
}

/**
 * KVM_TDX_INIT_MEM_REGION whose range starts on the last private page below the shared bit and
 * ends past it: the start passes vt_is_tdx_private_gpa(), the end does not (-EINVAL from the
 * newest tree's range check; the old loop meets the shared gfn per page). The random populates
 * skew the start onto the shared bit, never the end across it.
 */
export function sharedEndArb(l: Layout): fc.Arbitrary<Op> {
  const ps = l.geometry.page_size;
  return fc.constantFrom(2n, 3n).map((nr_pages): Op => ({ kind: 'tdx_init_mem_region', source_addr: l.buffers[0]?.addr ?? 0, gpa: TDX_SHARED_BIT - ps, nr_pages, flags: KVM_TDX_MEASURE_MEMORY_REGION, faults: [] }));
}

/**
 * A range from a page of its own just below the shared bit: the guest_memfd's next unbound page
 * bound by a one-page memslot there, made private. One page ends exactly at the shared bit (a
 * valid call); two or three cross it, and the range check refuses them before any page (T.7),
 * where a check that looks at the wrong end lets the first page in and stops at the shared one.
 * Nothing when the file has no page left after the slot.
 */
export function sharedEdgeSlotArb(l: Layout): fc.Arbitrary<Op[]> {
  const ps = l.geometry.page_size;
  const next = l.slot.pgoff + l.slot.npages;
  if (next >= l.gmemPages) return fc.constant<Op[]>([]);
  const base = TDX_SHARED_BIT - ps;
  // One page (half the draws) ends the range exactly at the shared bit: a valid call, populated.
  return fc.constantFrom(1n, 1n, 2n, 3n).map((nr_pages): Op[] => [
    { kind: 'set_user_memory_region2', slot: 5, flags: KVM_MEM_GUEST_MEMFD, guest_phys_addr: base, memory_size: ps, userspace_addr: BUFFER_ADDRS[1], guest_memfd: GMEM_FD, guest_memfd_offset: BigInt(next * ps) },
    { kind: 'set_memory_attributes', address: base, size: ps, attributes: BigInt(KVM_MEMORY_ATTRIBUTE_PRIVATE), flags: 0n },
    { kind: 'tdx_init_mem_region', source_addr: l.buffers[0]?.addr ?? 0, gpa: base, nr_pages, flags: KVM_TDX_MEASURE_MEMORY_REGION, faults: [] },
  ]);
}

/** A KVM_TDX_INIT_MEM_REGION of the slot's first page whose kvm_tdx_cmd.hw_error userspace set: -EINVAL. */
export function hwErrorPopulateArb(l: Layout): fc.Arbitrary<Op> {
  const ps = l.geometry.page_size;
  return fc.constant<Op>({ kind: 'tdx_init_mem_region', source_addr: l.buffers[0]?.addr ?? 0, gpa: l.slot.base_gfn * ps, nr_pages: 1n, flags: KVM_TDX_MEASURE_MEMORY_REGION, hw_error: 1, faults: [] });
}

/**
 * A populate of one private page whose TDH.MEM.PAGE.ADD is contended, then KVM_TDX_FINALIZE_VM:
 * from the TDX MMU rework on the busy add is retried inside the map and the finalize succeeds
 * (TF.1); on the v6.16 .. v6.18 MMU the populate returns -EBUSY with the entry left premapped
 * and the finalize must refuse (TF.3). None where the layout has no private page or mapped source.
 */
export function busyAddFinalizeArb(l: Layout): fc.Arbitrary<readonly Op[]> | undefined {
  return onePagePopulateArb('tdx', l)?.map(({ populate }): readonly Op[] => [
    populate.kind === 'tdx_init_mem_region' ? { ...populate, faults: [{ kind: 'fw', cmd: 'TDH.MEM.PAGE.ADD', condition: 'tdr_busy', nth: 1 }] } : populate,
    { kind: 'tdx_finalize_vm', faults: [] },
  ]);
}

/** KVM_TDX_FINALIZE_VM, half the time with TDH.MR.FINALIZE contended (KVM returns -EBUSY). */
export function tdxFinalizeArb(): fc.Arbitrary<Op> {
  return fc
    .constantFrom<Fault[]>([], [{ kind: 'fw', cmd: 'TDH.MR.FINALIZE', condition: 'tdr_busy', nth: 1 }])
    .map((faults): Op => ({ kind: 'tdx_finalize_vm', faults }));
}

/**
 * A populate of a private page from a mapped source, whose nr_pages makes the C's size wrap:
 * 2^(64 - PAGE_SHIFT) (size 0) or one less (the end wraps below the start). Both are refused by
 * the overflow check alone, and the page would populate, so a tree whose check misses the wrap
 * walks on from it. The random populates draw such counts at a page that can populate about 3
 * runs in 300 (tdx/v6.17: neither form of the dropped check told at the suite seed). None where
 * the layout has no private page or mapped source.
 */
export function sizeWrapArb(l: Layout): fc.Arbitrary<Op> | undefined {
  const wrap = 1n << BigInt(64 - Math.log2(l.geometry.page_size));
  return onePagePopulateArb('tdx', l)?.chain(({ populate }) => fc.constantFrom(wrap, wrap - 1n).map((nr_pages): Op => (populate.kind === 'tdx_init_mem_region'
    ? { ...populate, nr_pages, faults: [] }
    : populate)));
}

/**
 * A measured one-page populate of a private page from a mapped source whose first TDH.MR.EXTEND
 * is contended (fw:TDH.MR.EXTEND:tdr_busy): the random populates' fault plans reach it 8 to 11
 * times in 300 runs on tdx/v6.17, and 4 under seed 13 (the detection benchmark at stop 28),
 * against a minimum of 5. None where the layout has no private page or mapped source.
 */
export function extendBusyArb(l: Layout): fc.Arbitrary<Op> | undefined {
  return onePagePopulateArb('tdx', l)?.map(({ populate }): Op => (populate.kind === 'tdx_init_mem_region'
    ? { ...populate, flags: KVM_TDX_MEASURE_MEMORY_REGION, faults: [{ kind: 'fw', cmd: 'TDH.MR.EXTEND', condition: 'tdr_busy', nth: 1 }] }
    : populate));
}

/**
 * Through the fd of a second vCPU (Scenario.vcpus): KVM_TDX_INIT_VCPU on it, then a populate
 * through it (half the draws); the populate alone, before vCPU 1 is initialized (T.10's -EINVAL
 * for that vCPU, whatever vCPU 0's state); or its KVM_TDX_INIT_VCPU twice (TV.3). The populate
 * is a one-page load of a private page from a mapped source where the layout has one, so it
 * gets to the TDX module; else a random one.
 */
export function secondVcpuArb(l: Layout): fc.Arbitrary<readonly Op[]> {
  const populate = onePagePopulateArb('tdx', l)?.map(({ populate: p }) => p) ?? tdxInitMemRegionArb(l);
  const onVcpu1 = populate.map((p): Op => (p.kind === 'tdx_init_mem_region' ? { ...p, vcpu: 1 } : p));
  const init: Op = { kind: 'tdx_init_vcpu', vcpu: 1 };
  return fc.oneof(
    { arbitrary: onVcpu1.map((p) => [init, p]), weight: 2 },
    { arbitrary: onVcpu1.map((p) => [p]), weight: 1 },
    { arbitrary: fc.constant([init, init]), weight: 1 },
  );
}
