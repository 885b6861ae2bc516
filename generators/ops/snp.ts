import fc from 'fast-check';
import { snpBackend } from '../../model/backends/snp/backend.js';
import { KVM_SEV_SNP_PAGE_TYPE_CPUID, KVM_SEV_SNP_PAGE_TYPE_NORMAL, KVM_SEV_SNP_PAGE_TYPE_SECRETS, KVM_SEV_SNP_PAGE_TYPE_UNMEASURED, KVM_SEV_SNP_PAGE_TYPE_ZERO, SNP_PAGE_TYPES } from '../../model/backends/snp/uapi.js';
import { FALLOC_FL_KEEP_SIZE } from '../../model/kernel/guest_memfd.js';
import { U64_MAX } from '../../model/kernel/u64.js';
import type { Fault, Op } from '../../model/scenario/Scenario.js';
import { KVM_MEMORY_ATTRIBUTE_PRIVATE } from '../../model/world/kvmState.js';
import { callFaultArb, faultPlanArb, type FwFailure } from '../faultPlan.js';
import type { Layout } from '../layout.js';
import { GMEM_FD, REUSE_ADDR, onePagePopulateArb, privateGfns } from './common.js';
import { pageCountArb } from '../pageCount.js';
import { gfnInSlotArb, sourceAddrArb } from '../sourceAddr.js';

/**
 * KVM_SEV_SNP_LAUNCH_UPDATE with every field of `struct kvm_sev_snp_launch_update`: mostly
 * what snp_launch_update() accepts (`len` a non-zero multiple of PAGE_SIZE, `flags` 0, a known
 * type), sometimes not. CPUID pages get CPUID-table faults more often, as those are the ones
 * that exercise the write-back.
 */
export function snpLaunchUpdateArb(l: Layout): fc.Arbitrary<Op> {
  const ps = l.geometry.page_size;
  const gup = 2 ** l.geometry.pmd_order;
  const type = fc.oneof(
    { arbitrary: fc.constant(KVM_SEV_SNP_PAGE_TYPE_NORMAL), weight: 16 },
    { arbitrary: fc.constant(KVM_SEV_SNP_PAGE_TYPE_CPUID), weight: 10 },
    { arbitrary: fc.constantFrom(...SNP_PAGE_TYPES), weight: 8 },
    // Types no uAPI defines: VMSA (2, internal), 0, 7 and 255 (a fuzzer's u8).
    { arbitrary: fc.constantFrom(2, 7, 0, 255), weight: 2 },
  );
  return fc.record({ gfn_start: gfnInSlotArb(l), uaddr: sourceAddrArb(l), type }).chain(({ gfn_start, uaddr, type }) =>
    fc
      .record({
        npages: pageCountArb(l.slot.base_gfn + l.slot.npages - gfn_start, gup),
        lenSkew: fc.oneof({ arbitrary: fc.constant(0), weight: 50 }, { arbitrary: fc.constantFrom(1, -ps), weight: 1 }),
        flags: fc.oneof({ arbitrary: fc.constant(0), weight: 50 }, { arbitrary: fc.constantFrom(1, 0x8000), weight: 2 }),
        faults: type === KVM_SEV_SNP_PAGE_TYPE_CPUID
          ? fc.oneof(
            { arbitrary: cpuidFailureArb(), weight: 3 },
            { arbitrary: faultPlanArb(snpBackend, ['cpuid_table', 'cpuid_reserved'], snpFailurePairs(type)), weight: 3 },
            { arbitrary: cpuidReclaimFailureArb(), weight: 1 },
          )
          : uaddr % ps !== 0
            // An unaligned source (accepted up to RFC v1): what matters is the straddling copy of
            // a populate that succeeds, so mostly no fault (30 seeds: one in 30 budgets missed a
            // wrong straddled byte when these carried the usual 70 % of fault plans).
            ? fc.oneof({ arbitrary: fc.constant<Fault[]>([]), weight: 3 }, { arbitrary: faultPlanArb(snpBackend, ['rmp_immutable'], snpFailurePairs(type)), weight: 1 })
            // RMPUPDATE on an immutable entry: the cleanup of a page the firmware still holds.
            // The populate's own kernel calls at weight 2, as on TDX: at 1, the folio's -ENOMEM
            // reached kvm-x86-next+warn-on-folio-enomem's WARN a median 4 runs in 300 (missed
            // under seed 15 of 30).
            : fc.oneof({ arbitrary: faultPlanArb(snpBackend, ['rmp_immutable'], snpFailurePairs(type)), weight: 9 }, { arbitrary: callFaultArb(), weight: 2 }),
      })
      .map(({ npages, lenSkew, flags, faults }): Op => ({ kind: 'snp_launch_update', gfn_start: BigInt(gfn_start), uaddr, len: BigInt(npages * ps + lenSkew), type, flags, faults })),
  );
}

