import fc from 'fast-check';
import { LAUNCH_FINISH_OPS, POPULATE_OPS, type BackendId, type Fault, type Op, type Scenario } from '../model/scenario/Scenario.js';
import { preFaultArb } from './ops/preFault.js';
import { gmemSourceArb, inPlaceImageArb } from './ops/inplace.js';
import { hugeLayoutArb, layoutArb, type Layout } from './layout.js';
import { allocatePopulateArb, attributesOpArb, lastPrivatePopulate, failedPrepareArb, leakingPunchArb, madviseArb, mappedSources, madvisePopulateArb, refusedSetupArb, fallocateArb, memoryFailureArb, poisonPopulateArb, readOnlyArgArb, withReadOnlyArg, type ReadOnlyArg, holeRetryArb, populatePunchArb, punchBeforePopulatedArb, u64EdgeArb, closeArb, memslotArb, munmapArb, punchHoleArb, remapArb, sameFileNeighbourArb, secondSlotArb, setupArb, teardownArb, userFaultArb, GMEM_FD } from './ops/common.js';
import { cpuidStraddlingArb, nullSourceArb as snpNullSourceArb, pastFolioArb, shortFolioArb, snpLaunchFinishArb, snpLaunchUpdateArb, snpLeakPathsArb, u64EdgePopulateArb, zeroPageCpuidArb } from './ops/snp.js';
import { KVM_SEV_SNP_PAGE_TYPE_CPUID, KVM_SEV_SNP_PAGE_TYPE_ZERO } from '../model/backends/snp/uapi.js';
import { busyAddFinalizeArb, extendBusyArb, hwErrorPopulateArb, nullSourceArb, secondVcpuArb, sharedEdgeSlotArb, sharedEndArb, sizeWrapArb, tdxFinalizeArb, tdxInitMemRegionArb } from './ops/tdx.js';
import type { RmmVersion } from '../model/revisions/Revision.js';
import type { WhatIfMode } from '../model/whatIf.js';
import { armActivateArb, armPopulateArb, ccaSetupArb, failedActivateArb, outsideIpaArb, protectedEdgeSlotArb, stalePopulateArb, unalignedPopulateArb, unalignedSourceArb } from './ops/cca.js';
import { ubArb } from './ub.js';
import { GUEST_MEMFD_FLAG_MMAP } from '../model/kernel/guest_memfd.js';

/** One operation after set-up: populate most of the time, the other operations around it. */
export function bodyOpArb(backend: BackendId, l: Layout, granulesPerPage = 1, rmm: RmmVersion = 'v1.0'): fc.Arbitrary<Op> {
  const populate = { snp: () => snpLaunchUpdateArb(l), tdx: () => tdxInitMemRegionArb(l), cca: () => armPopulateArb(l, granulesPerPage, rmm) }[backend]();
  const finish = { snp: snpLaunchFinishArb, tdx: tdxFinalizeArb, cca: armActivateArb }[backend]();
  return fc.oneof(
    { arbitrary: populate, weight: 12 },
    { arbitrary: userFaultArb(l), weight: 2 },
    { arbitrary: attributesOpArb(l), weight: 2 },
    { arbitrary: punchHoleArb(backend, l, rmm), weight: 4 },
    { arbitrary: munmapArb(l), weight: 1 },
    { arbitrary: remapArb(l), weight: 1 },
    { arbitrary: memslotArb(l), weight: 2 },
    { arbitrary: finish, weight: 3 },
    { arbitrary: closeArb(backend, rmm), weight: 1 },
  );
}

/**
 * A whole scenario for one backend: a layout, its set-up, one to six operations drawn from the
 * layout (so few runs are wasted on arguments that cannot work, while invalid ones still come
 * up), an optional tear-down, and the values undefined behaviour takes. The machine is one the
 * revision's kernel accepts unless `whatIf` names a mode that lifts its guard (model/whatIf.ts);
 * `mmapAccepted` says whether that kernel takes GUEST_MEMFD_FLAG_MMAP for the VM (v6.18+);
 * `inPlacePopulate` whether its populate is the in-place series' (Revision.gmemAttributes), whose
 * in-place cell then loads part of its image in place. An older populate under the series reads
 * the VM's attributes and not the file's, so converting its bound pages would judge a hybrid no
 * tree is: its in-place cell draws no such conversions.
 */
export function scenarioArb(backend: BackendId, rmm: RmmVersion = 'v1.0', whatIf?: WhatIfMode, mmapAccepted = true, inPlacePopulate = false, initShared = false): fc.Arbitrary<Scenario> {
  if (whatIf === 'hugepages') {
    return hugeLayoutArb(mmapAccepted).chain(({ layout, order }) => scenarioOn(backend, rmm, layout, { granules_per_page: 1, rtt_depth: 0 }, order).map((s): Scenario => ({ ...s, hugepages: { order } })));
  }
  // The in-place series builds on the v6.18 flags: every VM's guest_memfd may be mmap()ed. Drawn
  // as a v6.18 tree's default cell draws, so both cells of such a revision run the same scenarios.
  const inPlace = whatIf === 'in-place';
  const arb = fc.tuple(layoutArb(mmapAccepted || inPlace, initShared), ccaSetupArb(rmm, whatIf)).chain(([l, cca]) => scenarioOn(backend, rmm, l, cca, undefined, inPlace && inPlacePopulate, inPlace));
  return inPlace ? arb.map((s): Scenario => ({ ...s, inPlace: true })) : arb;
}

