import fc from 'fast-check';
import { GUEST_MEMFD_FLAG_MMAP } from '../model/kernel/guest_memfd.js';
import type { Op, Scenario } from '../model/scenario/Scenario.js';
import { layoutArb, type Layout } from './layout.js';
import { attributesOpArb, madviseArb, onePagePopulateArb, punchHoleArb, setupOps, userFaultArb } from './ops/common.js';

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

/** A layout whose guest_memfd can be mapped, whose whole slot is private, with sources mapped whole. */
function threadLayoutArb(): fc.Arbitrary<Layout> {
  return layoutArb(true).map((l) => ({
    ...l,
    gmemFlags: BigInt(GUEST_MEMFD_FLAG_MMAP),
    privateRanges: [[0, l.slot.npages] as const],
    buffers: l.buffers.map((b) => ({ ...b, prot: 'rw' as const, holes: [] })),
  }));
}

export function threadedScenarioArb(backend: X86, inPlace: boolean): fc.Arbitrary<Scenario> {
  return threadLayoutArb().chain((l) => {
    const one = onePagePopulateArb(backend, l);
    const populate = one === undefined ? fc.constant<Op>({ kind: 'munmap', addr: SPARE_ADDR, length: l.geometry.page_size }) : one.map((p) => p.populate);
    // A third of the draws are the race the in-place series is about: a populate, a host fault on
    // the guest_memfd mapping and a change of the VMM's address space, in some order.
    const race = fc.tuple(populate, userFaultArb(l), spareArb(l)).chain((ops) => fc.shuffledSubarray(ops.map((o) => [o]), { minLength: 3, maxLength: 3 }));
    const threads = fc.oneof(
      { arbitrary: fc.array(fc.array(threadOpArb(backend, l, populate), { minLength: 1, maxLength: 2 }), { minLength: 2, maxLength: 3 }), weight: 2 },
      { arbitrary: race, weight: 1 },
    );
    return fc.record({ threads, untouchSource: fc.oneof({ arbitrary: fc.constant(true), weight: 3 }, { arbitrary: fc.constant(false), weight: 1 }) }).map(({ threads: ts, untouchSource }): Scenario => {
      const ps = l.geometry.page_size;
      const sources = ts.flat().flatMap((o) => (o.kind === 'snp_launch_update' ? [o.uaddr] : o.kind === 'tdx_init_mem_region' ? [o.source_addr] : []));
      const ops = setupOps(l, backend).map((o): Op => {
        if (o.kind !== 'mmap' || !untouchSource) return o;
        const untouched = sources.filter((s) => s >= o.addr && s < o.addr + o.length).map((s) => Math.floor((s - o.addr) / ps));
        return untouched.length === 0 ? o : { ...o, untouched: [...new Set(untouched)] };
      });
      return { backend, geometry: l.geometry, ops, ub: {}, threads: ts, ...(inPlace ? { inPlace: true as const } : {}) };
    });
  });
}
