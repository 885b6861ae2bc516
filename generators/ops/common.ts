import fc from 'fast-check';
import { KVM_MEMORY_ATTRIBUTE_PRIVATE, KVM_MEM_GUEST_MEMFD } from '../../model/world/kvmState.js';
import type { RmmVersion } from '../../model/revisions/Revision.js';
import type { BackendId, Fault, Op } from '../../model/scenario/Scenario.js';
import { BUFFER_ADDRS, type Layout } from '../layout.js';
import { KVM_SEV_SNP_PAGE_TYPE_NORMAL, KVM_SEV_SNP_PAGE_TYPE_ZERO } from '../../model/backends/snp/uapi.js';
import { FALLOC_FL_KEEP_SIZE } from '../../model/kernel/guest_memfd.js';

/** KVM_MEMORY_ATTRIBUTE_PRIVATE as the u64 `struct kvm_memory_attributes` carries. */
const PRIVATE = BigInt(KVM_MEMORY_ATTRIBUTE_PRIVATE);

/** The guest_memfd fd number the set-up creates (files are numbered from 1). */
export const GMEM_FD = 1;

/**
 * The VMM's set-up, derived from the layout: create the guest_memfd, bind it through a memslot,
 * set the private ranges, map and fill the source buffers. Each op may be shrunk away.
 */
export function setupOps(l: Layout, backend: BackendId = 'snp'): Op[] {
  const ps = l.geometry.page_size;
  const ops: Op[] = [
    { kind: 'create_guest_memfd', size: BigInt(l.gmemPages * ps), flags: l.gmemFlags },
    {
      kind: 'set_user_memory_region2', slot: 0, flags: KVM_MEM_GUEST_MEMFD,
      guest_phys_addr: l.slot.base_gfn * ps, memory_size: l.slot.npages * ps,
      // The shared alias of the slot is the first source buffer (double backing, as VMMs did).
      userspace_addr: BUFFER_ADDRS[0], guest_memfd: GMEM_FD, guest_memfd_offset: BigInt(l.slot.pgoff * ps),
    },
  ];
  for (const [a, b] of l.privateRanges) {
    if (b > a) ops.push({ kind: 'set_memory_attributes', address: (l.slot.base_gfn + a) * ps, size: (b - a) * ps, attributes: PRIVATE, flags: 0n });
  }
  for (const buf of l.buffers) ops.push({ kind: 'mmap', addr: buf.addr, length: buf.npages * ps, prot: buf.prot, holes: buf.holes });
  // rme-v9 needs KVM_CAP_ARM_RME_CREATE_REALM first; later revisions create the realm on first use.
  if (backend === 'cca') ops.push({ kind: 'arm_realm_create', faults: [] });
  return ops;
}

/**
 * Set-up ops, each kept with probability 24/25 and shrinking towards dropped. The memslot is
 * sometimes one without KVM_MEM_GUEST_MEMFD (a plain memslot over the same gfns, as a VMM that
 * forgot the flag makes): populate must refuse its gfns.
 */
export function setupArb(l: Layout, backend: BackendId): fc.Arbitrary<Op[]> {
  const variants = (op: Op): fc.Arbitrary<Op> =>
    op.kind === 'set_user_memory_region2'
      ? fc.oneof({ arbitrary: fc.constant(op), weight: 24 }, { arbitrary: fc.constant<Op>({ ...op, flags: 0 }), weight: 1 })
      : fc.constant(op);
  return fc
    .tuple(...setupOps(l, backend).map((op) => fc.option(variants(op), { freq: 25, nil: null })))
    .map((ops) => ops.filter((op): op is Op => op !== null));
}

/**
 * KVM_SET_MEMORY_ATTRIBUTES over part of the slot: mostly private, sometimes back to shared, and
 * sometimes what a syscall fuzzer sends (syzkaller's kvm_memory_attributes): an unaligned
 * address or size, size 0, a range outside every memslot, unknown attribute bits, flags.
 */
export function attributesOpArb(l: Layout): fc.Arbitrary<Op> {
  const ps = l.geometry.page_size;
  const valid = fc
    .record({
      first: fc.integer({ min: 0, max: l.slot.npages - 1 }),
      n: fc.integer({ min: 1, max: l.slot.npages }),
      attributes: fc.constantFrom(PRIVATE, 0n),
      flags: fc.oneof({ arbitrary: fc.constant(0n), weight: 9 }, { arbitrary: fc.constant(1n), weight: 1 }),
    })
    .map(({ first, n, attributes, flags }): Op => ({ kind: 'set_memory_attributes', address: (l.slot.base_gfn + first) * ps, size: n * ps, attributes, flags }));
  const base = (l.slot.base_gfn) * ps;
  const edge = fc.constantFrom<Op>(
    { kind: 'set_memory_attributes', address: base + 1, size: ps, attributes: PRIVATE, flags: 0n },
    { kind: 'set_memory_attributes', address: base, size: ps + 1, attributes: PRIVATE, flags: 0n },
    { kind: 'set_memory_attributes', address: base, size: 0, attributes: PRIVATE, flags: 0n },
    { kind: 'set_memory_attributes', address: (l.slot.base_gfn + l.slot.npages + 4) * ps, size: ps, attributes: PRIVATE, flags: 0n },
    { kind: 'set_memory_attributes', address: base, size: ps, attributes: PRIVATE | 1n, flags: 0n },
    { kind: 'set_memory_attributes', address: base, size: ps, attributes: 1n << 4n, flags: 0n },
    // u64 bits a 32-bit test would miss.
    { kind: 'set_memory_attributes', address: base, size: ps, attributes: PRIVATE | (1n << 32n), flags: 0n },
    { kind: 'set_memory_attributes', address: base, size: ps, attributes: PRIVATE, flags: 1n << 63n },
  );
  return fc.oneof({ arbitrary: valid, weight: 6 }, { arbitrary: edge, weight: 1 });
}