/**
 * One scenario in sixteen on x86 starts before the launch step populate needs (Scenario.launch):
 * SNP_LAUNCH_START or KVM_TDX_INIT_VCPU comes at a drawn place among the body ops, or never, so
 * populates (and LAUNCH_FINISH) meet the VM before it. `undefined`: the usual start; `null`:
 * never started; a number: the body index the start op goes before. (One in ten cost the populates
 * the cells' success minimums count: rfc-v1's successful SNP populates fell to 33 of 30 over 40 seeds.)
 */
function launchArb(backend: BackendId): fc.Arbitrary<number | null | undefined> {
  if (backend === 'cca') return fc.constant(undefined);
  const notStarted = fc.oneof({ arbitrary: fc.nat({ max: 6 }), weight: 5 }, { arbitrary: fc.constant(null), weight: 1 });
  return fc.oneof({ arbitrary: fc.constant(undefined), weight: 15 }, { arbitrary: notStarted, weight: 1 });
}

function withLaunch(backend: BackendId, body: readonly Op[], at: number | null | undefined): Pick<Scenario, 'launch'> & { body: Op[] } {
  if (at === undefined) return { body: [...body] };
  if (at === null) return { launch: 'not_started', body: [...body] };
  const start: Op = backend === 'snp' ? { kind: 'snp_launch_start' } : { kind: 'tdx_init_vcpu' };
  const i = Math.min(at, body.length);
  return { launch: 'not_started', body: [...body.slice(0, i), start, ...body.slice(i)] };
}

/** Operations put into a run's body once everything else of the run is drawn. */
type Insertion = { readonly at: number; readonly ops: readonly Op[] } | undefined;

/**
 * Drawn last in a run's record, so the rest of every run is what it was without it: in `none`
 * runs of `none + 2` nothing; else `alone` at a drawn place among the body ops (half the time
 * first), or the targeted sequence `first`, before them.
 */
function insertionArb(none: number, alone: fc.Arbitrary<Op>, first: fc.Arbitrary<readonly Op[]>): fc.Arbitrary<Insertion> {
  const at = fc.oneof({ arbitrary: fc.constant(0), weight: 1 }, { arbitrary: fc.nat({ max: 6 }), weight: 1 });
  return fc.oneof(
    { arbitrary: fc.constant(undefined), weight: none },
    { arbitrary: fc.record({ at, ops: alone.map((op) => [op]) }), weight: 1 },
    { arbitrary: first.map((ops) => ({ at: 0, ops })), weight: 1 },
  );
}

/**
 * fallocate() in one run in four: the op alone (generators/ops/common.ts fallocateArb), or, on
 * x86, a whole-file pre-allocation and a populate of one of its pages (allocatePopulateArb: G28
 * on paolo-v1 needs a populate the oracle says succeeds, and the body's own populates after the
 * op alone were too few: 0-4 runs of 300 under seeds 1..8).
 */
function allocateArb(backend: BackendId, l: Layout): fc.Arbitrary<Insertion> {
  return insertionArb(6, fallocateArb(l), allocatePopulateArb(backend, l));
}

/**
 * A hardware memory error (memory_failure()) in one run in six: alone at a drawn index, or in
 * the page of a populate that is then repeated (poisonPopulateArb).
 */
function poisonArb(backend: BackendId, l: Layout): fc.Arbitrary<Insertion> {
  return insertionArb(10, memoryFailureArb(l), poisonPopulateArb(backend, l));
}

/**
 * On SNP, one run in twelve ends its body with a launch finished without faults, alone or
 * between two populates (the second a page the set-up made private, from a mapped source), so the VMM populates a VM whose launch is over and the firmware refuses
 * it (SNP_LAUNCH_UPDATE's guest_state). Finishes from the body alone left it at one run of 300
 * under seed 19 on kvm-x86-next (mean 6 over seeds 1..40). Drawn after everything else, so TDX
 * and CCA runs are what they were.
 */
function finishedLaunchArb(backend: BackendId, l: Layout): fc.Arbitrary<Insertion> {
  if (backend !== 'snp') return fc.constant(undefined);
  const finish: Op = { kind: 'snp_launch_finish', faults: [] };
  // The populate after the finish is one that reaches the firmware (a random one mostly failed
  // before it: `fw:SNP_LAUNCH_UPDATE:guest_state` 1 of 300 under seed 24 on kvm-x86-next). It
  // is still drawn, and ignored, so the draws after it stay where they were.
  const after = lastPrivatePopulate(l);
  return insertionArb(10, fc.constant(finish), fc.tuple(snpLaunchUpdateArb(l), snpLaunchUpdateArb(l)).map(([a, b]) => [a, finish, after ?? b]));
}

/**
 * On SNP, one run in sixteen first loads a corrected CPUID page from an unaligned source that
 * runs into a read-only page (cpuidStraddlingArb, G30): first, as a page populated or allocated
 * before it refuses the populate (-EEXIST; at a drawn place, 16 of 17 such runs did not get to
 * the firmware on paolo-v1). Drawn after everything else, so TDX and CCA runs are what they were.
 */
function cpuidStraddlingInsertionArb(backend: BackendId, l: Layout): fc.Arbitrary<Insertion> {
  if (backend !== 'snp') return fc.constant(undefined);
  return fc.oneof(
    { arbitrary: fc.constant(undefined), weight: 15 },
    { arbitrary: cpuidStraddlingArb(l).map((ops) => ({ at: 0, ops })), weight: 1 },
  );
}

