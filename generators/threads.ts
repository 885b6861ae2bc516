import fc from 'fast-check';
import { GUEST_MEMFD_FLAG_MMAP } from '../model/kernel/guest_memfd.js';
import { GUEST_MEMFD_FLAG_INIT_PRIVATE, GUEST_MEMFD_FLAG_SUPPORT_SHARED } from '../model/kernel/guest_memfd_inplace_rfc_v2.js';
import type { Op, Scenario } from '../model/scenario/Scenario.js';
import { gmemUserAddress } from '../model/world/userspaceMm.js';
import { KVM_SEV_SNP_PAGE_TYPE_NORMAL } from '../model/backends/snp/uapi.js';
import { layoutArb, type Layout } from './layout.js';
import { attributesOpArb, GMEM_FD, madviseArb, onePagePopulateArb, punchHoleArb, setupOps, userFaultArb } from './ops/common.js';

/**
 * Scenarios with threads (model/scenario/runThreads.ts) for the x86 backends: the set-up on one
 * thread, then two or three threads of one or two operations each, drawn from what runs
 * against a populate in a real VMM: the populate itself, a host fault on the guest_memfd's
 * mapping, the VMM's own mmap() and munmap() (mmap_lock for write), madvise(), a punch-hole,
 * KVM_SET_MEMORY_ATTRIBUTES, and teardown: close() of the guest_memfd or of the VM (each
 * released once the last operation holding it returns: runScenario.ts runOp()). The populate's
 * source page is most often one the VMM never touched, so its GUP or copy_from_user() faults
 * (model/world/switchPoint.ts `fault`). The schedule is not part of the draw: the exploration
 * (PCT or bounded exhaustive) chooses it.
 */
export type X86 = 'snp' | 'tdx';

/** A place no set-up maps: the VMM's other mappings, created and dropped by the threads. */
export const SPARE_ADDR = 0x100000;

function spareArb(l: Layout): fc.Arbitrary<Op> {
  const ps = l.geometry.page_size;
  return fc.constantFrom<Op>({ kind: 'mmap', addr: SPARE_ADDR, length: ps, prot: 'rw', holes: [] }, { kind: 'munmap', addr: SPARE_ADDR, length: ps });
}

function threadOpArb(backend: X86, l: Layout, populate: fc.Arbitrary<Op>): fc.Arbitrary<Op> {
  return fc.oneof(
    { arbitrary: populate, weight: 4 },
    { arbitrary: userFaultArb(l), weight: 3 },
    { arbitrary: spareArb(l), weight: 3 },
    { arbitrary: madviseArb(l), weight: 1 },
    { arbitrary: punchHoleArb(backend, l), weight: 1 },
    { arbitrary: attributesOpArb(l), weight: 1 },
    { arbitrary: closeArb, weight: 1 },
  );
}

const closeArb = fc.constantFrom<Op>({ kind: 'close_guest_memfd', guest_memfd: GMEM_FD, faults: [] }, { kind: 'close_vm' });

/**
 * A layout whose guest_memfd can be mapped, whose whole slot is private, with sources mapped
 * whole. Under an in-place series the file is created the series' way with every index private
 * (RFC v2: SUPPORT_SHARED | INIT_PRIVATE; v8: MMAP, private by default).
 */
function threadLayoutArb(series: string | undefined): fc.Arbitrary<Layout> {
  const flags = series !== undefined && series.startsWith('rfc-v2') ? GUEST_MEMFD_FLAG_SUPPORT_SHARED | GUEST_MEMFD_FLAG_INIT_PRIVATE : GUEST_MEMFD_FLAG_MMAP;
  return layoutArb(true).map((l) => ({
    ...l,
    gmemFlags: BigInt(flags),
    privateRanges: [[0, l.slot.npages] as const],
    buffers: l.buffers.map((b) => ({ ...b, prot: 'rw' as const, holes: [] })),
  }));
}

/**
 * Under an in-place series, the guest_memfd has one page past every index the memslot binds,
 * which the set-up converts to shared: the VMM's own window into the file (a bounce buffer, the
 * staging of the image). Host faults and conversions each way aim at it, so they race with each
 * other and never with a populate of the same page (the SNP and TDX hooks that hand a private
 * page back to the host on a conversion to shared are not modelled). A populate may take its
 * source from the window (`source`: GUP or copy_from_user() then faults into guest_memfd under
 * whatever the populate holds, B2 in one thread on the old populate, and pins the page against a
 * conversion to private), and a host fault may land a page past the file's end (`pastEnd`: the
 * mapping is not bounded by i_size; RFC v2 WARNs there).
 */