/**
 * Failures while the firmware gives pages back on truncation: the RMPUPDATE to shared in
 * sev_gmem_invalidate(), or a step of TDX's S-EPT removal (contended once: the retry with vCPUs
 * kept out succeeds; failing for good: the VM is bugged and the page stays the TD's).
 */
export function teardownFaultsArb(backend: BackendId, rmm: RmmVersion = 'v1.0'): fc.Arbitrary<Fault[]> {
  const fault = (cmd: string, condition: string, nth: number, unit?: number): Fault => ({ kind: 'fw', cmd, condition, nth, ...(unit === undefined ? {} : { unit }) });
  const plans: Fault[][] = {
    snp: [[fault('RMPUPDATE', 'rmp_inuse', 1)], [fault('RMPUPDATE', 'rmp_inuse', 2)]],
    // TDX: one contention (the retry succeeds), or a step that fails for good: REMOVE or BLOCK
    // contended twice, the WBINVD, or TRACK (once the TD runs: the REMOVE then finds the epoch
    // untracked).
    tdx: [
      [fault('TDH.MEM.PAGE.REMOVE', 'tdr_busy', 1)], [fault('TDH.MEM.PAGE.REMOVE', 'tdr_busy', 1), fault('TDH.MEM.PAGE.REMOVE', 'tdr_busy', 2)],
      [fault('TDH.MEM.RANGE.BLOCK', 'tdr_busy', 1), fault('TDH.MEM.RANGE.BLOCK', 'tdr_busy', 2)],
      [fault('TDH.PHYMEM.PAGE.WBINVD', 'wbinvd_error', 1)],
      [fault('TDH.MEM.TRACK', 'tdr_busy', 1), fault('TDH.MEM.TRACK', 'tdr_busy', 2)],
    ],
    // The destroy and undelegate of a granule coming back from the realm; under RMM 1.0 aimed
    // also at granule positions (3 and 15: the last of a 4- or 16-granule page).
    cca: rmm === 'v2.0'
      ? [
        [fault('RMI_GRANULE_RANGE_UNDELEGATE', 'gran_gpt', 1)], [fault('RMI_GRANULE_RANGE_UNDELEGATE', 'gran_gpt', 2)],
        [fault('RMI_RTT_DATA_UNMAP', 'rmm_defect', 1)], [fault('RMI_RTT_DATA_UNMAP', 'rmm_defect', 2)],
      ]
      : [
        [fault('RMI_GRANULE_UNDELEGATE', 'gran_gpt', 1)], [fault('RMI_GRANULE_UNDELEGATE', 'gran_gpt', 2)],
        // The last granule of a 4- and a 16-granule page twice as often: a failure there is the
        // one a rollback of the whole page meets last (its coverage minimum sat at 1 of 2 under
        // some seeds).
        ...[0, 1, 3, 15, 3, 15].map((u) => [fault('RMI_GRANULE_UNDELEGATE', 'gran_gpt', 1, u)]),
        [fault('RMI_DATA_DESTROY', 'rmm_defect', 1)],
        ...[0, 1, 3, 15].map((u) => [fault('RMI_DATA_DESTROY', 'rmm_defect', 1, u)]),
      ],
  }[backend];
  // Half the time: the paths that leak a page the firmware keeps (G4, G5, G13) all go through
  // a teardown whose firmware step fails, on a page a populate gave the guest before.
  return fc.oneof({ arbitrary: fc.constant<Fault[]>([]), weight: 1 }, { arbitrary: fc.constantFrom(...plans), weight: 1 });
}

/** fallocate(PUNCH_HOLE) on the guest_memfd: page ranges, sometimes unaligned or empty (-EINVAL). */
export function punchHoleArb(backend: BackendId, l: Layout, rmm?: RmmVersion): fc.Arbitrary<Op> {
  const ps = l.geometry.page_size;
  const skew = fc.oneof({ arbitrary: fc.constant({ offset: 0, len: 0 }), weight: 12 }, { arbitrary: fc.constantFrom({ offset: 1, len: 0 }, { offset: 0, len: 1 }, { offset: 0, len: -1 }), weight: 2 });
  return fc
    .record({ first: fc.integer({ min: 0, max: l.gmemPages - 1 }), n: fc.integer({ min: 1, max: l.gmemPages }), faults: teardownFaultsArb(backend, rmm), skew })
    .map(({ first, n, faults, skew: k }) => ({ kind: 'punch_hole', guest_memfd: GMEM_FD, offset: first * ps + k.offset, len: k.len < 0 ? 0 : n * ps + k.len, faults }));
}

/**
 * fallocate() on the guest_memfd in allocate mode (FALLOC_FL_KEEP_SIZE): half the time the whole
 * file (what a VMM pre-allocating its guest memory does, so every populate after it meets a
 * pre-allocated folio: G28), else a range inside the file mostly, now and then one past its end
 * (-EINVAL: "immutable"); a folio allocation or a signal failing part-way one time in six; and,
 * four times in fourteen, a mode a fuzzer sends (no KEEP_SIZE, ZERO_RANGE, an unknown bit:
 * -EOPNOTSUPP).
 */
export function fallocateArb(l: Layout): fc.Arbitrary<Op> {
  const ps = l.geometry.page_size;
  const mode = fc.oneof(
    { arbitrary: fc.constant(FALLOC_FL_KEEP_SIZE), weight: 10 },
    { arbitrary: fc.constantFrom(0, FALLOC_FL_KEEP_SIZE | 0x10, FALLOC_FL_KEEP_SIZE | 0x400), weight: 4 },
  );
  const faults = fc.oneof(
    { arbitrary: fc.constant<Fault[]>([]), weight: 10 },
    { arbitrary: fc.integer({ min: 1, max: 2 }).map((nth): Fault[] => [{ kind: 'alloc', nth, site: 'folio' }]), weight: 1 },
    { arbitrary: fc.integer({ min: 1, max: 2 }).map((nth): Fault[] => [{ kind: 'signal', nth }]), weight: 1 },
  );
  const part = fc
    .record({ first: fc.integer({ min: 0, max: l.gmemPages - 1 }), extra: fc.oneof({ arbitrary: fc.constant(0), weight: 5 }, { arbitrary: fc.integer({ min: 1, max: 2 }), weight: 1 }) })
    .chain(({ first, extra }) => fc.integer({ min: 1, max: l.gmemPages - first }).map((n) => ({ first, pages: n + extra })));
  const range = fc.oneof({ arbitrary: fc.constant({ first: 0, pages: l.gmemPages }), weight: 1 }, { arbitrary: part, weight: 1 });
  return fc.record({ range, mode, faults }).map(({ range: r, mode: m, faults: f }): Op => ({ kind: 'fallocate', guest_memfd: GMEM_FD, mode: m, offset: r.first * ps, len: r.pages * ps, faults: f }));
}