/**
 * Source pages the VMM never writes, so they map the shared zero page until a write fault
 * (model/kernel/zeroPage.ts): for each set-up buffer, in one run in ten a page of it, in one in
 * ten all of it. Drawn after everything else, so the rest of every run is what it was.
 */
function untouchedArb(l: Layout): fc.Arbitrary<readonly (readonly number[])[]> {
  return fc.tuple(...l.buffers.map((b) => fc.oneof(
    { arbitrary: fc.constant<number[]>([]), weight: 8 },
    { arbitrary: fc.nat({ max: b.npages - 1 }).map((u) => [u]), weight: 1 },
    { arbitrary: fc.constant(Array.from({ length: b.npages }, (_v, i) => i)), weight: 1 },
  )));
}

/** The set-up's buffer mappings with their untouched pages. */
function withUntouched(setup: readonly Op[], l: Layout, untouched: readonly (readonly number[])[]): Op[] {
  return setup.map((op) => {
    if (op.kind !== 'mmap') return op;
    const pages = untouched[l.buffers.findIndex((b) => b.addr === op.addr)] ?? [];
    return pages.length === 0 ? op : { ...op, untouched: pages };
  });
}

/** The slot's first gfn whose file index starts a folio of `nr` pages (the slot's own gfn when `nr` is 0). */
function firstFolioGfn(l: Layout, nr: number): number {
  const { base_gfn, pgoff } = l.slot;
  return base_gfn - pgoff + Math.ceil(pgoff / Math.max(nr, 1)) * nr;
}

/**
 * On SNP in the hugepages what-if, one run in eight first populates a whole huge folio (ZERO
 * pages, so no source can fail it) and the firmware refuses a page after the first: the old
 * multi-page callbacks (paolo-v1, v6.17, kvm-x86-next-2025.11.07, rfc-v1) then give the pages
 * they made private back to the host in their cleanup loop. Random bodies reached that loop with
 * more than one page about twice in 300 runs, never under 5 of 31 seeds. One run in eight more, a
 * CPUID page from the folio's first page and a mapped source whose next page is mapped too, the
 * firmware correcting the table of a later page: where the loop carries on past the request
 * (B6), the correction is written back past the source (writeBackOutside, which random bodies
 * reached under 3 and 4 seeds of 30 at stop 26). Drawn last.
 */
function wholeFolioFailureArb(backend: BackendId, l: Layout, order: number | undefined): fc.Arbitrary<Insertion> {
  const nr = order === undefined ? 0 : 2 ** order;
  const ps = l.geometry.page_size;
  const gfn = firstFolioGfn(l, nr);
  if (backend !== 'snp' || nr < 2 || gfn + nr > l.slot.base_gfn + l.slot.npages) return fc.constant(undefined);
  const populate = fc.integer({ min: 2, max: nr }).map((nth): Op => ({
    kind: 'snp_launch_update', gfn_start: BigInt(gfn), uaddr: 0, len: BigInt(nr * ps), type: KVM_SEV_SNP_PAGE_TYPE_ZERO, flags: 0,
    faults: [{ kind: 'fw', cmd: 'SNP_LAUNCH_UPDATE', condition: 'fw_resource', nth }],
  }));
  const sources = mappedSources(l);
  const src = sources.find((a) => sources.includes(a + ps));
  const cpuid = src === undefined ? undefined : fc.oneof({ arbitrary: fc.constant(2), weight: 3 }, { arbitrary: fc.integer({ min: 2, max: nr }), weight: 1 }).map((nth): Op => ({
    kind: 'snp_launch_update', gfn_start: BigInt(gfn), uaddr: src, len: BigInt(ps), type: KVM_SEV_SNP_PAGE_TYPE_CPUID, flags: 0,
    faults: [{ kind: 'fw', cmd: 'SNP_LAUNCH_UPDATE', condition: 'cpuid_table', nth }],
  }));
  return fc.oneof(
    { arbitrary: fc.constant(undefined), weight: cpuid === undefined ? 7 : 6 },
    { arbitrary: populate.map((op) => ({ at: 0, ops: [op] })), weight: 1 },
    ...(cpuid === undefined ? [] : [{ arbitrary: cpuid.map((op) => ({ at: 0, ops: [op] })), weight: 1 }]),
  );
}

/**
 * On TDX in the hugepages what-if, one run in eight first populates three pages from a huge
 * folio's first gfn with the third made shared: a correct loop stops at the third (oracle row
 * T.5, two pages written back), while the old one marks the whole folio prepared after its first
 * page and refuses the second with -EEXIST (B9's populatedCount, which random bodies reached
 * under 3 and 9 seeds of 30 at stop 26: their TDX errors mostly differ from the oracle's, a
 * wrongErrno). Drawn last.
 */
function stoppedInFolioArb(backend: BackendId, l: Layout, order: number | undefined): fc.Arbitrary<Insertion> {
  const nr = order === undefined ? 0 : 2 ** order;
  const ps = l.geometry.page_size;
  const gfn = firstFolioGfn(l, nr);
  const sources = mappedSources(l);
  const src = sources.find((a) => sources.includes(a + ps));
  if (backend !== 'tdx' || nr < 4 || gfn + 3 > l.slot.base_gfn + l.slot.npages || src === undefined) return fc.constant(undefined);
  const ops: Op[] = [
    { kind: 'set_memory_attributes', address: (gfn + 2) * ps, size: ps, attributes: 0n, flags: 0n },
    { kind: 'tdx_init_mem_region', source_addr: src, gpa: gfn * ps, nr_pages: 3n, flags: 1, faults: [] },
  ];
  return fc.oneof({ arbitrary: fc.constant(undefined), weight: 7 }, { arbitrary: fc.constant({ at: 0, ops }), weight: 1 });
}