/**
 * What a syscall fuzzer puts in the two `__u64` fields (syzkaller's kvm_sev_snp_launch_update
 * draws them whole), on the populate of one private page from a mapped source, so that a tree
 * reading either field through 32 bits gets to populate something: a `gfn_start` past every
 * slot, at 2^63 or 2^32 above that page's gfn (a truncation to 32 bits lands it back on the
 * page), or the largest u64; a `len` of 2^64 - PAGE_SIZE (aligned: npages is 2^52 - 1, cut to
 * the slot's end by kvm_gmem_populate()) or 2^32 + PAGE_SIZE (one page to a 32-bit reader); an
 * unaligned len the random populates draw (snpLaunchUpdateArb's `lenSkew`; 2^64 - 1 here came
 * out for 9 of a budget's 11 edge lens under seed 19, which no 32-bit reader gets past). Coverage
 * keys `edge:snp_gfn_u64` and `edge:snp_len_u64`. None where the layout has no private page or
 * mapped source.
 */
export function u64EdgePopulateArb(l: Layout): fc.Arbitrary<Op> | undefined {
  const ps = BigInt(l.geometry.page_size);
  return onePagePopulateArb('snp', l)?.chain(({ gfn, populate }) => fc.oneof(
    fc.constantFrom(U64_MAX, (1n << 63n) + BigInt(gfn), (1n << 32n) + BigInt(gfn)).map((gfn_start): Op => (populate.kind === 'snp_launch_update' ? { ...populate, gfn_start } : populate)),
    fc.constantFrom(U64_MAX + 1n - ps, (1n << 32n) + ps).map((len): Op => (populate.kind === 'snp_launch_update' ? { ...populate, len } : populate)),
  ));
}

/**
 * The firmware refusing a CPUID page (an invalid function, or reserved bits set: either way
 * SEV_RET_INVALID_PARAM and the write-back of the corrected table) on its first page, so every
 * run budget reaches both conditions and the write-back paths after them.
 */
function cpuidFailureArb(): fc.Arbitrary<Fault[]> {
  return fc.constantFrom('cpuid_table', 'cpuid_reserved').map((condition): Fault[] => [{ kind: 'fw', cmd: 'SNP_LAUNCH_UPDATE', condition, nth: 1 }]);
}

/**
 * The firmware correcting a CPUID page whose clean-up then fails: the copy-back of the corrected
 * table must wait for a reclaim that worked. faultPlanArb's pairs met this about 2 runs in 300
 * (kvm-x86-next+reclaim-forgets-failure missed under 3 seeds of 30), as the cpuid_table failure
 * must come on the page the reclaim then fails for.
 */
function cpuidReclaimFailureArb(): fc.Arbitrary<Fault[]> {
  return fc.constantFrom<Fault[]>(
    [{ kind: 'fw', cmd: 'SNP_LAUNCH_UPDATE', condition: 'cpuid_table', nth: 1 }, { kind: 'fw', cmd: 'SNP_PAGE_RECLAIM', condition: 'page_address', nth: 1 }],
    [{ kind: 'fw', cmd: 'SNP_LAUNCH_UPDATE', condition: 'cpuid_table', nth: 1 }, { kind: 'fw', cmd: 'RMPUPDATE', condition: 'rmp_inuse', nth: 2 }],
  );
}