/** Userspace touching its mmap() of the guest_memfd: the in-place conversion fault path. */
export function userFaultArb(l: Layout): fc.Arbitrary<Op> {
  return fc.integer({ min: 0, max: l.gmemPages - 1 }).map((i) => ({ kind: 'gmem_user_fault', guest_memfd: GMEM_FD, offset: i * l.geometry.page_size }));
}

/**
 * Memslot churn: the set-up memslot deleted (memory_size 0) or created again; and what a fuzzer
 * sends: a second memslot on the same guest_memfd (overlapping its range, or the page past it),
 * a guest_memfd_offset unaligned or past the end of the file.
 */
export function memslotArb(l: Layout): fc.Arbitrary<Op> {
  const create = setupOps(l)[1];
  if (create?.kind !== 'set_user_memory_region2') throw new Error('setupOps() lost its memslot');
  const ps = l.geometry.page_size;
  const after = (l.slot.base_gfn + l.slot.npages + 8) * ps;
  // Slot 2: slot 1 is secondSlotArb's, and an existing id would stop every one of these at the
  // "private memslots are immutable" check.
  return fc.oneof(
    { arbitrary: fc.constantFrom<Op>({ ...create, memory_size: 0 }, create), weight: 3 },
    {
      arbitrary: fc.constantFrom<Op>(
        { ...create, slot: 2, guest_phys_addr: after },
        { ...create, slot: 2, guest_phys_addr: after, memory_size: ps, guest_memfd_offset: BigInt((l.slot.pgoff + l.slot.npages) * ps) },
        { ...create, slot: 2, guest_phys_addr: after, memory_size: ps, guest_memfd_offset: BigInt((l.slot.pgoff + l.slot.npages) * ps + 1) },
        { ...create, slot: 2, guest_phys_addr: after, memory_size: ps, guest_memfd_offset: BigInt(l.gmemPages * ps) },
      ),
      weight: 2,
    },
  );
}

/**
 * What a syscall fuzzer tries on the u64 fields, once at set-up: a binding in a slot of its own
 * (2, far from the populated range) whose offset plus size passes 2^63 (the signed sum of the
 * loff_t kvm_gmem_bind(), B15) or 2^64 (the u64 wrap kvm_set_memory_region() refuses); the page
 * past the range bound while an xarray node allocation fails (every merged bind ignores
 * xa_store_range()'s -ENOMEM, B16), then a populate of it; a guest_memfd whose flags set bit 32 (a 32-bit test misses it).
 */
export function u64EdgeArb(l: Layout, backend: BackendId = 'snp'): fc.Arbitrary<Op[]> {
  const create = setupOps(l)[1];
  if (create?.kind !== 'set_user_memory_region2') throw new Error('setupOps() lost its memslot');
  const ps = l.geometry.page_size;
  const gfn = l.slot.base_gfn + l.slot.npages + 16;
  const at = { ...create, slot: 2, guest_phys_addr: gfn * ps, memory_size: ps };
  // A populate of the slot B16 left unbound, its page private: __kvm_gmem_get_pfn() finds no
  // binding for its index (the bindings-load check every generation has), so the call fails
  // there, where a tree without the check would go on and populate it.
  const populate: Op = {
    snp: { kind: 'snp_launch_update', gfn_start: BigInt(gfn), uaddr: 0, len: BigInt(ps), type: KVM_SEV_SNP_PAGE_TYPE_ZERO, flags: 0, faults: [] } as const,
    tdx: { kind: 'tdx_init_mem_region', source_addr: BUFFER_ADDRS[0], gpa: gfn * ps, nr_pages: 1n, flags: 1, faults: [] } as const,
    cca: { kind: 'arm_rmi_populate', base: gfn * ps, size: BigInt(ps), source_uaddr: BUFFER_ADDRS[0], flags: 0, reserved: 0, faults: [] } as const,
  }[backend];
  return fc.constantFrom<Op[]>(
    [{ ...at, guest_memfd_offset: (1n << 63n) - BigInt(ps) }],
    [{ ...at, guest_memfd_offset: (1n << 64n) - BigInt(ps) }],
    [
      { ...at, guest_memfd_offset: BigInt((l.slot.pgoff + l.slot.npages) * ps), faults: [{ kind: 'alloc', nth: 1, site: 'xa_node' }] },
      { kind: 'set_memory_attributes', address: gfn * ps, size: ps, attributes: PRIVATE, flags: 0n },
      populate,
    ],
    [{ kind: 'create_guest_memfd', size: BigInt(ps), flags: (1n << 32n) | 1n }],
  );
}

/**
 * A second guest_memfd bound by a second memslot right after the first, with its pages private:
 * a populate that runs past the end of the first slot then crosses into it (the generic code
 * truncates at the slot end; TDX's per-page loop looks up each gfn's slot).
 */
export function secondSlotArb(l: Layout): fc.Arbitrary<Op[]> {
  const ps = l.geometry.page_size;
  const base = (l.slot.base_gfn + l.slot.npages) * ps;
  return fc.constant<Op[]>([
    { kind: 'create_guest_memfd', size: BigInt(2 * ps), flags: l.gmemFlags },
    { kind: 'set_user_memory_region2', slot: 1, flags: KVM_MEM_GUEST_MEMFD, guest_phys_addr: base, memory_size: 2 * ps, userspace_addr: BUFFER_ADDRS[1], guest_memfd: GMEM_FD + 1, guest_memfd_offset: 0n },
    { kind: 'set_memory_attributes', address: base, size: 2 * ps, attributes: PRIVATE, flags: 0n },
  ]);
}