/**
 * On SNP, one run in sixteen ends its body with a LAUNCH_FINISH whose VMSA update fails and whose
 * clean-up fails too (the VMSA is leaked: reclaim or the RMPUPDATE back to shared), then closes
 * the VM and its guest_memfds (which pin it), so the vCPU is freed with the leaked page (G27).
 * The body's own finishes reach it 2 to 14 times in 300 runs on kvm-x86-next, where a second
 * LAUNCH_FINISH is refused (G26's fix), and under seed 17 not at all. Drawn last.
 */
function leakedVmsaArb(backend: BackendId): fc.Arbitrary<readonly Op[] | undefined> {
  if (backend !== 'snp') return fc.constant(undefined);
  const update: Fault = { kind: 'fw', cmd: 'SNP_LAUNCH_UPDATE', condition: 'fw_resource', nth: 1 };
  const leak = fc.constantFrom<Fault[]>(
    [update, { kind: 'fw', cmd: 'SNP_PAGE_RECLAIM', condition: 'page_address', nth: 1 }],
    [update, { kind: 'fw', cmd: 'RMPUPDATE', condition: 'rmp_inuse', nth: 2 }],
  );
  return fc.oneof(
    { arbitrary: fc.constant(undefined), weight: 15 },
    {
      arbitrary: leak.map((faults): readonly Op[] => [
        { kind: 'snp_launch_finish', faults },
        { kind: 'close_vm' },
        // Both files a layout can have (the second slot's own guest_memfd); a missing one is -EBADF.
        { kind: 'close_guest_memfd', guest_memfd: 1 },
        { kind: 'close_guest_memfd', guest_memfd: 2 },
      ]),
      weight: 1,
    },
  );
}

/**
 * On x86, one run in twelve first gives the guest a page and punches it out with its firmware
 * state left behind (leakingPunchArb: G4 and G5 through kvm_gmem_punch_hole()). Drawn last.
 */
function leakingPunchInsertionArb(backend: BackendId, l: Layout): fc.Arbitrary<Insertion> {
  if (backend === 'cca') return fc.constant(undefined);
  return fc.oneof(
    { arbitrary: fc.constant(undefined), weight: 11 },
    { arbitrary: leakingPunchArb(backend, l).map((ops) => ({ at: 0, ops })), weight: 1 },
  );
}

/**
 * One run in six, at a drawn place among the body ops: a set-up call the kernel refuses
 * (refusedSetupArb: oracle rows G.3 and M.5, which no other generator drew, and on x86 the
 * launch step again). Drawn last.
 */
function refusedSetupInsertionArb(backend: BackendId, l: Layout): fc.Arbitrary<Insertion> {
  return fc.oneof(
    { arbitrary: fc.constant(undefined), weight: 5 },
    { arbitrary: fc.record({ at: fc.nat({ max: 6 }), ops: refusedSetupArb(l, backend).map((op) => [op]) }), weight: 1 },
  );
}

/**
 * One run in sixteen, an operation no random one draws. At a drawn place among the body ops: on
 * TDX a populate from a NULL source (nullSourceArb), across the shared bit (sharedEndArb) or with
 * kvm_tdx_cmd.hw_error set (hwErrorPopulateArb), 3:1:1; on CCA a populate at the top of the protected IPA space (outsideIpaArb) or
 * unaligned (unalignedPopulateArb). First in the run: on SNP a whole-file fallocate() whose
 * prepare fails (failedPrepareArb); on CCA an activation whose realm creation or REC fails
 * (failedActivateArb) or a populate of a page whose mapping outlived its punch-hole
 * (stalePopulateArb). Drawn last.
 */
function edgeOpInsertionArb(backend: BackendId, l: Layout, rmm: RmmVersion): fc.Arbitrary<Insertion> {
  const drawn = (op: fc.Arbitrary<Op>) => fc.record({ at: fc.nat({ max: 6 }), ops: op.map((o) => [o]) });
  const first = (ops: fc.Arbitrary<readonly Op[]>) => ops.map((o) => ({ at: 0, ops: o }));
  const edge: fc.Arbitrary<NonNullable<Insertion>> = {
    snp: first(fc.constant([failedPrepareArb(l)])),
    tdx: fc.oneof({ arbitrary: drawn(nullSourceArb(l)), weight: 3 }, { arbitrary: drawn(sharedEndArb(l)), weight: 1 }, { arbitrary: drawn(hwErrorPopulateArb(l)), weight: 1 }),
    cca: fc.oneof(
      { arbitrary: drawn(outsideIpaArb(l)), weight: 3 },
      { arbitrary: drawn(unalignedPopulateArb(l)), weight: 1 },
      { arbitrary: first(failedActivateArb(rmm).map((o) => [o])), weight: 2 },
      { arbitrary: first(stalePopulateArb(l, rmm)), weight: 2 },
    ),
  }[backend];
  return fc.oneof({ arbitrary: fc.constant(undefined), weight: 15 }, { arbitrary: edge, weight: 1 });
}

function madviseInsertionArb(backend: BackendId, l: Layout): fc.Arbitrary<Insertion> {
  return insertionArb(14, madviseArb(l), madvisePopulateArb(backend, l));
}