/**
 * A LAUNCH_UPDATE failure and a failure of what cleans it up: snp_page_reclaim() (the reclaim
 * itself, or the RMPUPDATE back to shared that follows it).
 */
function snpFailurePairs(type: number): (readonly [FwFailure, FwFailure])[] {
  const update: FwFailure = { cmd: 'SNP_LAUNCH_UPDATE', condition: type === KVM_SEV_SNP_PAGE_TYPE_CPUID ? 'cpuid_table' : 'fw_resource' };
  // The reclaim failure twice as often: it is what leaks the page (snp_leak_pages()) that a
  // later punch-hole or close then frees (G4), and its coverage minimum sat at its floor.
  const reclaim: readonly [FwFailure, FwFailure] = [update, { cmd: 'SNP_PAGE_RECLAIM', condition: 'page_address' }];
  // RMPUPDATE: the failed page's own rmp_make_private() comes first (nth n), its make-shared next.
  return [reclaim, reclaim, [update, { cmd: 'RMPUPDATE', condition: 'rmp_inuse', nthAfter: 1 }]];
}

/**
 * KVM_SEV_SNP_LAUNCH_FINISH, half the time with the VMSA's SNP_LAUNCH_UPDATE failing (the first
 * LAUNCH_UPDATE of the call is vCPU 0's VMSA): alone (reclaimed, the launch can be retried),
 * with the reclaim failing (the VM is bugged and the VMSA leaked), or with the RMPUPDATE back to
 * shared failing (leaked too). What becomes of that page when the vCPU is freed is the question.
 */
export function snpLaunchFinishArb(): fc.Arbitrary<Op> {
  const update: Fault = { kind: 'fw', cmd: 'SNP_LAUNCH_UPDATE', condition: 'fw_resource', nth: 1 };
  const plans: Fault[][] = [
    [update],
    [update, { kind: 'fw', cmd: 'SNP_PAGE_RECLAIM', condition: 'page_address', nth: 1 }],
    [update, { kind: 'fw', cmd: 'RMPUPDATE', condition: 'rmp_inuse', nth: 2 }],
  ];
  return fc
    .oneof({ arbitrary: fc.constant<Fault[]>([]), weight: 1 }, { arbitrary: fc.constantFrom(...plans), weight: 1 })
    .map((faults): Op => ({ kind: 'snp_launch_finish', faults }));
}

/**
 * A CPUID page loaded from a source page the VMM mapped and never wrote, the firmware correcting
 * its table: a pin without FOLL_WRITE pins the shared zero page, so the write-back of the trees
 * that pin so lands there (G2's zeroPageWritten). The random draws met it about one run in
 * forty, which left it out of v7.0's 300 runs under one seed of thirty (reports/detection.md).
 */
export function zeroPageCpuidArb(l: Layout): fc.Arbitrary<readonly Op[]> {
  const ps = l.geometry.page_size;
  const addr = l.buffers[0]?.addr ?? 0;
  return gfnInSlotArb(l).map((gfn_start): readonly Op[] => [
    { kind: 'munmap', addr, length: ps },
    { kind: 'mmap', addr, length: ps, prot: 'rw', holes: [], untouched: [0] },
    {
      kind: 'snp_launch_update', gfn_start: BigInt(gfn_start), uaddr: addr, len: BigInt(ps), type: KVM_SEV_SNP_PAGE_TYPE_CPUID, flags: 0,
      faults: [{ kind: 'fw', cmd: 'SNP_LAUNCH_UPDATE', condition: 'cpuid_table', nth: 1 }],
    },
  ]);
}