function windowOps(l: Layout): { readonly index: number; readonly source: number; readonly fault: Op; readonly pastEnd: Op; readonly toPrivate: Op; readonly toShared: Op } {
  const ps = l.geometry.page_size;
  const index = l.gmemPages;
  const convert = (to: 'shared' | 'private'): Op => ({ kind: 'gmem_convert', guest_memfd: GMEM_FD, offset: index * ps, size: ps, to });
  const fault = (at: number): Op => ({ kind: 'gmem_user_fault', guest_memfd: GMEM_FD, offset: at * ps });
  return { index, source: gmemUserAddress(GMEM_FD, index, ps), fault: fault(index), pastEnd: fault(index + 1), toPrivate: convert('private'), toShared: convert('shared') };
}

/** A populate with its source moved to `uaddr`. */
function sourcedAt(op: Op, uaddr: number): Op {
  switch (op.kind) {
    case 'snp_launch_update': return { ...op, uaddr };
    case 'tdx_init_mem_region': return { ...op, source_addr: uaddr };
    default: return op;
  }
}

/**
 * The in-place series' own populate against a conversion of its page (a revision whose populate
 * asks guest_memfd whether the page is private, Revision.gmemAttributes, under v8's conversions):
 * the set-up writes the VMM's image into a bound page the v8 way (convert it to shared, fault it
 * in and write it through the mapping), and then one thread converts it back to private while
 * another loads it in place (a NULL source), a host fault on it racing both or not. The populate
 * before the conversion finds the page shared and refuses it; after it, loads the image.
 */
function imageRaceArb(backend: X86, l: Layout): fc.Arbitrary<{ readonly setup: readonly Op[]; readonly threads: readonly (readonly Op[])[] }> {
  const ps = l.geometry.page_size;
  const { base_gfn, npages, pgoff } = l.slot;
  return fc.record({ page: fc.nat({ max: npages - 1 }), fault: fc.boolean(), order: fc.nat() }).map(({ page, fault, order }) => {
    const at = (pgoff + page) * ps;
    const convert = (to: 'shared' | 'private'): Op => ({ kind: 'gmem_convert', guest_memfd: GMEM_FD, offset: at, size: ps, to });
    const load: Op = backend === 'snp'
      ? { kind: 'snp_launch_update', gfn_start: BigInt(base_gfn + page), uaddr: 0, len: BigInt(ps), type: KVM_SEV_SNP_PAGE_TYPE_NORMAL, flags: 0, faults: [] }
      : { kind: 'tdx_init_mem_region', source_addr: 0, gpa: (base_gfn + page) * ps, nr_pages: 1n, flags: 1, faults: [] };
    const threads: Op[][] = [[convert('private')], [load], ...(fault ? [[{ kind: 'gmem_user_fault', guest_memfd: GMEM_FD, offset: at } satisfies Op]] : [])];
    const k = order % threads.length;
    return { setup: [convert('shared'), { kind: 'gmem_user_fault', guest_memfd: GMEM_FD, offset: at, write: true }], threads: [...threads.slice(k), ...threads.slice(0, k)] };
  });
}

/**
 * `inPlace`: the in-place series the machine applies (model/kernel/inplace_series.ts), or
 * undefined for the merged kernels' machine. `seriesPopulate`: the revision has the series' own
 * populate (Revision.gmemAttributes): under v8's conversions five draws in seventeen race it with
 * a conversion of its page (imageRaceArb()).
 */