/**
 * One TDX run in ten, first: a range across the shared bit that starts on a page of its own
 * (sharedEdgeSlotArb), so a range check that looks at the wrong end populates a page. Drawn last.
 */
function sharedEdgeInsertionArb(backend: BackendId, l: Layout): fc.Arbitrary<Insertion> {
  if (backend !== 'tdx') return fc.constant(undefined);
  return fc.oneof({ arbitrary: fc.constant(undefined), weight: 9 }, { arbitrary: sharedEdgeSlotArb(l).map((ops) => ({ at: 0, ops })), weight: 1 });
}

/** One TDX run in ten, at a drawn place: a measured populate whose TDH.MR.EXTEND is contended (extendBusyArb). Drawn last. */
function extendBusyInsertionArb(backend: BackendId, l: Layout): fc.Arbitrary<Insertion> {
  const op = backend === 'tdx' ? extendBusyArb(l) : undefined;
  if (op === undefined) return fc.constant(undefined);
  return fc.oneof({ arbitrary: fc.constant(undefined), weight: 9 }, { arbitrary: fc.record({ at: fc.nat({ max: 6 }), ops: op.map((o) => [o]) }), weight: 1 });
}

/** One TDX run in twelve, at a drawn place: a populate whose size wraps in the C's check (sizeWrapArb). Drawn last. */
function sizeWrapInsertionArb(backend: BackendId, l: Layout): fc.Arbitrary<Insertion> {
  const op = backend === 'tdx' ? sizeWrapArb(l) : undefined;
  if (op === undefined) return fc.constant(undefined);
  return fc.oneof({ withCrossShrink: true }, { arbitrary: fc.constant(undefined), weight: 11 }, { arbitrary: fc.record({ at: fc.nat({ max: 6 }), ops: op.map((o) => [o]) }), weight: 1 });
}

/** One SNP run in sixteen, at a drawn place (first half the time): a private page populated from a NULL source with a type that needs one (snpNullSourceArb). Drawn last. */
function snpNullSourceInsertionArb(backend: BackendId, l: Layout): fc.Arbitrary<Insertion> {
  const op = backend === 'snp' ? snpNullSourceArb(l) : undefined;
  if (op === undefined) return fc.constant(undefined);
  const at = fc.oneof(fc.constant(0), fc.nat({ max: 6 }));
  return fc.oneof({ withCrossShrink: true }, { arbitrary: fc.constant(undefined), weight: 15 }, { arbitrary: fc.record({ at, ops: op.map((o) => [o]) }), weight: 1 });
}

/**
 * One SNP run in eight, at a drawn place, first half the time (its page not yet populated by the
 * body, so that a tree reading a u64 field through 32 bits gets to populate it: at a drawn place
 * only, v7.0+u32-len went unseen under 2 seeds of 30): a one-page populate with a u64 field past
 * 32 bits (u64EdgePopulateArb). Drawn last.
 */
function u64EdgeInsertionArb(backend: BackendId, l: Layout): fc.Arbitrary<Insertion> {
  const op = backend === 'snp' ? u64EdgePopulateArb(l) : undefined;
  if (op === undefined) return fc.constant(undefined);
  const at = fc.oneof(fc.constant(0), fc.nat({ max: 6 }));
  return fc.oneof({ withCrossShrink: true }, { arbitrary: fc.constant(undefined), weight: 7 }, { arbitrary: fc.record({ at, ops: op.map((o) => [o]) }), weight: 1 });
}

/**
 * One TDX run in ten, after everything else (a finalize earlier would refuse the rest of the
 * run): a populate whose PAGE.ADD is contended, then KVM_TDX_FINALIZE_VM (busyAddFinalizeArb,
 * oracle rows TF.1/TF.3). Drawn last.
 */
function busyAddFinalizeInsertionArb(backend: BackendId, l: Layout): fc.Arbitrary<readonly Op[] | undefined> {
  const ops = backend === 'tdx' ? busyAddFinalizeArb(l) : undefined;
  if (ops === undefined) return fc.constant(undefined);
  return fc.oneof({ withCrossShrink: true }, { arbitrary: fc.constant(undefined), weight: 9 }, { arbitrary: ops, weight: 1 });
}

/**
 * One TDX run in eight has a second vCPU (Scenario.vcpus), and at a drawn place the ops through
 * its fd (secondVcpuArb). Every op of such a run takes both vCPU mutexes where the tree's VM
 * state guard locks all of them (kvm_lock_all_vcpus(), from v6.19), so lockdep's nest_lock
 * annotation is exercised too. Drawn last.
 */
function secondVcpuInsertionArb(backend: BackendId, l: Layout): fc.Arbitrary<Insertion> {
  if (backend !== 'tdx') return fc.constant(undefined);
  return fc.oneof({ withCrossShrink: true }, { arbitrary: fc.constant(undefined), weight: 7 }, { arbitrary: fc.record({ at: fc.nat({ max: 6 }), ops: secondVcpuArb(l) }), weight: 1 });
}

/**
 * One x86 run in five, at a drawn place before the run's first LAUNCH_FINISH / FINALIZE_VM:
 * KVM_PRE_FAULT_MEMORY (preFaultArb), which only the launch's end allows (after it the model has
 * no fault path, and the schema refuses one). Drawn last.
 */
function preFaultInsertionArb(backend: BackendId, l: Layout): fc.Arbitrary<Insertion> {
  if (backend === 'cca') return fc.constant(undefined);
  return fc.oneof({ withCrossShrink: true }, { arbitrary: fc.constant(undefined), weight: 4 }, { arbitrary: fc.record({ at: fc.nat({ max: 6 }), ops: preFaultArb(l).map((o) => [o]) }), weight: 1 });
}