/**
 * The page of the guest_memfd past the set-up memslot's range (layoutArb leaves one) bound by a
 * second memslot right after the first, private: the same file continues across the slot
 * boundary, so a populate that runs past the end of the first slot finds the next file index
 * bound and private. Only the clamp of the count to the slot end
 * (`slot->base_gfn + slot->npages - start_gfn`) stops it there.
 */
export function sameFileNeighbourArb(l: Layout): fc.Arbitrary<Op[]> {
  const ps = l.geometry.page_size;
  const base = (l.slot.base_gfn + l.slot.npages) * ps;
  const next = l.slot.pgoff + l.slot.npages;
  if (next >= l.gmemPages) return fc.constant<Op[]>([]);
  return fc.constant<Op[]>([
    { kind: 'set_user_memory_region2', slot: 1, flags: KVM_MEM_GUEST_MEMFD, guest_phys_addr: base, memory_size: ps, userspace_addr: BUFFER_ADDRS[1], guest_memfd: GMEM_FD, guest_memfd_offset: BigInt(next * ps) },
    { kind: 'set_memory_attributes', address: base, size: ps, attributes: PRIVATE, flags: 0n },
  ]);
}

/**
 * A VMM that forgot to map a source page, then mapped it and populated again: one page from a
 * buffer's hole (the call fails on it), the hole mapped, the same gfn from it again. What a
 * failed call leaves behind on that page (B1: the kmap_local a failed copy_from_user() never
 * unmapped) then meets the populate that makes it private. Independent draws put a second
 * populate on a failed call's page about one run in seventy. On SNP, half the time (and always
 * where the layout has no hole), loadedNextArb's form instead.
 */
export function holeRetryArb(backend: BackendId, l: Layout): fc.Arbitrary<Op[]> {
  const ps = l.geometry.page_size;
  const holes = l.buffers.flatMap((b) => b.holes.filter((h) => h < b.npages).map((h) => b.addr + h * ps));
  const retry = holes.length === 0 ? undefined : fc.record({ src: fc.constantFrom(...holes), gfn: fc.integer({ min: l.slot.base_gfn, max: l.slot.base_gfn + l.slot.npages - 1 }) }).map(({ src, gfn }): Op[] => {
    const populate: Op = backend === 'snp'
      ? { kind: 'snp_launch_update', gfn_start: BigInt(gfn), uaddr: src, len: BigInt(ps), type: KVM_SEV_SNP_PAGE_TYPE_NORMAL, flags: 0, faults: [] }
      : { kind: 'tdx_init_mem_region', source_addr: src, gpa: gfn * ps, nr_pages: 1n, flags: 1, faults: [] };
    return [populate, { kind: 'mmap', addr: src, length: ps, prot: 'rw', holes: [] }, populate];
  });
  const next = backend === 'snp' ? loadedNextArb(l) : undefined;
  if (backend === 'cca' || (retry === undefined && next === undefined)) return fc.constant<Op[]>([]);
  if (retry === undefined) return next ?? fc.constant<Op[]>([]);
  return next === undefined ? retry : fc.oneof(retry, next);
}

/**
 * The same retry with the next gfn loaded first and a two-page call: a mapped source page
 * unmapped (the hole), the next private gfn loaded from another, then the two pages from the
 * hole, which fail on the first. Where the failed call reports copy_from_user()'s byte count as
 * pages (G21), the loaded page lies in the range it claims and this call did not measure it
 * (G21's notMeasured: 15 seeds of 30 at stop 26, from independent draws). Undefined where the
 * layout has no two consecutive private gfns or fewer than two mapped source pages.
 */
function loadedNextArb(l: Layout): fc.Arbitrary<Op[]> | undefined {
  const ps = l.geometry.page_size;
  const pairs = privateGfns(l).filter((g, _i, all) => all.includes(g + 1));
  const sources = mappedSources(l);
  if (pairs.length === 0 || sources.length < 2) return undefined;
  const populate = (g: number, uaddr: number, pages: number): Op => ({ kind: 'snp_launch_update', gfn_start: BigInt(g), uaddr, len: BigInt(pages * ps), type: KVM_SEV_SNP_PAGE_TYPE_NORMAL, flags: 0, faults: [] });
  return fc.record({ gfn: fc.constantFrom(...pairs), src: fc.constantFrom(...sources), k: fc.nat({ max: sources.length - 2 }) }).map(({ gfn, src, k }): Op[] => {
    const from = sources.filter((a) => a !== src)[k] ?? src;
    return [
      { kind: 'munmap', addr: src, length: ps },
      populate(gfn + 1, from, 1),
      populate(gfn, src, 2),
      { kind: 'mmap', addr: src, length: ps, prot: 'rw', holes: [] },
      populate(gfn, src, 2),
    ];
  });
}

/**
 * A page populated and then punched out of the file: one private page of the slot loaded (or its
 * LAUNCH_UPDATE failing and the cleanup after it failing too, which leaks it), then
 * fallocate(PUNCH_HOLE) of that page's file offset with a failure of the firmware's give-back.
 * kvm_gmem_punch_hole() freeing what the firmware keeps (G4, G5) needs a punch that covers such a
 * page; independent draws covered one late enough that 21 of 30 seeds' budgets showed G4's
 * leakedPageFreed@kvm_gmem_punch_hole and 26 of 30 G5's (reports/detection.md).
 */