/**
 * A CPUID page the firmware corrects, loaded from an unaligned source whose first page the VMM
 * can write and whose second it mapped read-only: the first buffer's first two pages unmapped
 * and mapped again, writable then read-only (the model's mmap does not replace a mapping), then
 * KVM_SEV_SNP_LAUNCH_UPDATE of one CPUID page from inside the first. The old callback's write-back of the corrected table (one copy_to_user() of a whole
 * page, sev.c@0097f9df) then lands in part (G30); from v7.0 the uaddr is refused as unaligned.
 * Random bodies drew this about once in an hour's campaign.
 */
export function cpuidStraddlingArb(l: Layout): fc.Arbitrary<readonly Op[]> {
  const ps = l.geometry.page_size;
  const addr = l.buffers[0]?.addr ?? 0;
  // cpuid_table: the condition whose firmware rewrites the table (the model's cpuid_reserved
  // refuses it as it is, so its write-back changes nothing).
  return fc.record({ gfn_start: gfnInSlotArb(l), offset: fc.integer({ min: 1, max: ps - 1 }) }).map(({ gfn_start, offset }): readonly Op[] => [
    { kind: 'munmap', addr, length: 2 * ps },
    { kind: 'mmap', addr, length: ps, prot: 'rw', holes: [] },
    { kind: 'mmap', addr: addr + ps, length: ps, prot: 'ro', holes: [] },
    {
      kind: 'snp_launch_update', gfn_start: BigInt(gfn_start), uaddr: addr + offset, len: BigInt(ps), type: KVM_SEV_SNP_PAGE_TYPE_CPUID, flags: 0,
      faults: [{ kind: 'fw', cmd: 'SNP_LAUNCH_UPDATE', condition: 'cpuid_table', nth: 1 }],
    },
  ]);
}

const PRIVATE = BigInt(KVM_MEMORY_ATTRIBUTE_PRIVATE);
const fw = (cmd: string, condition: string, nth: number): Fault => ({ kind: 'fw', cmd, condition, nth });
/** A LAUNCH_UPDATE failure whose clean-up fails too, so the page is leaked (snp_leak_pages()). */
const LEAKING_PLANS: readonly (readonly Fault[])[] = [
  [fw('SNP_LAUNCH_UPDATE', 'fw_resource', 1), fw('SNP_PAGE_RECLAIM', 'page_address', 1)],
  [fw('SNP_LAUNCH_UPDATE', 'fw_resource', 1), fw('RMPUPDATE', 'rmp_inuse', 2)],
];

/**
 * Three SNP sequences that random bodies and the other insertions reach one to three times in
 * 300 runs, which left their signatures on paolo-v1 under 23 to 27 seeds of 30
 * (reports/detection.md at d5518ca):
 * - `slotEnd`: the memslot's last page made private and pre-allocated with fallocate(), then a
 *   ZERO populate of it and the page after, past the memslot. Oracle row S1.3: one page, 0.
 *   paolo-v1's fallocate() prepares the folio and FGP_CREAT_ONLY refuses it (G28 as S1.3).
 * - `vmsaRetry`: LAUNCH_FINISH whose VMSA update fails and whose clean-up fails (the VMSA
 *   leaked), retried and failing the same way: SNP v15's helpers leave the VM running, so the
 *   retry leaks the vCPU's page a second time through snp_page_reclaim() (G27).
 * - `leakAgain`: a page leaked by a failed populate, populated again (paolo-v1's undo hole punch
 *   freed it, so the retry's folio takes the pfn), then punched out or its guest_memfd closed:
 *   the leaked page freed (G4's leakedPageFreed@kvm_gmem_punch_hole and @kvm_gmem_release).
 */
