import fc from 'fast-check';
import { GUEST_MEMFD_FLAG_MMAP } from '../model/kernel/guest_memfd.js';
import { GUEST_MEMFD_FLAG_INIT_PRIVATE, GUEST_MEMFD_FLAG_SUPPORT_SHARED } from '../model/kernel/guest_memfd_inplace_rfc_v2.js';
import type { Op, Scenario } from '../model/scenario/Scenario.js';
import { layoutArb, type Layout } from './layout.js';
import { attributesOpArb, GMEM_FD, madviseArb, onePagePopulateArb, punchHoleArb, setupOps, userFaultArb } from './ops/common.js';

/**
 * Scenarios with threads (model/scenario/runThreads.ts) for the x86 backends: the set-up on one
 * thread, then two or three threads of one or two operations each, drawn from what runs
 * against a populate in a real VMM: the populate itself, a host fault on the guest_memfd's
 * mapping, the VMM's own mmap() and munmap() (mmap_lock for write), madvise(), a punch-hole,
 * KVM_SET_MEMORY_ATTRIBUTES. The populate's source page is most often one the VMM never touched,
 * so its GUP or copy_from_user() faults (model/world/switchPoint.ts `fault`). The schedule is not
 * part of the draw: the exploration (PCT or bounded exhaustive) chooses it.
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
  );
}

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
 * page back to the host on a conversion to shared are not modelled).
 */
function windowOps(l: Layout): { readonly index: number; readonly fault: Op; readonly toPrivate: Op; readonly toShared: Op } {
  const ps = l.geometry.page_size;
  const index = l.gmemPages;
  const convert = (to: 'shared' | 'private'): Op => ({ kind: 'gmem_convert', guest_memfd: GMEM_FD, offset: index * ps, size: ps, to });
  return { index, fault: { kind: 'gmem_user_fault', guest_memfd: GMEM_FD, offset: index * ps }, toPrivate: convert('private'), toShared: convert('shared') };
}

/**
 * `inPlace`: the in-place series the machine applies (model/kernel/inplace_series.ts), or
 * undefined for the merged kernels' machine.
 */
export function threadedScenarioArb(backend: X86, inPlace: string | undefined): fc.Arbitrary<Scenario> {
  return threadLayoutArb(inPlace).chain((l) => {
    const one = onePagePopulateArb(backend, l);
    const populate = one === undefined ? fc.constant<Op>({ kind: 'munmap', addr: SPARE_ADDR, length: l.geometry.page_size }) : one.map((p) => p.populate);
    const win = inPlace === undefined ? undefined : windowOps(l);
    const base = threadOpArb(backend, l, populate);
    const opArb = win === undefined ? base : fc.oneof(
      { arbitrary: base, weight: 3 },
      { arbitrary: fc.constantFrom(win.fault, win.toPrivate, win.toShared), weight: 1 },
    );
    // A third of the draws are the race B2 is about: a populate, a host fault on the guest_memfd
    // mapping and a change of the VMM's address space, in some order. Under an in-place series,
    // three in ten are B2's and three in ten B20's: a host fault on the shared window against its
    // conversion to private, and a third thread.
    const b2Race = fc.tuple(populate, userFaultArb(l), spareArb(l)).chain((ops) => fc.shuffledSubarray(ops.map((o) => [o]), { minLength: 3, maxLength: 3 }));
    const random = fc.array(fc.array(opArb, { minLength: 1, maxLength: 2 }), { minLength: 2, maxLength: 3 });
    const threads = win === undefined
      ? fc.oneof({ arbitrary: random, weight: 2 }, { arbitrary: b2Race, weight: 1 })
      : fc.oneof(
        { arbitrary: random, weight: 4 },
        { arbitrary: b2Race, weight: 3 },
        {
          // The fault and the conversion always; a third thread or not; in any order.
          arbitrary: fc.tuple(fc.option(fc.oneof(populate, spareArb(l), fc.constant(win.toShared)), { nil: undefined }), fc.boolean())
            .map(([third, faultFirst]) => [...(faultFirst ? [[win.fault], [win.toPrivate]] : [[win.toPrivate], [win.fault]]), ...(third === undefined ? [] : [[third]])]),
          weight: 3,
        },
      );
    return fc.record({ threads, untouchSource: fc.oneof({ arbitrary: fc.constant(true), weight: 3 }, { arbitrary: fc.constant(false), weight: 1 }) }).map(({ threads: ts, untouchSource }): Scenario => {
      const ps = l.geometry.page_size;
      const sources = ts.flat().flatMap((o) => (o.kind === 'snp_launch_update' ? [o.uaddr] : o.kind === 'tdx_init_mem_region' ? [o.source_addr] : []));
      const setup = setupOps(l, backend).map((o): Op => {
        if (o.kind === 'create_guest_memfd' && win !== undefined) return { ...o, size: BigInt((l.gmemPages + 1) * ps) };
        if (o.kind !== 'mmap' || !untouchSource) return o;
        const untouched = sources.filter((s) => s >= o.addr && s < o.addr + o.length).map((s) => Math.floor((s - o.addr) / ps));
        return untouched.length === 0 ? o : { ...o, untouched: [...new Set(untouched)] };
      });
      const ops = win === undefined ? setup : [...setup, win.toShared];
      return { backend, geometry: l.geometry, ops, ub: {}, threads: ts, ...(inPlace === undefined ? {} : { inPlace: inPlace === 'v8' ? true as const : inPlace }) };
    });
  });
}