export function populatePunchArb(backend: BackendId, l: Layout): fc.Arbitrary<Op[]> {
  const ps = l.geometry.page_size;
  const gfns = privateGfns(l);
  const sources = mappedSources(l);
  if (backend === 'cca' || gfns.length === 0 || sources.length === 0) return fc.constant<Op[]>([]);
  const fw = (cmd: string, condition: string, nth: number): Fault => ({ kind: 'fw', cmd, condition, nth });
  // SNP: loaded; or LAUNCH_UPDATE failing with SNP_PAGE_RECLAIM failing (the page stays the
  // firmware's, leaked) or with the RMPUPDATE back to shared failing (leaked, host-owned).
  const update = fw('SNP_LAUNCH_UPDATE', 'fw_resource', 1);
  const populateFaults: Fault[][] = backend === 'snp' ? [[], [update, fw('SNP_PAGE_RECLAIM', 'page_address', 1)], [update, fw('RMPUPDATE', 'rmp_inuse', 2)]] : [[]];
  return fc.record({ gfn: fc.constantFrom(...gfns), src: fc.constantFrom(...sources), faults: fc.constantFrom(...populateFaults), punch: teardownFaultsArb(backend) }).map(({ gfn, src, faults, punch }): Op[] => [
    backend === 'snp'
      ? { kind: 'snp_launch_update', gfn_start: BigInt(gfn), uaddr: src, len: BigInt(ps), type: KVM_SEV_SNP_PAGE_TYPE_NORMAL, flags: 0, faults }
      : { kind: 'tdx_init_mem_region', source_addr: src, gpa: gfn * ps, nr_pages: 1n, flags: 1, faults },
    { kind: 'punch_hole', guest_memfd: GMEM_FD, offset: (gfn - l.slot.base_gfn + l.slot.pgoff) * ps, len: ps, faults: punch },
  ]);
}

/**
 * Two private pages populated in one call, then the first punched out with no fault: the second
 * keeps its private mapping (FA.5's frame condition), so an unmap that runs one page past the
 * hole shows (an S-EPT leaf or RMM entry gone under a page guest_memfd still holds). TDX and
 * CCA only: SNP's unmap leaves the RMP as it is. Random punches left such a page behind the hole
 * too rarely for every seed (none on TDX in 300 runs under seed 5). Nothing where the layout has
 * no two private pages in a row, or no mapped source.
 */
export function punchBeforePopulatedArb(backend: BackendId, l: Layout): fc.Arbitrary<Op[]> {
  const ps = l.geometry.page_size;
  const gfns = privateGfns(l).filter((g, i, all) => all[i + 1] === g + 1);
  const sources = mappedSources(l);
  if (backend === 'snp' || gfns.length === 0 || sources.length === 0) return fc.constant<Op[]>([]);
  return fc.record({ gfn: fc.constantFrom(...gfns), src: fc.constantFrom(...sources) }).map(({ gfn, src }): Op[] => [
    backend === 'tdx'
      ? { kind: 'tdx_init_mem_region', source_addr: src, gpa: gfn * ps, nr_pages: 2n, flags: 1, faults: [] }
      : { kind: 'arm_rmi_populate', base: gfn * ps, size: BigInt(2 * ps), source_uaddr: src, flags: 1, reserved: 0, faults: [] },
    { kind: 'punch_hole', guest_memfd: GMEM_FD, offset: (gfn - l.slot.base_gfn + l.slot.pgoff) * ps, len: ps, faults: [] },
  ]);
}

/**
 * A page given to the guest and then punched out with its firmware-owned state left behind: on
 * SNP a populate whose clean-up leaks the page (SNP_PAGE_RECLAIM failing: still the firmware's;
 * the RMPUPDATE back to shared failing: leaked, host-owned) punched out at once, or a loaded page
 * whose punch-hole RMPUPDATE fails; on TDX a loaded page whose S-EPT removal fails for good
 * (REMOVE or BLOCK contended twice, WBINVD, TRACK). The G4 and G5 routes through
 * kvm_gmem_punch_hole(): populatePunchArb spreads its faults over the cases that leak nothing as
 * well, and left them under 21 to 29 seeds of 30 (reports/detection.md at b2bc0f6).
 */
export function leakingPunchArb(backend: BackendId, l: Layout): fc.Arbitrary<Op[]> {
  const ps = l.geometry.page_size;
  const one = onePagePopulateArb(backend, l);
  if (one === undefined) return fc.constant<Op[]>([]);
  const fw = (cmd: string, condition: string, nth: number): Fault => ({ kind: 'fw', cmd, condition, nth });
  const update = fw('SNP_LAUNCH_UPDATE', 'fw_resource', 1);
  const plans: { populate: Fault[]; punch: Fault[] }[] = backend === 'snp'
    ? [
      { populate: [], punch: [fw('RMPUPDATE', 'rmp_inuse', 1)] },
      { populate: [update, fw('SNP_PAGE_RECLAIM', 'page_address', 1)], punch: [] },
      { populate: [update, fw('RMPUPDATE', 'rmp_inuse', 2)], punch: [] },
    ]
    : [
      [fw('TDH.MEM.PAGE.REMOVE', 'tdr_busy', 1), fw('TDH.MEM.PAGE.REMOVE', 'tdr_busy', 2)],
      [fw('TDH.MEM.RANGE.BLOCK', 'tdr_busy', 1), fw('TDH.MEM.RANGE.BLOCK', 'tdr_busy', 2)],
      [fw('TDH.PHYMEM.PAGE.WBINVD', 'wbinvd_error', 1)],
      [fw('TDH.MEM.TRACK', 'tdr_busy', 1), fw('TDH.MEM.TRACK', 'tdr_busy', 2)],
    ].map((punch) => ({ populate: [], punch }));
  // SNP, the freed page's next user, two times in four: mmap() of one page where nothing is
  // mapped takes the lowest free pfn, which is the page just punched out when the pair comes
  // first in the run, and munmap() frees it again (G4's @mmap and @munmap signatures, which
  // random mmap/munmap pairs reached under 0 to 2 seeds of 30: reports/detection.md at stop 26).
  // One time in four, the populate again before the punch: where the failed populate's own
  // clean-up freed the page (paolo-v1's hole punch), the retry's new folio takes that pfn again
  // and the punch frees it a second time (G4's leakedPageFreed@kvm_gmem_punch_hole there, 16 of 30).
  const mode = backend === 'snp'
    ? fc.constantFrom<'plain' | 'reuse' | 'again'>('plain', 'reuse', 'reuse', 'again')
    : fc.constant<'plain'>('plain');
  return fc.tuple(one, fc.constantFrom(...plans), mode).map(([{ gfn, populate }, plan, m]): Op[] => [
    populate.kind === 'snp_launch_update' || populate.kind === 'tdx_init_mem_region' ? { ...populate, faults: plan.populate } : populate,
    ...(m === 'again' ? [populate] : []),
    { kind: 'punch_hole', guest_memfd: GMEM_FD, offset: (gfn - l.slot.base_gfn + l.slot.pgoff) * ps, len: ps, faults: plan.punch },
    ...(m === 'reuse' ? [{ kind: 'mmap', addr: REUSE_ADDR, length: ps, prot: 'rw', holes: [] } as const, { kind: 'munmap', addr: REUSE_ADDR, length: ps } as const] : []),
  ]);
}