export function snpLeakPathsArb(l: Layout): fc.Arbitrary<readonly Op[]> {
  const ps = l.geometry.page_size;
  const last = l.slot.base_gfn + l.slot.npages - 1;
  const slotEnd: Op[] = [
    { kind: 'set_memory_attributes', address: last * ps, size: ps, attributes: PRIVATE, flags: 0n },
    { kind: 'fallocate', guest_memfd: GMEM_FD, mode: FALLOC_FL_KEEP_SIZE, offset: (last - l.slot.base_gfn + l.slot.pgoff) * ps, len: ps, faults: [] },
    { kind: 'snp_launch_update', gfn_start: BigInt(last), uaddr: 0, len: BigInt(2 * ps), type: KVM_SEV_SNP_PAGE_TYPE_ZERO, flags: 0, faults: [] },
  ];
  const vmsaRetry = fc.constantFrom(...LEAKING_PLANS).map((faults): readonly Op[] => [
    { kind: 'snp_launch_finish', faults },
    { kind: 'snp_launch_finish', faults: [fw('SNP_LAUNCH_UPDATE', 'fw_resource', 1), fw('SNP_PAGE_RECLAIM', 'page_address', 1)] },
  ]);
  const one = onePagePopulateArb('snp', l);
  const leakAgain = one === undefined ? undefined : fc.tuple(one, fc.constantFrom(...LEAKING_PLANS), fc.boolean()).map(([{ gfn, populate }, faults, close]): readonly Op[] => [
    populate.kind === 'snp_launch_update' ? { ...populate, faults } : populate,
    populate,
    close
      ? { kind: 'close_guest_memfd', guest_memfd: GMEM_FD, faults: [] }
      : { kind: 'punch_hole', guest_memfd: GMEM_FD, offset: (gfn - l.slot.base_gfn + l.slot.pgoff) * ps, len: ps, faults: [] },
  ]);
  return fc.oneof(
    { arbitrary: fc.constant(slotEnd), weight: 1 },
    { arbitrary: vmsaRetry, weight: 1 },
    ...(leakAgain === undefined ? [] : [{ arbitrary: leakAgain, weight: 2 }]),
  );
}

/**
 * SNP in the hugepages what-if: a gfn on a huge folio's last page and the one after it made
 * private, then
 * - `straddle`: a ZERO populate of both. The old order loops (v6.17, kvm-x86-next-2025.11.07)
 *   WARN and carry on with the order the two gfns allow, from the folio's last pfn: the second
 *   gfn is loaded into the page past the folio and reported populated while its own page is not
 *   the guest's (B6's return-value-contract/notPopulated, 15 seeds of 30 before).
 * - `reuse`: the folio allocated by fallocate(), so a fresh one-page mapping takes the page past
 *   it (the lowest free pfn), and a one-page populate of the first gfn from that mapping: the
 *   loop loads the second gfn into the page past the folio, the source's own page, from the
 *   unmapped page after the source; the failed copy clears the source (B6's writeBackWrong, 4
 *   seeds of 30 before; the shape of corpus/snp-v6.17-src-offset-straddling-writebackwrong-*).
 * Undefined where the layout has no folio boundary inside the slot.
 */
export function pastFolioArb(l: Layout, order: number): fc.Arbitrary<readonly Op[]> | undefined {
  const nr = 2 ** order;
  const ps = l.geometry.page_size;
  const { base_gfn, pgoff, npages } = l.slot;
  const gfn = base_gfn - pgoff + Math.ceil((pgoff + 1) / nr) * nr - 1;
  if (nr < 2 || gfn + 1 >= base_gfn + npages) return undefined;
  const attrs: Op = { kind: 'set_memory_attributes', address: gfn * ps, size: 2 * ps, attributes: PRIVATE, flags: 0n };
  return fc.constantFrom<readonly Op[]>(
    [attrs, { kind: 'snp_launch_update', gfn_start: BigInt(gfn), uaddr: 0, len: BigInt(2 * ps), type: KVM_SEV_SNP_PAGE_TYPE_ZERO, flags: 0, faults: [] }],
    [
      attrs,
      { kind: 'fallocate', guest_memfd: GMEM_FD, mode: FALLOC_FL_KEEP_SIZE, offset: (gfn - base_gfn + pgoff) * ps, len: ps, faults: [] },
      { kind: 'mmap', addr: REUSE_ADDR, length: ps, prot: 'rw', holes: [] },
      { kind: 'snp_launch_update', gfn_start: BigInt(gfn), uaddr: REUSE_ADDR, len: BigInt(ps), type: KVM_SEV_SNP_PAGE_TYPE_NORMAL, flags: 0, faults: [] },
    ],
  );
}