/** On SNP in the hugepages what-if, one run in eight, first: a populate of part of a huge folio that fails past the part (shortFolioArb). Drawn last. */
function shortFolioInsertionArb(backend: BackendId, l: Layout, order: number | undefined): fc.Arbitrary<Insertion> {
  const ops = backend === 'snp' && order !== undefined ? shortFolioArb(l, order, firstFolioGfn(l, 2 ** order)) : undefined;
  if (ops === undefined) return fc.constant(undefined);
  return fc.oneof({ withCrossShrink: true }, { arbitrary: fc.constant(undefined), weight: 7 }, { arbitrary: ops.map((o) => ({ at: 0, ops: o })), weight: 1 });
}

/** One TDX or CCA run in ten, at a drawn place: two pages populated, the first punched out (punchBeforePopulatedArb). Drawn last. */
function punchBeforePopulatedInsertionArb(backend: BackendId, l: Layout): fc.Arbitrary<Insertion> {
  if (backend === 'snp') return fc.constant(undefined);
  return fc.oneof({ arbitrary: fc.constant(undefined), weight: 9 }, { arbitrary: fc.record({ at: fc.nat({ max: 6 }), ops: punchBeforePopulatedArb(backend, l) }), weight: 1 });
}

/**
 * One CCA run in ten, first: a populate from a memslot on the last protected page, half the time
 * running past it into the unprotected half (protectedEdgeSlotArb). Drawn last.
 */
function protectedEdgeInsertionArb(backend: BackendId, l: Layout): fc.Arbitrary<Insertion> {
  if (backend !== 'cca') return fc.constant(undefined);
  return fc.oneof({ arbitrary: fc.constant(undefined), weight: 9 }, { arbitrary: protectedEdgeSlotArb(l).map((ops) => ({ at: 0, ops })), weight: 1 });
}

/** One SNP run in sixteen, at a drawn place: a CPUID page from a never-written source (zeroPageCpuidArb). Drawn last. */
function zeroPageCpuidInsertionArb(backend: BackendId, l: Layout): fc.Arbitrary<Insertion> {
  if (backend !== 'snp') return fc.constant(undefined);
  return fc.oneof({ arbitrary: fc.constant(undefined), weight: 15 }, { arbitrary: fc.record({ at: fc.nat({ max: 6 }), ops: zeroPageCpuidArb(l) }), weight: 1 });
}

/** One CCA run in ten, at a drawn place: a measured populate from an unaligned source (unalignedSourceArb). Drawn last. */
function unalignedSourceInsertionArb(backend: BackendId, l: Layout): fc.Arbitrary<Insertion> {
  const op = backend === 'cca' ? unalignedSourceArb(l) : undefined;
  if (op === undefined) return fc.constant(undefined);
  return fc.oneof({ arbitrary: fc.constant(undefined), weight: 9 }, { arbitrary: fc.record({ at: fc.nat({ max: 6 }), ops: op.map((o) => [o]) }), weight: 1 });
}

/**
 * One run in four, a populate's struct in a read-only mapping (readOnlyArgArb). Drawn last. One
 * in eight left 3 copy backs reached on snp/v7.0 under seed 15, against a minimum of 5: most
 * marked populates fail before their copy back.
 */
function readOnlyArgInsertionArb(backend: BackendId, l: Layout): fc.Arbitrary<ReadOnlyArg | undefined> {
  return fc.oneof({ arbitrary: fc.constant(undefined), weight: 3 }, { arbitrary: readOnlyArgArb(backend, l), weight: 1 });
}

/** The `nth` populate of `ops` (modulo their number) with its struct read-only. */
function markReadOnly(ops: readonly Op[], nth: number): Op[] {
  const at = ops.flatMap((op, i) => (withReadOnlyArg(op) === op ? [] : [i]));
  const i = at[nth % Math.max(1, at.length)];
  return ops.map((op, j) => (j === i ? withReadOnlyArg(op) : op));
}

/** One SNP run in six, first: a leak retried, or a pre-allocated page at the memslot's end (snpLeakPathsArb). Drawn last. */
function snpLeakPathsInsertionArb(backend: BackendId, l: Layout): fc.Arbitrary<Insertion> {
  if (backend !== 'snp') return fc.constant(undefined);
  // Cross-shrinking (fast-check clones the generator's state for it, so the draws are the same):
  // a counterexample that does not need the sequence shrinks to a run without it.
  return fc.oneof({ withCrossShrink: true }, { arbitrary: fc.constant(undefined), weight: 5 }, { arbitrary: snpLeakPathsArb(l).map((ops) => ({ at: 0, ops })), weight: 1 });
}

/**
 * On SNP in the hugepages what-if, one run in six: a populate from a folio's last page into the
 * next (pastFolioArb), right after the set-up binds the memslot, before its buffers are mapped:
 * a huge folio is aligned in pfn space, so one allocated after the buffers leaves free pages
 * below it, and a fresh mapping takes one of those instead of the page past the folio (0 of 9
 * such runs showed writeBackWrong with the ops after the set-up). Drawn last.
 */