/** An address no layout maps (its buffers start at BUFFER_ADDRS and span a few pages). */
export const REUSE_ADDR = 0xc0000;

/**
 * What a syscall fuzzer sends at set-up that the kernel refuses before touching anything: a
 * KVM_CREATE_GUEST_MEMFD whose size is 0, not page-aligned, or past 2^63 (negative as the loff_t
 * kvm_gmem_create() reads; also 2^64 - PAGE_SIZE), with valid flags (oracle row G.3); or a
 * memslot over a page of the set-up slot's GPA range, with and without a guest_memfd
 * (kvm_set_memory_region()'s -EEXIST for an overlap, row M.5, before anything is bound); on x86
 * the launch step again.
 */
export function refusedSetupArb(l: Layout, backend: BackendId = 'snp'): fc.Arbitrary<Op> {
  const ps = l.geometry.page_size;
  const size = fc.constantFrom(0n, BigInt(ps / 2), BigInt(3 * ps / 2), 1n << 63n, (1n << 64n) - BigInt(ps));
  const create = size.map((s): Op => ({ kind: 'create_guest_memfd', size: s, flags: l.gmemFlags }));
  const overlap = fc.record({ page: fc.nat({ max: l.slot.npages - 1 }), gmem: fc.boolean() }).map(({ page, gmem }): Op => ({
    kind: 'set_user_memory_region2', slot: 3, flags: gmem ? KVM_MEM_GUEST_MEMFD : 0,
    guest_phys_addr: (l.slot.base_gfn + page) * ps, memory_size: ps, userspace_addr: BUFFER_ADDRS[1],
    guest_memfd: gmem ? GMEM_FD : 0, guest_memfd_offset: 0n,
  }));
  // The launch step again: a second SNP_LAUNCH_START (one guest context per VM) or
  // KVM_TDX_INIT_VCPU (the vCPU is no longer uninitialised): -EINVAL. Where the run has not
  // started its launch yet (Scenario.launch), this is its first.
  // On TDX, half the time with a kvm_tdx_cmd field the kernel refuses: flags (tdx_vcpu_init())
  // or hw_error (tdx_get_cmd(); v6.16-v6.18 tdx_vcpu_ioctl()).
  // On CCA the realm's creation again: rme-v9's KVM_CAP_ARM_RME_CREATE_REALM is refused once the
  // realm exists (-EEXIST); the later trees have no such call (-EINVAL).
  const relaunch: fc.Arbitrary<Op> = backend === 'snp'
    ? fc.constant({ kind: 'snp_launch_start' })
    : backend === 'tdx' ? fc.constantFrom<Op>({ kind: 'tdx_init_vcpu' }, { kind: 'tdx_init_vcpu' }, { kind: 'tdx_init_vcpu', flags: 1 }, { kind: 'tdx_init_vcpu', hw_error: 1 })
    : fc.constant({ kind: 'arm_realm_create', faults: [] });
  return fc.oneof(create, overlap, relaunch);
}

/**
 * fallocate(FALLOC_FL_KEEP_SIZE) of the whole guest_memfd with the first RMPUPDATE failing:
 * paolo-v1's fallocate() prepares every folio it allocates (kvm_gmem_prepare_folio() ->
 * sev_gmem_prepare()), and a failed prepare unwinds there; later trees prepare nothing at
 * allocation, so the fault never fires.
 */
export function failedPrepareArb(l: Layout): Op {
  return { kind: 'fallocate', guest_memfd: GMEM_FD, mode: FALLOC_FL_KEEP_SIZE, offset: 0, len: l.gmemPages * l.geometry.page_size, faults: [{ kind: 'fw', cmd: 'RMPUPDATE', condition: 'rmp_inuse', nth: 1 }] };
}

/** MADV_DONTNEED, MADV_PAGEOUT or MADV_REMOVE, weighted 3:2:1 (model/scenario/userspace.ts). */
const adviceArb = fc.oneof({ arbitrary: fc.constant<4>(4), weight: 3 }, { arbitrary: fc.constant<21>(21), weight: 2 }, { arbitrary: fc.constant<9>(9), weight: 1 });

/**
 * madvise() on a source buffer: one page of it, or all of it with the page after (a range a
 * mapping does not wholly cover: -ENOMEM once the mapped part is done).
 */
export function madviseArb(l: Layout): fc.Arbitrary<Op> {
  const ps = l.geometry.page_size;
  return fc.record({ b: fc.constantFrom(...l.buffers), page: fc.nat({ max: 64 }), whole: fc.boolean(), advice: adviceArb }).map(({ b, page, whole, advice }): Op => ({
    kind: 'madvise', addr: whole ? b.addr : b.addr + (page % b.npages) * ps, length: whole ? (b.npages + 1) * ps : ps, advice,
  }));
}

/**
 * A source page the VMM gave back (MADV_DONTNEED: it reads as zeroes; MADV_PAGEOUT: swapped
 * out, the same bytes in a new page at the next touch), then the populate of one private page
 * from it: GUP and copy_from_user() fault it back in.
 */