/**
 * KVM_SEV_SNP_LAUNCH_UPDATE of one page the set-up made private, from a NULL source (uaddr 0)
 * with a type that needs one (NORMAL mostly, else UNMEASURED, SECRETS or CPUID). Trees before
 * the June 2026 fix (sev.c@1a27afa0) let it into kvm_gmem_populate(), whose callback meets
 * WARN_ON_ONCE(type != ZERO && !src) (G3); the newest refuses it with -EINVAL up front (oracle
 * row S2.2). A NULL source among the random populates (2 in 33) reached a page the firmware
 * would take a median 4 runs in 300 on snp/v6.17, none under seed 5 of 30 (reports/detection.md
 * at 4842c2a); with this, 14, and under seeds 1..12 all. Undefined where the set-up makes nothing
 * private.
 */
export function nullSourceArb(l: Layout): fc.Arbitrary<Op> | undefined {
  const gfns = privateGfns(l);
  if (gfns.length === 0) return undefined;
  const type = fc.oneof(
    { arbitrary: fc.constant(KVM_SEV_SNP_PAGE_TYPE_NORMAL), weight: 3 },
    { arbitrary: fc.constantFrom(KVM_SEV_SNP_PAGE_TYPE_UNMEASURED, KVM_SEV_SNP_PAGE_TYPE_SECRETS, KVM_SEV_SNP_PAGE_TYPE_CPUID), weight: 1 },
  );
  return fc.record({ gfn: fc.constantFrom(...gfns), type })
    .map(({ gfn, type }): Op => ({ kind: 'snp_launch_update', gfn_start: BigInt(gfn), uaddr: 0, len: BigInt(l.geometry.page_size), type, flags: 0, faults: [] }));
}

/**
 * SNP in the hugepages what-if: a ZERO populate of the first `k` pages of a huge folio (k less
 * than the folio holds), made private and allocated by fallocate() first, with SNP_LAUNCH_UPDATE
 * failing on a page past the `k` asked for. A loop that honours the count never gets to that
 * page; the old order loops (B6: kvm_gmem_populate() WARNs and hands the callback the whole
 * order) do, and zero pages past the count they report. Only an allocated page has contents to
 * change: without the fallocate() the same populate shows measuredPastCount alone. B6's
 * return-value-contract/pastCountTouched came from random bodies a median 5 runs in 300 on
 * snp/v6.17 [hugepages], none under seed 12 of 30 (reports/detection.md at 4842c2a); with this,
 * 20, and under seeds 9..16 all. `first` is the slot's first gfn that starts a folio; undefined
 * where the folio does not fit in the slot.
 */
export function shortFolioArb(l: Layout, order: number, first: number): fc.Arbitrary<readonly Op[]> | undefined {
  const nr = 2 ** order;
  const ps = l.geometry.page_size;
  if (nr < 2 || first < l.slot.base_gfn || first + nr > l.slot.base_gfn + l.slot.npages) return undefined;
  return fc.integer({ min: 1, max: nr - 1 }).chain((k) => fc.integer({ min: k + 1, max: nr }).map((nth): readonly Op[] => [
    { kind: 'set_memory_attributes', address: first * ps, size: nr * ps, attributes: PRIVATE, flags: 0n },
    { kind: 'fallocate', guest_memfd: GMEM_FD, mode: FALLOC_FL_KEEP_SIZE, offset: (first - l.slot.base_gfn + l.slot.pgoff) * ps, len: nr * ps, faults: [] },
    { kind: 'snp_launch_update', gfn_start: BigInt(first), uaddr: 0, len: BigInt(k * ps), type: KVM_SEV_SNP_PAGE_TYPE_ZERO, flags: 0, faults: [fw('SNP_LAUNCH_UPDATE', 'fw_resource', nth)] },
  ]));
}