function pastFolioInsertionArb(backend: BackendId, l: Layout, order: number | undefined): fc.Arbitrary<readonly Op[] | undefined> {
  const ops = backend === 'snp' && order !== undefined ? pastFolioArb(l, order) : undefined;
  if (ops === undefined) return fc.constant(undefined);
  return fc.oneof({ withCrossShrink: true }, { arbitrary: fc.constant(undefined), weight: 5 }, { arbitrary: ops, weight: 1 });
}

/** `ops` put right after the set-up's first memslot (or at its end if it has none). */
function afterFirstSlot(setup: readonly Op[], ops: readonly Op[] | undefined): Op[] {
  if (ops === undefined) return [...setup];
  const i = setup.findIndex((op) => op.kind === 'set_user_memory_region2') + 1;
  const at = i === 0 ? setup.length : i;
  return [...setup.slice(0, at), ...ops, ...setup.slice(at)];
}

/**
 * In the in-place cell of a revision with the series' populate, one run in two first loads a page
 * of its initial image in place (generators/ops/inplace.ts: B17, B19, and B18's guard; one in
 * three left 21 populates of a written page in 300 runs under the worst of seeds 1..30, half the
 * layouts having no GUEST_MEMFD_FLAG_MMAP to write through). Drawn last. First of all the run's
 * operations, since a conversion to shared of a bound page after a populate is not modelled;
 * where the set-up itself populates (u64EdgeArb), only the NULL-source populate is kept.
 */
function inPlaceImageInsertionArb(backend: BackendId, l: Layout, inPlace: boolean): fc.Arbitrary<readonly Op[] | undefined> {
  if (!inPlace || backend === 'cca') return fc.constant(undefined);
  return fc.oneof({ withCrossShrink: true }, { arbitrary: fc.constant(undefined), weight: 1 }, { arbitrary: inPlaceImageArb(backend, l), weight: 1 });
}

/**
 * In every in-place cell (x86, and rme-v12's), two runs in three where the guest_memfd can be
 * mapped: a populate from a page of that mapping (generators/ops/inplace.ts gmemSourceArb()),
 * half the time before the body's operations (so its page is not yet populated), else among
 * them. Drawn last of all. Left out where any memslot binds the page it would convert.
 */
function gmemSourceInsertionArb(backend: BackendId, l: Layout, inPlace: boolean): fc.Arbitrary<Insertion> {
  if (!inPlace || (l.gmemFlags & BigInt(GUEST_MEMFD_FLAG_MMAP)) === 0n) return fc.constant(undefined);
  return fc.oneof({ withCrossShrink: true }, { arbitrary: fc.constant(undefined), weight: 1 }, { arbitrary: fc.record({ at: fc.oneof(fc.constant(0), fc.nat({ max: 6 })), ops: gmemSourceArb(backend, l) }), weight: 2 });
}

/**
 * Whether any operation binds the guest_memfd's last page (sameFileNeighbourArb(), a body's
 * memslot), which gmemSourceArb() converts to shared: on a revision that tracks private memory in
 * the VM's attributes that would be the hybrid the schema describes (model/scenario/schema.ts), a
 * page the VM calls private that the file calls shared and the VMM maps.
 */
function bindsLastPage(ops: readonly Op[], l: Layout): boolean {
  const last = BigInt((l.gmemPages - 1) * l.geometry.page_size);
  return ops.some((op) => op.kind === 'set_user_memory_region2' && op.guest_memfd === GMEM_FD && op.memory_size > 0
    && op.guest_memfd_offset <= last && last < op.guest_memfd_offset + BigInt(op.memory_size));
}