export function madvisePopulateArb(backend: BackendId, l: Layout): fc.Arbitrary<Op[]> {
  const one = onePagePopulateArb(backend, l);
  if (one === undefined) return fc.constant<Op[]>([]);
  const ps = l.geometry.page_size;
  return fc.tuple(one, fc.constantFrom<4 | 21>(4, 21)).map(([{ populate }, advice]): Op[] => {
    const src = populate.kind === 'snp_launch_update' ? populate.uaddr : populate.kind === 'tdx_init_mem_region' ? populate.source_addr : 0;
    return [{ kind: 'madvise', addr: src - (src % ps), length: ps, advice }, populate];
  });
}

/**
 * A one-page SNP populate the set-up lets reach the firmware, drawn from nothing: the last private
 * gfn from the first mapped source page (undefined when the layout has neither).
 */
export function lastPrivatePopulate(l: Layout): Op | undefined {
  const gfn = privateGfns(l).at(-1);
  const src = mappedSources(l)[0];
  if (gfn === undefined || src === undefined) return undefined;
  return { kind: 'snp_launch_update', gfn_start: BigInt(gfn), uaddr: src, len: BigInt(l.geometry.page_size), type: KVM_SEV_SNP_PAGE_TYPE_NORMAL, flags: 0, faults: [] };
}

/** The gfns the set-up makes private. */
export function privateGfns(l: Layout): number[] {
  return l.privateRanges.flatMap(([a, b]) => Array.from({ length: b - a }, (_x, i) => l.slot.base_gfn + a + i));
}

/** Source pages the set-up maps. */
export function mappedSources(l: Layout): number[] {
  const ps = l.geometry.page_size;
  return l.buffers.flatMap((b) => Array.from({ length: b.npages }, (_x, i) => i).filter((i) => !b.holes.includes(i)).map((i) => b.addr + i * ps));
}

/**
 * What a VMM that pre-allocates its guest memory does: fallocate() of the whole guest_memfd, then
 * the populate of one private page from a mapped source, which every tree but paolo-v1 (G28)
 * loads; half the time, only the first page of a two-page populate whose second is shared.
 * x86 only (the CCA populate has its own shapes; the general fallocate op reaches it).
 */
export function allocatePopulateArb(backend: BackendId, l: Layout): fc.Arbitrary<Op[]> {
  const ps = l.geometry.page_size;
  const one = onePagePopulateArb(backend, l);
  if (one === undefined) return fc.constant<Op[]>([]);
  const whole = one.map(({ populate }): Op[] => [
    { kind: 'fallocate', guest_memfd: GMEM_FD, mode: FALLOC_FL_KEEP_SIZE, offset: 0, len: l.gmemPages * ps, faults: [] },
    populate,
  ]);
  const split = firstPageAllocatedArb(backend, l);
  return split === undefined ? whole : fc.oneof(whole, split);
}

/**
 * Only the first page of a two-page populate pre-allocated, its second gfn made shared: a correct
 * tree loads the first and stops at the second (oracle row S1.20, "a page after the first
 * fails": 0), while paolo-v1's FGP_CREAT_ONLY refuses the first (G28 as S1.20, which the
 * whole-file form reached under 9 seeds of 30 at stop 26). Undefined where no private gfn has
 * a slot page after it, or no mapped source page a mapped one.
 */
function firstPageAllocatedArb(backend: BackendId, l: Layout): fc.Arbitrary<Op[]> | undefined {
  const ps = l.geometry.page_size;
  const gfns = privateGfns(l).filter((g) => g + 1 < l.slot.base_gfn + l.slot.npages);
  const sources = mappedSources(l);
  const srcs = sources.filter((a) => sources.includes(a + ps));
  if (backend === 'cca' || gfns.length === 0 || srcs.length === 0) return undefined;
  return fc.record({ gfn: fc.constantFrom(...gfns), src: fc.constantFrom(...srcs) }).map(({ gfn, src }): Op[] => [
    { kind: 'fallocate', guest_memfd: GMEM_FD, mode: FALLOC_FL_KEEP_SIZE, offset: (gfn - l.slot.base_gfn + l.slot.pgoff) * ps, len: ps, faults: [] },
    { kind: 'set_memory_attributes', address: (gfn + 1) * ps, size: ps, attributes: 0n, flags: 0n },
    backend === 'snp'
      ? { kind: 'snp_launch_update', gfn_start: BigInt(gfn), uaddr: src, len: BigInt(2 * ps), type: KVM_SEV_SNP_PAGE_TYPE_NORMAL, flags: 0, faults: [] }
      : { kind: 'tdx_init_mem_region', source_addr: src, gpa: gfn * ps, nr_pages: 2n, flags: 1, faults: [] },
  ]);
}

/** The populate of one private page from a mapped source (x86; none where the layout has neither). */
export function onePagePopulateArb(backend: BackendId, l: Layout): fc.Arbitrary<{ readonly gfn: number; readonly populate: Op }> | undefined {
  const ps = l.geometry.page_size;
  const gfns = privateGfns(l);
  const sources = mappedSources(l);
  if (backend === 'cca' || gfns.length === 0 || sources.length === 0) return undefined;
  return fc.record({ gfn: fc.constantFrom(...gfns), src: fc.constantFrom(...sources) }).map(({ gfn, src }) => ({
    gfn,
    populate: backend === 'snp'
      ? { kind: 'snp_launch_update', gfn_start: BigInt(gfn), uaddr: src, len: BigInt(ps), type: KVM_SEV_SNP_PAGE_TYPE_NORMAL, flags: 0, faults: [] }
      : { kind: 'tdx_init_mem_region', source_addr: src, gpa: gfn * ps, nr_pages: 1n, flags: 1, faults: [] },
  }));
}

