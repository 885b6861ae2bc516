import fc from 'fast-check';
import type { RmmVersion } from '../../model/revisions/Revision.js';
import type { WhatIfMode } from '../../model/whatIf.js';
import type { Fault, Op } from '../../model/scenario/Scenario.js';
import { KVM_ARM_RMI_POPULATE_FLAGS_MEASURE } from '../../model/backends/cca/uapi.js';
import { REALM_IA_BITS } from '../../model/backends/cca/state.js';
import { U64_MAX } from '../../model/kernel/u64.js';
import { KVM_MEMORY_ATTRIBUTE_PRIVATE, KVM_MEM_GUEST_MEMFD } from '../../model/world/kvmState.js';
import { GMEM_FD } from './common.js';
import type { Layout } from '../layout.js';
import { BUFFER_ADDRS } from '../layout.js';
import { pageCountArb } from '../pageCount.js';
import { gfnInSlotArb } from '../sourceAddr.js';
import { srcOffsetArb } from '../srcOffset.js';

/**
 * The Arm machine: granules per host page (RMM 1.0's 4K granule: one per page on the 4K hosts
 * kvm_init_rme() accepts, 4 or 16 on 16K and 64K hosts in the what-if mode; RMM 2.0 configures
 * the granule to the page), and the stage-2 tables present at start.
 */
export function ccaSetupArb(rmm: RmmVersion, whatIf?: WhatIfMode): fc.Arbitrary<{ granules_per_page: number; rtt_depth: number }> {
  // Only the "4K guard lifted" what-if mode lets an RMM v1.0 revision run on 16K and 64K hosts.
  // The host is drawn the same way in every configuration (and on every backend), so the random
  // stream up to it (the layout; all of an SNP or TDX scenario) does not depend on the cell.
  const lifted = rmm === 'v1.0' && whatIf === '4k-guard-lifted';
  const hosts = fc.constantFrom(1, 4, 16).map((g) => (lifted ? g : 1));
  return fc.record({ granules_per_page: hosts, rtt_depth: fc.constantFrom(0, 1, 2, 3) });
}

/** The RMI commands behind each step, by RMM version. */
const RMI = {
  'v1.0': { delegate: 'RMI_GRANULE_DELEGATE', undelegate: 'RMI_GRANULE_UNDELEGATE', create: 'RMI_DATA_CREATE', destroy: 'RMI_DATA_DESTROY' },
  'v2.0': { delegate: 'RMI_GRANULE_RANGE_DELEGATE', undelegate: 'RMI_GRANULE_RANGE_UNDELEGATE', create: 'RMI_RTT_DATA_MAP_INIT', destroy: 'RMI_RTT_DATA_UNMAP' },
} as const;

/**
 * Which RMI call fails while a page is populated, at which granule of the page (first, last,
 * or one in between), and the pairs that exercise the rollback: a failed
 * delegate, data creation or table creation followed by a failed undelegate or destroy. Named
 * for the commands the revision's RMM version issues, so no plan is spent on the other's.
 */