function scenarioOn(backend: BackendId, rmm: RmmVersion, l: Layout, cca: NonNullable<Scenario['cca']>, hugeOrder?: number, inPlace = false, anyInPlace = false): fc.Arbitrary<Scenario> {
  return (
    fc
      .record({
        setup: fc
          .tuple(
            setupArb(l, backend),
            // A neighbouring slot after the first, in seven runs of eight: another guest_memfd's
            // (five of eight) or the same file's next page (two of eight).
            fc.oneof(
              { arbitrary: fc.constant<Op[]>([]), weight: 1 },
              { arbitrary: secondSlotArb(l), weight: 5 },
              { arbitrary: sameFileNeighbourArb(l), weight: 2 },
            ),
            fc.oneof({ arbitrary: fc.constant<Op[]>([]), weight: 4 }, { arbitrary: u64EdgeArb(l, backend), weight: 1 }))
          .map(([a, b, c]) => [...a, ...b, ...c]),
        body: fc.array(bodyOpArb(backend, l, cca.granules_per_page, rmm), { minLength: 1, maxLength: 6 }),
        teardown: teardownArb(backend, rmm, l, cca.granules_per_page),
        ub: ubArb(backend),
        launchAt: launchArb(backend),
        // One run in five, where a buffer has a hole: a populate from it, then again once mapped.
        // (One in eight left B1's consequence at 3 runs of 300 under some seeds; one in five at
        // least 6 over 12 seeds.)
        holeRetry: fc.oneof({ arbitrary: fc.constant<Op[]>([]), weight: 4 }, { arbitrary: holeRetryArb(backend, l), weight: 1 }),
        // One x86 run in ten: a page populated (or leaked) and punched out at once.
        populatePunch: fc.oneof({ arbitrary: fc.constant<Op[]>([]), weight: 9 }, { arbitrary: populatePunchArb(backend, l), weight: 1 }),
        allocate: allocateArb(backend, l),
        poison: poisonArb(backend, l),
        finished: finishedLaunchArb(backend, l),
        straddling: cpuidStraddlingInsertionArb(backend, l),
        untouched: untouchedArb(l),
        wholeFolio: wholeFolioFailureArb(backend, l, hugeOrder),
        leakedVmsa: leakedVmsaArb(backend),
        leakingPunch: leakingPunchInsertionArb(backend, l),
        refusedSetup: refusedSetupInsertionArb(backend, l),
        edgeOp: edgeOpInsertionArb(backend, l, rmm),
        madvise: madviseInsertionArb(backend, l),
        readOnlyArg: readOnlyArgInsertionArb(backend, l),
        sharedEdge: sharedEdgeInsertionArb(backend, l),
        zeroPageCpuid: zeroPageCpuidInsertionArb(backend, l),
        unalignedSource: unalignedSourceInsertionArb(backend, l),
        stoppedInFolio: stoppedInFolioArb(backend, l, hugeOrder),
        extendBusy: extendBusyInsertionArb(backend, l),
        protectedEdge: protectedEdgeInsertionArb(backend, l),
        punchBeforePopulated: punchBeforePopulatedInsertionArb(backend, l),
        snpLeakPaths: snpLeakPathsInsertionArb(backend, l),
        pastFolio: pastFolioInsertionArb(backend, l, hugeOrder),
        sizeWrap: sizeWrapInsertionArb(backend, l),
        nullSource: snpNullSourceInsertionArb(backend, l),
        shortFolio: shortFolioInsertionArb(backend, l, hugeOrder),
        inPlaceImage: inPlaceImageInsertionArb(backend, l, inPlace),
        gmemSource: gmemSourceInsertionArb(backend, l, anyInPlace),
        u64Edge: u64EdgeInsertionArb(backend, l),
        busyAddFinalize: busyAddFinalizeInsertionArb(backend, l),
        secondVcpu: secondVcpuInsertionArb(backend, l),
        preFault: preFaultInsertionArb(backend, l),
      })
      .map(({ setup, body, teardown, ub, launchAt, holeRetry, populatePunch, allocate: a, poison, finished, straddling, untouched, wholeFolio, leakedVmsa, leakingPunch, refusedSetup, edgeOp, madvise, readOnlyArg, sharedEdge, zeroPageCpuid, unalignedSource, stoppedInFolio, extendBusy, protectedEdge, punchBeforePopulated, snpLeakPaths, pastFolio, sizeWrap, nullSource, shortFolio, inPlaceImage, gmemSource, u64Edge, busyAddFinalize, secondVcpu, preFault }): Scenario => {
        const ops = [...holeRetry, ...populatePunch, ...body];
        const readOnlyOp = readOnlyArg?.kind === 'insert' ? { at: readOnlyArg.at, ops: [readOnlyArg.op] } : undefined;
        for (const x of [a, poison, straddling, wholeFolio, refusedSetup, edgeOp, madvise, readOnlyOp, sharedEdge, zeroPageCpuid, unalignedSource, stoppedInFolio, extendBusy, protectedEdge, punchBeforePopulated, snpLeakPaths, sizeWrap, nullSource, shortFolio, u64Edge]) if (x !== undefined) ops.splice(Math.min(x.at, ops.length), 0, ...x.ops);
        if (secondVcpu !== undefined) ops.splice(Math.min(secondVcpu.at, ops.length), 0, ...secondVcpu.ops);
        // Before the first finish: the operations added after this one go first, or at the end.
        if (preFault !== undefined) {
          const finish = ops.findIndex((o) => LAUNCH_FINISH_OPS.includes(o.kind));
          ops.splice(Math.min(preFault.at, finish < 0 ? ops.length : finish), 0, ...preFault.ops);
        }
        if (gmemSource !== undefined && !bindsLastPage([...setup, ...ops, ...teardown], l)) ops.splice(Math.min(gmemSource.at, ops.length), 0, ...gmemSource.ops);
        // The leaking punch first of all (before other insertions, whose `at` no longer counts
        // its operations), and not with the in-place image: an operation inserted before it
        // often populated or converted its page, so its populate failed before any firmware
        // command, and on SNP its mmap() takes the lowest free pfn to be the page just punched
        // out (G4's leakedPageFreed@munmap: 29 of 30 seeds in inplace-v7/v8's in-place cells,
        // where the image came first).
        if (leakingPunch !== undefined) ops.unshift(...leakingPunch.ops);
        if (inPlaceImage !== undefined && leakingPunch === undefined) ops.unshift(...(setup.some((op) => POPULATE_OPS.includes(op.kind)) ? inPlaceImage.slice(-1) : inPlaceImage));
        // After the body: a finish before it would refuse the body's own LAUNCH_FINISHes, whose
        // failing VMSA updates G26 and G27 need (G27 on kvm-x86-next: 0 of 300 under seed 17).
        if (finished !== undefined) ops.push(...finished.ops);
        if (leakedVmsa !== undefined) ops.push(...leakedVmsa);
        if (busyAddFinalize !== undefined) ops.push(...busyAddFinalize);
        const launch = withLaunch(backend, readOnlyArg?.kind === 'mark' ? markReadOnly(ops, readOnlyArg.nth) : ops, launchAt);
        return {
          backend, geometry: l.geometry, ops: [...afterFirstSlot(withUntouched(setup, l, untouched), pastFolio), ...launch.body, ...teardown], ub, ...(backend === 'cca' ? { cca } : {}),
          ...(launch.launch === undefined ? {} : { launch: launch.launch }),
          ...(secondVcpu === undefined ? {} : { vcpus: 2 as const }),
        };
      })
  );
}