/** The populate op with its struct in a read-only mapping (Op `arg_readonly`); any other op as it is. */
export function withReadOnlyArg(op: Op): Op {
  switch (op.kind) {
    case 'snp_launch_update': case 'tdx_init_mem_region': case 'arm_rmi_populate': return { ...op, arg_readonly: true };
    default: return op;
  }
}

/**
 * A populate whose struct lies in a read-only mapping (oracle rows S1.19, S2.10, T.16, RN.12):
 * the copy back after the work faults. Which populate: `nth` (modulo their number) of the run's
 * own, or on x86 a one-page populate of a private page from a mapped source, which gets as far as
 * the copy back, at a drawn place among the body ops.
 */
export type ReadOnlyArg = { readonly kind: 'mark'; readonly nth: number } | { readonly kind: 'insert'; readonly at: number; readonly op: Op };

export function readOnlyArgArb(backend: BackendId, l: Layout): fc.Arbitrary<ReadOnlyArg> {
  const mark = fc.nat({ max: 7 }).map((nth): ReadOnlyArg => ({ kind: 'mark', nth }));
  const one = onePagePopulateArb(backend, l);
  if (one === undefined) return mark;
  const insert = fc.record({ at: fc.nat({ max: 6 }), one }).map(({ at, one: o }): ReadOnlyArg => ({ kind: 'insert', at, op: withReadOnlyArg(o.populate) }));
  // Mostly the one-page populate: most of a run's own populates fail before the copy back.
  return fc.oneof({ arbitrary: mark, weight: 1 }, { arbitrary: insert, weight: 3 });
}

/** A hardware memory error in the page at a guest_memfd index (nothing happens where no folio is). */
export function memoryFailureArb(l: Layout): fc.Arbitrary<Op> {
  return fc.integer({ min: 0, max: l.gmemPages - 1 }).map((i) => ({ kind: 'memory_failure', guest_memfd: GMEM_FD, offset: i * l.geometry.page_size }));
}

/**
 * A hardware memory error in a page the VM's image is loaded into, and the populate of that page
 * again: the poisoned folio's -EHWPOISON from kvm_gmem_get_pfn() (every generation checks it,
 * after the source's GUP where that comes first). On CCA, whose populate has its own shapes, the
 * page comes from a whole-file fallocate() instead, and the body's populates meet it.
 */
export function poisonPopulateArb(backend: BackendId, l: Layout): fc.Arbitrary<Op[]> {
  const ps = l.geometry.page_size;
  const index = (gfn: number) => gfn - l.slot.base_gfn + l.slot.pgoff;
  const one = onePagePopulateArb(backend, l);
  if (one === undefined) {
    return memoryFailureArb(l).map((mf): Op[] => [{ kind: 'fallocate', guest_memfd: GMEM_FD, mode: FALLOC_FL_KEEP_SIZE, offset: 0, len: l.gmemPages * ps, faults: [] }, mf]);
  }
  return one.map(({ gfn, populate }): Op[] => [populate, { kind: 'memory_failure', guest_memfd: GMEM_FD, offset: index(gfn) * ps }, populate]);
}

/** close() of the guest_memfd or the VM in the middle of a scenario, not only at its end. */
export function closeArb(backend: BackendId, rmm?: RmmVersion): fc.Arbitrary<Op> {
  return fc.oneof(
    teardownFaultsArb(backend, rmm).map((faults): Op => ({ kind: 'close_guest_memfd', guest_memfd: GMEM_FD, faults })),
    fc.constant<Op>({ kind: 'close_vm' }),
  );
}

/** One page of a source buffer mapped again (fresh contents), typically after a munmap. */
export function remapArb(l: Layout): fc.Arbitrary<Op> {
  const ps = l.geometry.page_size;
  return fc.constantFrom(...l.buffers).chain((b) => fc.integer({ min: 0, max: b.npages - 1 }).map((i): Op => ({ kind: 'mmap', addr: b.addr + i * ps, length: ps, prot: b.prot, holes: [] })));
}

export function munmapArb(l: Layout): fc.Arbitrary<Op> {
  const ps = l.geometry.page_size;
  return fc.constantFrom(...l.buffers).chain((b) => fc.integer({ min: 0, max: b.npages - 1 }).map((i) => ({ kind: 'munmap', addr: b.addr + i * ps, length: ps })));
}

/**
 * Tear-down: close the guest_memfd and the VM, in either order, or nothing. With several RMM 1.0
 * granules per page, also a VMM that discards the whole file (punch-hole) before it closes it,
 * the punch-hole's undelegate failing at one granule position: the second unmap of a page an
 * earlier one could not give back entirely (G16's path, which random bodies reach in about one
 * run in a thousand).
 */
export function teardownArb(backend: BackendId, rmm?: RmmVersion, l?: Layout, granulesPerPage = 1): fc.Arbitrary<Op[]> {
  const twice = backend === 'cca' && rmm !== 'v2.0' && granulesPerPage > 1 && l !== undefined;
  const orders = twice ? fc.constantFrom(0, 0, 1, 2, 3) : fc.constantFrom(0, 0, 1, 2);
  // A granule before the page's last: the later unmap then still finds mapped granules to visit.
  const unit = fc.constantFrom(0, 1, Math.max(0, granulesPerPage - 2));
  return fc.tuple(orders, teardownFaultsArb(backend, rmm), unit).map(([order, faults, u]): Op[] => {
    const close: Op = { kind: 'close_guest_memfd', guest_memfd: GMEM_FD, faults };
    if (order === 0) return [];
    if (order === 3 && l !== undefined) {
      const discard: Op = {
        kind: 'punch_hole', guest_memfd: GMEM_FD, offset: 0, len: l.gmemPages * l.geometry.page_size,
        faults: [{ kind: 'fw', cmd: 'RMI_GRANULE_UNDELEGATE', condition: 'gran_gpt', nth: 1, unit: u }],
      };
      return [discard, { kind: 'close_guest_memfd', guest_memfd: GMEM_FD, faults: [] }];
    }
    return order === 1 ? [close, { kind: 'close_vm' }] : [{ kind: 'close_vm' }, close];
  });
}