export function ccaFaultPlanArb(granulesPerPage: number, rmm: RmmVersion): fc.Arbitrary<Fault[]> {
  const c = RMI[rmm];
  // Aim at a granule position: the page's first, last, or one in between (nth 1 or 2: the
  // first or second page the operation reaches). Table creation targets a fresh page, so it
  // counts calls instead.
  const gpp = granulesPerPage;
  const unit = gpp === 1 ? fc.constant(0) : fc.oneof(fc.constant(0), fc.constant(gpp - 1), fc.integer({ min: 1, max: gpp - 2 }));
  const fw = (cmd: string, condition: string) =>
    fc.record({ unit, nth: fc.constantFrom(1, 2) }).map(({ unit: u, nth }): Fault => ({ kind: 'fw', cmd, condition, nth, unit: u }));
  const nth = fc.integer({ min: 1, max: 4 });
  const rtt = nth.map((n): Fault => ({ kind: 'fw', cmd: 'RMI_RTT_CREATE', condition: 'rmm_defect', nth: n }));
  const single = fc.oneof(
    { arbitrary: fw(c.delegate, 'gran_gpt'), weight: 6 },
    { arbitrary: fw(c.create, 'src_copy'), weight: 5 },
    { arbitrary: fw(c.undelegate, 'gran_gpt'), weight: 3 },
    { arbitrary: fw(c.destroy, 'rmm_defect'), weight: 2 },
    { arbitrary: rtt, weight: 2 },
    // Allocation failures: a kmalloc() (first or second), or the folio of the op's first page
    // more often than of its second: most populates reach one fresh folio before they stop, so
    // a plan for the second seldom fires (rme-v9 reached no folio failure in 1000 runs under
    // seed 15 when both were equally likely; about 5 a seed, now about 9).
    {
      arbitrary: fc.oneof(
        { arbitrary: fc.constantFrom(1, 2).map((n): Fault => ({ kind: 'alloc', site: 'kmalloc', nth: n })), weight: 2 },
        { arbitrary: fc.constantFrom(1, 1, 2).map((n): Fault => ({ kind: 'alloc', site: 'folio', nth: n })), weight: 2 },
      ),
      weight: 3,
    },
    { arbitrary: fc.constantFrom(1, 2).map((n): Fault => ({ kind: 'gup', nth: n, result: 'efault' })), weight: 2 },
    { arbitrary: fc.constantFrom(1, 2).map((n): Fault => ({ kind: 'signal', nth: n })), weight: 1 },
  );
  // Pairs in one page, positions related as the rollback visits them: the failed granule is
  // undelegated first, then each earlier one is destroyed and undelegated.
  const at = (cmd: string, condition: string, u: number, nth = 1): Fault => ({ kind: 'fw', cmd, condition, nth, unit: u });
  const last = gpp - 1;
  const earlier = (u: number) => (u === 0 ? fc.constant(0) : fc.integer({ min: 0, max: u - 1 }));
  const failedThenUndelegate = unit.map((u) => [at(c.create, 'src_copy', u), at(c.undelegate, 'gran_gpt', u)]);
  const tableThenUndelegate = fc.tuple(rtt, fw(c.undelegate, 'gran_gpt')).map(([a, b2]) => [a, b2]);
  // On a one-granule page nothing earlier is rolled back: a failed delegate leaves nothing to
  // undelegate and the failed granule is never destroyed, so only these two pairs are two failures.
  const pair = gpp === 1 ? fc.oneof(failedThenUndelegate, tableThenUndelegate) : fc.oneof(
    failedThenUndelegate,
    unit.chain((u) => earlier(u).map((e) => [at(c.delegate, 'gran_gpt', u), at(c.undelegate, 'gran_gpt', e)])),
    earlier(last).map((e) => [at(c.create, 'src_copy', last), at(c.destroy, 'rmm_defect', e)]),
    tableThenUndelegate,
  );
  return fc.oneof({ arbitrary: fc.constant<Fault[]>([]), weight: 2 }, { arbitrary: single.map((f) => [f]), weight: 5 }, { arbitrary: pair, weight: 3 });
}

/** How a generated populate's `__u64 size` is drawn: pages of the slot, 0, or wrapping. */
type Sized = 'pages' | 'zero' | 'wraps';

/**
 * 2^64 - PAGE_SIZE: page-aligned, and base + size wraps past 2^64 from any base past 0, as a
 * syscall fuzzer sends it. v9 and the newest tree test the wrap (-EINVAL, R9.4 and RN.4); v12
 * does not, and populates from the base to its memslot's end (R12.1 with GP.3).
 */
const WRAPPING_SIZE = (ps: number): bigint => U64_MAX + 1n - BigInt(ps);

/**
 * KVM_ARM_RMI_POPULATE with every field of `struct kvm_arm_rmi_populate`. The source is mostly
 * the slot's shared alias of the base (the only source rme-v9's uAPI knows), sometimes
 * unaligned, NULL or elsewhere; size sometimes 0 or wrapping (one in 32 each); flags and
 * reserved sometimes invalid.
 */