export function threadedScenarioArb(backend: X86, inPlace: string | undefined, seriesPopulate = false): fc.Arbitrary<Scenario> {
  return threadLayoutArb(inPlace).chain((l) => {
    const one = onePagePopulateArb(backend, l);
    const populate = one === undefined ? fc.constant<Op>({ kind: 'munmap', addr: SPARE_ADDR, length: l.geometry.page_size }) : one.map((p) => p.populate);
    const win = inPlace === undefined ? undefined : windowOps(l);
    const base = threadOpArb(backend, l, populate);
    const fromWindow = win === undefined ? undefined : populate.map((p) => sourcedAt(p, win.source));
    const opArb = win === undefined || fromWindow === undefined ? base : fc.oneof(
      { arbitrary: base, weight: 3 },
      { arbitrary: fc.oneof({ arbitrary: fc.constantFrom(win.fault, win.toPrivate, win.toShared), weight: 3 }, { arbitrary: fc.constant(win.pastEnd), weight: 1 }, { arbitrary: fromWindow, weight: 1 }), weight: 1 },
    );
    // A quarter of the draws are the race B2 is about: a populate, a host fault on the guest_memfd
    // mapping and a change of the VMM's address space, in some order. Under an in-place series, a
    // quarter are B2's and a third B20's: a host fault on the shared window against its
    // conversion to private, and a third thread (fewer where the series' populate races too).
    const b2Race = fc.tuple(populate, userFaultArb(l), spareArb(l)).chain((ops) => fc.shuffledSubarray(ops.map((o) => [o]), { minLength: 3, maxLength: 3 }));
    const random = fc.array(fc.array(opArb, { minLength: 1, maxLength: 2 }), { minLength: 2, maxLength: 3 });
    // Teardown against work under way: a populate, punch-hole or host fault, and a close() of
    // the guest_memfd or the VM (or both), in some order.
    const teardown = fc.tuple(fc.oneof({ arbitrary: populate, weight: 3 }, punchHoleArb(backend, l), userFaultArb(l)), fc.subarray([closeArb, closeArb], { minLength: 1 }))
      .chain(([work, closes]) => fc.tuple(...closes).chain((cs) => fc.shuffledSubarray([[work], ...cs.map((c) => [c])], { minLength: cs.length + 1, maxLength: cs.length + 1 })));
    type Draw = { readonly setup: readonly Op[]; readonly threads: readonly (readonly Op[])[] };
    const only = (a: fc.Arbitrary<readonly (readonly Op[])[]>): fc.Arbitrary<Draw> => a.map((threads) => ({ setup: [], threads }));
    const draws: fc.Arbitrary<Draw> = win === undefined
      ? fc.oneof({ arbitrary: only(random), weight: 2 }, { arbitrary: only(b2Race), weight: 1 }, { arbitrary: only(teardown), weight: 1 })
      : fc.oneof(
        { arbitrary: only(random), weight: 4 },
        { arbitrary: only(b2Race), weight: 3 },
        { arbitrary: only(teardown), weight: 1 },
        {
          // The fault and the conversion always; a third thread or not; in any order.
          arbitrary: only(fc.tuple(fc.option(fc.oneof(populate, spareArb(l), fc.constant(win.toShared), fromWindow ?? populate), { nil: undefined }), fc.boolean())
            .map(([third, faultFirst]) => [...(faultFirst ? [[win.fault], [win.toPrivate]] : [[win.toPrivate], [win.fault]]), ...(third === undefined ? [] : [[third]])])),
          weight: 4,
        },
        ...(seriesPopulate && inPlace?.startsWith('v8') === true ? [{ arbitrary: imageRaceArb(backend, l), weight: 5 }] : []),
      );
    return fc.record({ draw: draws, untouchSource: fc.oneof({ arbitrary: fc.constant(true), weight: 3 }, { arbitrary: fc.constant(false), weight: 1 }) }).map(({ draw, untouchSource }): Scenario => {
      const ts = draw.threads;
      const ps = l.geometry.page_size;
      const sources = ts.flat().flatMap((o) => (o.kind === 'snp_launch_update' ? [o.uaddr] : o.kind === 'tdx_init_mem_region' ? [o.source_addr] : []));
      const setup = setupOps(l, backend).map((o): Op => {
        if (o.kind === 'create_guest_memfd' && win !== undefined) return { ...o, size: BigInt((l.gmemPages + 1) * ps) };
        if (o.kind !== 'mmap' || !untouchSource) return o;
        const untouched = sources.filter((s) => s >= o.addr && s < o.addr + o.length).map((s) => Math.floor((s - o.addr) / ps));
        return untouched.length === 0 ? o : { ...o, untouched: [...new Set(untouched)] };
      });
      const ops = win === undefined ? setup : [...setup, win.toShared, ...draw.setup];
      return { backend, geometry: l.geometry, ops, ub: {}, threads: ts, ...(inPlace === undefined ? {} : { inPlace: inPlace === 'v8' ? true as const : inPlace }) };
    });
  });
}