export function armPopulateArb(l: Layout, granulesPerPage: number, rmm: RmmVersion): fc.Arbitrary<Op> {
  const ps = l.geometry.page_size;
  const gup = 2 ** l.geometry.pmd_order;
  return gfnInSlotArb(l).chain((gfn) => {
    const alias = BUFFER_ADDRS[0] + (gfn - l.slot.base_gfn) * ps;
    return fc
      .record({
        npages: pageCountArb(l.slot.base_gfn + l.slot.npages - gfn, gup),
        sized: fc.oneof(
          { arbitrary: fc.constant<Sized>('pages'), weight: 30 },
          { arbitrary: fc.constant<Sized>('zero'), weight: 1 },
          { arbitrary: fc.constant<Sized>('wraps'), weight: 1 },
        ),
        source_uaddr: fc.oneof(
          { arbitrary: fc.constant(alias), weight: 24 },
          { arbitrary: srcOffsetArb(ps).map((o) => alias + o), weight: 6 },
          { arbitrary: fc.constantFrom(0, BUFFER_ADDRS[1]), weight: 1 },
        ),
        flags: fc.oneof({ arbitrary: fc.constantFrom(KVM_ARM_RMI_POPULATE_FLAGS_MEASURE, 0), weight: 30 }, { arbitrary: fc.constant(2), weight: 1 }),
        reserved: fc.oneof({ arbitrary: fc.constant(0), weight: 40 }, { arbitrary: fc.constant(1), weight: 1 }),
        faults: ccaFaultPlanArb(granulesPerPage, rmm),
      })
      .map(({ npages, sized, source_uaddr, flags, reserved, faults }): Op => ({
        kind: 'arm_rmi_populate', base: gfn * ps, size: sized === 'zero' ? 0n : sized === 'wraps' ? WRAPPING_SIZE(ps) : BigInt(npages * ps), source_uaddr, flags, reserved, faults,
      }));
  });
}

/**
 * KVM_ARM_RMI_POPULATE at the top of the protected IPA space, as a fuzzer would send it: the last
 * protected page and the first unprotected one, the first unprotected page alone, or nothing at
 * the top itself. The newest uAPI refuses all three with -EINVAL before any memslot lookup
 * (range_overflows() against BIT(ia_bits - 1), which refuses a base at the limit even with size
 * 0: oracle row RN.7); the generated bases otherwise stay far below it. The size-0 call is the
 * one a `base + size > limit` check lets through (rmi-newest's own model did, until kernel mode
 * compared it with the tree's C).
 */
export function outsideIpaArb(l: Layout): fc.Arbitrary<Op> {
  const ps = l.geometry.page_size;
  const top = 2 ** (REALM_IA_BITS - 1);
  return fc.constantFrom([-1, 2], [0, 1], [0, 0]).map(([first, pages]): Op => ({
    kind: 'arm_rmi_populate', base: top + first * ps, size: BigInt(pages * ps), source_uaddr: BUFFER_ADDRS[0], flags: KVM_ARM_RMI_POPULATE_FLAGS_MEASURE, reserved: 0, faults: [],
  }));
}

/**
 * KVM_ARM_RMI_POPULATE of one private page, measured, from a source that is not page-aligned:
 * rme-v12 takes it and the RMM copies and measures from the start of the pinned source page
 * (G11: measurement/mismatch); the newest tree refuses it (RN.3), v9 takes only its alias. The
 * random populates met it about one run in 150 on rme-v12, and not at all in 1000 runs under
 * seed 17 once the refused set-up insertion drew CCA's realm creation too. Undefined when the
 * layout has no private page or no mapped source page.
 */
export function unalignedSourceArb(l: Layout): fc.Arbitrary<Op> | undefined {
  const ps = l.geometry.page_size;
  const first = l.privateRanges[0];
  const buffer = l.buffers[0];
  const mapped = buffer === undefined ? undefined : Array.from({ length: buffer.npages }, (_v, i) => i).find((i) => !buffer.holes.includes(i));
  if (first === undefined || first[1] <= first[0] || buffer === undefined || mapped === undefined) return undefined;
  return fc.record({ page: fc.integer({ min: first[0], max: first[1] - 1 }), offset: fc.integer({ min: 1, max: ps - 1 }) }).map(({ page, offset }): Op => ({
    kind: 'arm_rmi_populate', base: (l.slot.base_gfn + page) * ps, size: BigInt(ps), source_uaddr: buffer.addr + mapped * ps + offset,
    flags: KVM_ARM_RMI_POPULATE_FLAGS_MEASURE, reserved: 0, faults: [],
  }));
}

/**
 * A one-page guest_memfd memslot on the last protected page of the realm's IPA space (the next
 * file page after the main slot's, made private), and a populate from it of one page (half the
 * draws: a valid call, populated) or of two or three, which end in the unprotected half. The
 * newest tree refuses the latter whole (range_overflows(), RN.7) before kvm_gmem_populate()
 * would clamp it to the slot; the random layouts' slots lie far below the boundary, so without
 * this no check of the range's end against it is ever tested. The source is the slot's own
 * userspace address (the alias rme-v9's uAPI wants). Nothing where the file has no page left.
 */
export function protectedEdgeSlotArb(l: Layout): fc.Arbitrary<Op[]> {
  const ps = l.geometry.page_size;
  const next = l.slot.pgoff + l.slot.npages;
  const buffer = l.buffers[0];
  if (next >= l.gmemPages || buffer === undefined) return fc.constant<Op[]>([]);
  const base = 2 ** (REALM_IA_BITS - 1) - ps;
  return fc.constantFrom(1, 1, 2, 3).map((npages): Op[] => [
    { kind: 'set_user_memory_region2', slot: 5, flags: KVM_MEM_GUEST_MEMFD, guest_phys_addr: base, memory_size: ps, userspace_addr: buffer.addr, guest_memfd: GMEM_FD, guest_memfd_offset: BigInt(next * ps) },
    { kind: 'set_memory_attributes', address: base, size: ps, attributes: BigInt(KVM_MEMORY_ATTRIBUTE_PRIVATE), flags: 0n },
    { kind: 'arm_rmi_populate', base, size: BigInt(npages * ps), source_uaddr: buffer.addr, flags: KVM_ARM_RMI_POPULATE_FLAGS_MEASURE, reserved: 0, faults: [] },
  ]);
}

/**
 * KVM_ARM_RMI_POPULATE with an unaligned base or size (the random ones are page-aligned): every
 * generation refuses it with -EINVAL before any work.
 */
export function unalignedPopulateArb(l: Layout): fc.Arbitrary<Op> {
  const ps = l.geometry.page_size;
  const base = l.slot.base_gfn * ps;
  return fc.constantFrom<Op>(
    { kind: 'arm_rmi_populate', base: base + ps / 2, size: BigInt(ps), source_uaddr: BUFFER_ADDRS[0], flags: 0, reserved: 0, faults: [] },
    { kind: 'arm_rmi_populate', base, size: BigInt(ps / 2), source_uaddr: BUFFER_ADDRS[0], flags: 0, reserved: 0, faults: [] },
  );
}

/**
 * Realm activation before any populate, failing on the way: the realm's creation (its RD
 * allocation, or the delegation of its granules), or, two times in three, the second allocation, which on
 * rme-v12 is the first page of the vCPU's REC (kvm_create_rec(), after the RD): the realm is
 * left DEAD and every later populate meets it. The newest tree creates the realm at the first
 * vCPU run if no populate did. Goes first in the run.
 */
export function failedActivateArb(rmm: RmmVersion): fc.Arbitrary<Op> {
  const delegate = RMI[rmm].delegate;
  const created = fc.constantFrom<Fault[]>([{ kind: 'alloc', nth: 1, site: 'kmalloc' }], [{ kind: 'fw', cmd: delegate, condition: 'gran_gpt', nth: 1 }]);
  const afterRd = fc.constant<Fault[]>([{ kind: 'alloc', nth: 2, site: 'kmalloc' }]);
  return fc.oneof({ arbitrary: created, weight: 1 }, { arbitrary: afterRd, weight: 2 }).map((faults): Op => ({ kind: 'arm_realm_activate', faults }));
}

/**
 * A page populated, punched out while its mapping cannot be torn down (the destroy or unmap of
 * its granule fails, so the IPA stays ASSIGNED), another page populated (the freed page comes
 * back as its folio), and the first page populated again: the data creation then meets an IPA
 * that is still mapped (RMI_ERROR_RTT at level 3). Before activation; every RMM version.
 */
export function stalePopulateArb(l: Layout, rmm: RmmVersion): fc.Arbitrary<Op[]> {
  const ps = l.geometry.page_size;
  const { base_gfn, npages, pgoff } = l.slot;
  const populate = (gfn: number): Op => ({ kind: 'arm_rmi_populate', base: gfn * ps, size: BigInt(ps), source_uaddr: BUFFER_ADDRS[0] + (gfn - base_gfn) * ps, flags: 0, reserved: 0, faults: [] });
  return fc.nat({ max: npages - 1 }).map((i): Op[] => {
    const x = base_gfn + i;
    const y = base_gfn + ((i + 1) % npages);
    return [
      populate(x),
      { kind: 'punch_hole', guest_memfd: 1, offset: (i + pgoff) * ps, len: ps, faults: [{ kind: 'fw', cmd: RMI[rmm].destroy, condition: 'rmm_defect', nth: 1 }] },
      ...(y === x ? [] : [populate(y)]),
      populate(x),
    ];
  });
}

export function armActivateArb(): fc.Arbitrary<Op> {
  return fc.constant<Op>({ kind: 'arm_realm_activate', faults: [] });
}
