import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { scenarioArb } from '../generators/scenario.js';
import { srcOffsetArb } from '../generators/srcOffset.js';
import { pageCountArb } from '../generators/pageCount.js';
import { hugeLayoutArb, layoutArb } from '../generators/layout.js';
import { allocatePopulateArb, fallocateArb, holeRetryArb, leakingPunchArb, poisonPopulateArb, populatePunchArb, punchBeforePopulatedArb, readOnlyArgArb, REUSE_ADDR } from '../generators/ops/common.js';
import { extendBusyArb, sharedEdgeSlotArb, sizeWrapArb } from '../generators/ops/tdx.js';
import { failedActivateArb, protectedEdgeSlotArb } from '../generators/ops/cca.js';
import { REALM_IA_BITS } from '../model/backends/cca/state.js';
import { nullSourceArb, pastFolioArb, shortFolioArb, snpLeakPathsArb, zeroPageCpuidArb } from '../generators/ops/snp.js';
import { KVM_TDX_MEASURE_MEMORY_REGION, TDX_SHARED_BIT } from '../model/backends/tdx/uapi.js';
import { KVM_SEV_SNP_PAGE_TYPE_CPUID, KVM_SEV_SNP_PAGE_TYPE_NORMAL, KVM_SEV_SNP_PAGE_TYPE_ZERO } from '../model/backends/snp/uapi.js';
import { FALLOC_FL_KEEP_SIZE } from '../model/kernel/guest_memfd.js';
import { geometryProblem } from '../model/geometry.js';
import { jsonReplacer } from '../model/kernel/u64.js';
import { asScenario, scenarioSchema } from '../model/scenario/schema.js';
import type { BackendId, Op, Scenario } from '../model/scenario/Scenario.js';

/**
 * The laws every generator keeps (fast-check's ArbitraryAssertions): the same seed gives the
 * same values, shrinking stays within the generator's domain, and the edge cases are reachable.
 */
function sample<T>(arb: fc.Arbitrary<T>, seed: number, n = 200): T[] {
  return fc.sample(arb, { seed, numRuns: n });
}

function wellFormed(s: Scenario): void {
  expect(geometryProblem(s.geometry)).toBeNull();
  // Plain JSON once u64 fields are written as the schema reads them back (numbers, or 0x strings).
  expect(asScenario(scenarioSchema.parse(JSON.parse(JSON.stringify(s, jsonReplacer))))).toEqual(s);
  for (const op of s.ops) expect(typeof op.kind).toBe('string');
}

describe('the machines a CCA revision runs on', () => {
  const granules = (s: Scenario) => s.cca?.granules_per_page;
  test('RMM 1.0 revisions by default: one granule per page only (kvm_init_rme() takes 4K hosts only)', () => {
    expect(new Set(sample(scenarioArb('cca', 'v1.0'), 3, 300).map(granules))).toEqual(new Set([1]));
    expect(new Set(sample(scenarioArb('cca', 'v2.0', '4k-guard-lifted'), 3, 300).map(granules))).toEqual(new Set([1]));
  });
  test('the 4K-guard-lifted cell: 4K, 16K and 64K hosts, drawn from the same stream (the same layouts as the default cell)', () => {
    const lifted = sample(scenarioArb('cca', 'v1.0', '4k-guard-lifted'), 3, 300);
    expect(new Set(lifted.map(granules))).toEqual(new Set([1, 4, 16]));
    const plain = sample(scenarioArb('cca', 'v1.0'), 3, 300);
    expect(plain.map((s) => s.geometry)).toEqual(lifted.map((s) => s.geometry));
  });
});

describe.each<BackendId>(['snp', 'tdx'])('scenarioArb(%s)', (backend) => {
  test('the same seed gives the same scenarios', () => {
    expect(sample(scenarioArb(backend), 7, 50)).toEqual(sample(scenarioArb(backend), 7, 50));
  });

  test('scenarios are plain JSON with a valid geometry, and use only this backend\'s ioctls', () => {
    for (const s of sample(scenarioArb(backend), 11)) {
      wellFormed(s);
      const other = backend === 'snp' ? 'tdx_' : 'snp_';
      expect(s.ops.some((op) => op.kind.startsWith(other))).toBe(false);
    }
  });

  test('shrinking yields well-formed scenarios', () => {
    const problems: string[] = [];
    const details = fc.check(
      fc.property(scenarioArb(backend), (s) => {
        try {
          wellFormed(s);
        } catch (e) {
          problems.push(String(e));
        }
        return !s.ops.some((op) => op.kind === 'punch_hole');
      }),
      { seed: 3, numRuns: 200 },
    );
    expect(details.failed).toBe(true);
    expect(details.numShrinks).toBeGreaterThan(0);
    expect(problems).toEqual([]);
    const ce = details.counterexample?.[0];
    expect(ce?.ops.filter((op) => op.kind === 'punch_hole').length).toBe(1);
  }, 30_000);

  test('populate operations are most operations, with valid and invalid arguments both present', () => {
    const ops = sample(scenarioArb(backend), 5, 300).flatMap((s) => s.ops);
    const kind = backend === 'snp' ? 'snp_launch_update' : 'tdx_init_mem_region';
    const populate = ops.filter((op) => op.kind === kind);
    // Of the operations after set-up (which also binds, maps and sets attributes), most populate.
    const setupKinds = ['create_guest_memfd', 'set_user_memory_region2', 'mmap', 'set_memory_attributes', 'arm_realm_create'];
    expect(populate.length).toBeGreaterThan(ops.filter((op) => !setupKinds.includes(op.kind)).length / 3);
    const flags = populate.map((op) => ('flags' in op ? op.flags : 0));
    expect(flags.filter((f) => f === 0 || f === 1).length).toBeGreaterThan(populate.length * 0.9);
    expect(flags.some((f) => (backend === 'snp' ? f !== 0 : f === 2))).toBe(true);
  });
});

describe('edge cases are reachable', () => {
  test('source offsets hit 0, 1 and PAGE_SIZE - 1', () => {
    const offs = new Set(sample(srcOffsetArb(64), 1, 500));
    expect(offs.has(0) && offs.has(1) && offs.has(63)).toBe(true);
    expect([...offs].every((o) => o >= 0 && o < 64)).toBe(true);
  });

  test('page counts hit 1, the slot end and GMEM_GUP_NPAGES ± 1', () => {
    const counts = new Set(sample(pageCountArb(6, 4), 2, 500));
    for (const n of [1, 6, 3, 4, 5]) expect(counts.has(n)).toBe(true);
    expect([...counts].every((n) => n >= 1)).toBe(true);
  });

  test('layouts cover one-page slots, slots of GMEM_GUP_NPAGES + 1, read-only and holed buffers', () => {
    const layouts = sample(layoutArb(), 4, 500);
    expect(layouts.some((l) => l.slot.npages === 1)).toBe(true);
    expect(layouts.some((l) => l.slot.npages === 2 ** l.geometry.pmd_order + 1)).toBe(true);
    expect(layouts.some((l) => l.buffers.some((b) => b.prot === 'ro'))).toBe(true);
    expect(layouts.some((l) => l.buffers.some((b) => b.holes.length > 0))).toBe(true);
    expect(layouts.some((l) => l.privateRanges.length === 1 && l.privateRanges[0]?.[1] !== l.slot.npages)).toBe(true);
  });

  test('targeted pairs: a page populated and punched at its own file offset, with the give-back failing', () => {
    for (const backend of ['snp', 'tdx'] as const) {
      const l = sample(layoutArb(), 5, 50).find((x) => x.privateRanges.length > 0 && x.buffers.some((b) => b.holes.length < b.npages));
      if (l === undefined) throw new Error('no layout with a private page and a mapped source');
      const pairs = sample(populatePunchArb(backend, l), 6, 100);
      for (const [populate, punch] of pairs) {
        const gfn = populate?.kind === 'snp_launch_update' ? Number(populate.gfn_start) : populate?.kind === 'tdx_init_mem_region' ? populate.gpa / l.geometry.page_size : -1;
        expect(punch).toMatchObject({ kind: 'punch_hole', offset: (gfn - l.slot.base_gfn + l.slot.pgoff) * l.geometry.page_size, len: l.geometry.page_size });
        expect(l.privateRanges.some(([a, b]) => gfn - l.slot.base_gfn >= a && gfn - l.slot.base_gfn < b)).toBe(true);
      }
      expect(pairs.some(([, punch]) => punch?.kind === 'punch_hole' && punch.faults.length > 0)).toBe(true);
      if (backend === 'snp') expect(pairs.some(([populate]) => populate?.kind === 'snp_launch_update' && populate.faults.some((f) => f.kind === 'fw' && f.cmd === 'SNP_PAGE_RECLAIM'))).toBe(true);
    }
  });

  test('leaking punches: on SNP the freed page then mapped where nothing was and unmapped again (G4 @mmap, @munmap), or the populate retried first', () => {
    const l = sample(layoutArb(), 5, 50).find((x) => x.privateRanges.length > 0 && x.buffers.some((b) => b.holes.length < b.npages));
    if (l === undefined) throw new Error('no layout with a private page and a mapped source');
    const ps = l.geometry.page_size;
    const snp = sample(leakingPunchArb('snp', l), 7, 80);
    const punchAt = (ops: readonly Op[]) => ops.findIndex((o) => o.kind === 'punch_hole');
    const tails = snp.map((ops) => ops.slice(punchAt(ops) + 1));
    expect(tails.filter((t) => t.length === 0).length).toBeGreaterThan(10);
    expect(tails.filter((t) => t.length > 0).length).toBeGreaterThan(25);
    for (const t of tails.filter((x) => x.length > 0)) expect(t).toEqual([{ kind: 'mmap', addr: REUSE_ADDR, length: ps, prot: 'rw', holes: [] }, { kind: 'munmap', addr: REUSE_ADDR, length: ps }]);
    // ... or the populate again, without its faults, before the punch.
    const again = snp.filter((ops) => punchAt(ops) === 2);
    expect(again.length).toBeGreaterThan(10);
    for (const ops of again) expect(ops[1]).toEqual({ ...ops[0], faults: [] });
    // No layout's buffer reaches the address the page is mapped at.
    for (const x of sample(layoutArb(), 8, 200)) for (const b of x.buffers) expect(b.addr + (b.npages + 1) * x.geometry.page_size).toBeLessThanOrEqual(REUSE_ADDR);
    expect(sample(leakingPunchArb('tdx', l), 7, 30).every((ops) => ops.length === 2)).toBe(true);
  });

  test('hugepages: slots mostly folio-aligned; SNP a CPUID page failing past the request, TDX three pages with the third shared', () => {
    for (const backend of ['snp', 'tdx'] as const) {
      const runs = sample(scenarioArb(backend, 'v1.0', 'hugepages'), 15, 300);
      let aligned = 0;
      let targeted = 0;
      for (const s of runs) {
        const nr = 2 ** (s.hugepages?.order ?? 0);
        const ps = s.geometry.page_size;
        const slot = s.ops.find((o) => o.kind === 'set_user_memory_region2');
        if (slot?.kind !== 'set_user_memory_region2') continue;
        // The old order loop hands post_populate a whole folio only where gfn and index agree.
        if ((slot.guest_phys_addr / ps - Number(slot.guest_memfd_offset) / ps) % nr === 0) aligned++;
        if (s.ops.some((o) => backend === 'snp'
          ? o.kind === 'snp_launch_update' && o.type === KVM_SEV_SNP_PAGE_TYPE_CPUID && o.len === BigInt(ps) && o.faults.some((f) => f.kind === 'fw' && f.condition === 'cpuid_table' && f.nth >= 2)
          : o.kind === 'tdx_init_mem_region' && o.nr_pages === 3n && o.gpa % (nr * ps) === 0)) targeted++;
      }
      expect(aligned).toBeGreaterThan(runs.length * 0.6);
      expect(targeted).toBeGreaterThan(10);
    }
  });

  test('SNP hole retries: half of them load the next gfn first and fail two pages on an unmapped source (G21 notMeasured)', () => {
    const l = sample(layoutArb(), 5, 80).find((x) => x.buffers.some((b) => b.holes.some((h) => h < b.npages)) && x.privateRanges.some(([a, b]) => b - a >= 2));
    if (l === undefined) throw new Error('no layout with a hole and two private pages');
    const ps = l.geometry.page_size;
    const runs = sample(holeRetryArb('snp', l), 9, 60);
    const next = runs.filter((ops) => ops[0]?.kind === 'munmap');
    expect(next.length).toBeGreaterThan(15);
    expect(runs.length - next.length).toBeGreaterThan(15);
    for (const [unmap, loaded, failed, map, again] of next) {
      if (unmap?.kind !== 'munmap' || loaded?.kind !== 'snp_launch_update' || failed?.kind !== 'snp_launch_update') throw new Error('not the loaded-next form');
      expect(loaded).toMatchObject({ gfn_start: failed.gfn_start + 1n, len: BigInt(ps) });
      expect(loaded.uaddr).not.toBe(unmap.addr);
      expect(failed).toMatchObject({ uaddr: unmap.addr, len: BigInt(2 * ps) });
      expect(map).toMatchObject({ kind: 'mmap', addr: unmap.addr, length: ps });
      expect(again).toEqual(failed);
    }
    expect(sample(holeRetryArb('tdx', l), 9, 30).every((ops) => ops[0]?.kind === 'tdx_init_mem_region')).toBe(true);
  });

  test('TDX: a populate of a private page whose nr_pages wraps the C\'s size (2^(64 - PAGE_SHIFT) and one less)', () => {
    const l = sample(layoutArb(), 5, 50).find((x) => x.privateRanges.some(([a, b]) => b > a) && x.buffers.some((b) => b.holes.length < b.npages));
    if (l === undefined) throw new Error('no layout with a private page and a mapped source');
    const arb = sizeWrapArb(l);
    if (arb === undefined) throw new Error('no populate drawn');
    const wrap = 1n << BigInt(64 - Math.log2(l.geometry.page_size));
    const counts = new Set<bigint>();
    for (const op of sample(arb, 17, 30)) {
      if (op.kind !== 'tdx_init_mem_region') throw new Error(`drew ${op.kind}`);
      counts.add(op.nr_pages);
      const gfn = op.gpa / l.geometry.page_size - l.slot.base_gfn;
      expect(l.privateRanges.some(([a, b]) => gfn >= a && gfn < b)).toBe(true);
      expect(op.faults).toEqual([]);
    }
    expect(counts).toEqual(new Set([wrap, wrap - 1n]));
  });

  test('TDX: a measured one-page populate of a private page whose TDH.MR.EXTEND is contended', () => {
    const l = sample(layoutArb(), 5, 50).find((x) => x.privateRanges.some(([a, b]) => b > a) && x.buffers.some((b) => b.holes.length < b.npages));
    if (l === undefined) throw new Error('no layout with a private page and a mapped source');
    const arb = extendBusyArb(l);
    if (arb === undefined) throw new Error('no populate drawn');
    for (const op of sample(arb, 16, 30)) {
      expect(op).toMatchObject({ kind: 'tdx_init_mem_region', nr_pages: 1n, flags: KVM_TDX_MEASURE_MEMORY_REGION, faults: [{ kind: 'fw', cmd: 'TDH.MR.EXTEND', condition: 'tdr_busy', nth: 1 }] });
      const gfn = op.kind === 'tdx_init_mem_region' ? op.gpa / l.geometry.page_size - l.slot.base_gfn : -1;
      expect(l.privateRanges.some(([a, b]) => gfn >= a && gfn < b)).toBe(true);
    }
  });

  test('a populate with its struct in a read-only mapping: one of the run\'s own, or a one-page populate on x86', () => {
    for (const backend of ['snp', 'tdx', 'cca'] as const) {
      const readOnly = sample(scenarioArb(backend), 11, 300).flatMap((s) => s.ops.filter((op) => 'arg_readonly' in op && op.arg_readonly === true));
      expect(readOnly.length, backend).toBeGreaterThan(10);
      // KVM_PRE_FAULT_MEMORY's struct too (PF.4), on x86.
      for (const op of readOnly) expect(['snp_launch_update', 'tdx_init_mem_region', 'arm_rmi_populate', 'pre_fault_memory']).toContain(op.kind);
    }
    const l = sample(layoutArb(), 5, 50).find((x) => x.privateRanges.length > 0 && x.buffers.some((b) => b.holes.length < b.npages));
    if (l === undefined) throw new Error('no layout with a private page and a mapped source');
    const inserted = sample(readOnlyArgArb('tdx', l), 12, 100).flatMap((x) => (x.kind === 'insert' ? [x.op] : []));
    expect(inserted.length).toBeGreaterThan(0);
    for (const op of inserted) expect(op).toMatchObject({ kind: 'tdx_init_mem_region', nr_pages: 1n, arg_readonly: true });
    expect(sample(readOnlyArgArb('cca', l), 12, 50).every((x) => x.kind === 'mark')).toBe(true);
  });

  test('TDX: a one-page memslot just below the shared bit on the file\'s spare page, and a range from it', () => {
    const l = sample(layoutArb(), 5, 50)[0];
    if (l === undefined) throw new Error('no layout');
    const ps = l.geometry.page_size;
    const runs = sample(sharedEdgeSlotArb(l), 13, 50);
    for (const [slot, attrs, populate] of runs) {
      expect(slot).toMatchObject({ kind: 'set_user_memory_region2', guest_phys_addr: TDX_SHARED_BIT - ps, memory_size: ps, guest_memfd_offset: BigInt((l.slot.pgoff + l.slot.npages) * ps) });
      expect(attrs).toMatchObject({ kind: 'set_memory_attributes', address: TDX_SHARED_BIT - ps, size: ps });
      expect(populate).toMatchObject({ kind: 'tdx_init_mem_region', gpa: TDX_SHARED_BIT - ps });
    }
    // One page ends exactly at the shared bit (valid); two or three cross it.
    const counts = new Set(runs.map(([, , p]) => (p?.kind === 'tdx_init_mem_region' ? Number(p.nr_pages) : 0)));
    expect([...counts].sort()).toEqual([1, 2, 3]);
  });

  test('CCA: a one-page memslot on the last protected page on the file\'s spare page, and a range from it', () => {
    const l = sample(layoutArb(), 5, 50)[0];
    if (l === undefined) throw new Error('no layout');
    const ps = l.geometry.page_size;
    const base = 2 ** (REALM_IA_BITS - 1) - ps;
    const runs = sample(protectedEdgeSlotArb(l), 13, 50);
    for (const [slot, attrs, populate] of runs) {
      expect(slot).toMatchObject({ kind: 'set_user_memory_region2', guest_phys_addr: base, memory_size: ps, guest_memfd_offset: BigInt((l.slot.pgoff + l.slot.npages) * ps) });
      expect(attrs).toMatchObject({ kind: 'set_memory_attributes', address: base, size: ps });
      // The source is the slot's own userspace address: the alias rme-v9 wants.
      expect(populate).toMatchObject({ kind: 'arm_rmi_populate', base, source_uaddr: slot?.kind === 'set_user_memory_region2' ? slot.userspace_addr : -1 });
    }
    // One page ends exactly at the boundary (valid); two or three cross it.
    const sizes = new Set(runs.map(([, , p]) => (p?.kind === 'arm_rmi_populate' ? Number(p.size) / ps : 0)));
    expect([...sizes].sort()).toEqual([1, 2, 3]);
  });

  test('TDX and CCA: two private pages populated in one call, the first punched out with no fault; nothing on SNP', () => {
    const l = sample(layoutArb(), 5, 200).find((x) => x.privateRanges.some(([a, b]) => b - a >= 2) && x.buffers.length > 0);
    if (l === undefined) throw new Error('no layout with two private pages');
    const ps = l.geometry.page_size;
    for (const backend of ['tdx', 'cca'] as const) {
      for (const [populate, punch] of sample(punchBeforePopulatedArb(backend, l), 21, 20)) {
        const gfn = populate?.kind === 'tdx_init_mem_region' ? populate.gpa / ps : populate?.kind === 'arm_rmi_populate' ? populate.base / ps : -1;
        expect(populate).toMatchObject(backend === 'tdx' ? { kind: 'tdx_init_mem_region', nr_pages: 2n, faults: [] } : { kind: 'arm_rmi_populate', size: BigInt(2 * ps), faults: [] });
        expect(punch).toEqual({ kind: 'punch_hole', guest_memfd: 1, offset: (gfn - l.slot.base_gfn + l.slot.pgoff) * ps, len: ps, faults: [] });
      }
    }
    expect(sample(punchBeforePopulatedArb('snp', l), 21, 5).every((ops) => ops.length === 0)).toBe(true);
  });

  test('SNP: the memslot\'s last page pre-allocated and populated past the slot, a failing VMSA update retried, a leaked page populated again and freed', () => {
    const l = sample(layoutArb(), 5, 200).find((x) => x.privateRanges.length > 0 && x.buffers.length > 0);
    if (l === undefined) throw new Error('no layout with a private page and a buffer');
    const ps = l.geometry.page_size;
    const last = l.slot.base_gfn + l.slot.npages - 1;
    const runs = sample(snpLeakPathsArb(l), 22, 80);
    const shapes = new Set(runs.map((ops) => ops.map((op) => op.kind).join(',')));
    expect([...shapes].sort()).toEqual([
      'set_memory_attributes,fallocate,snp_launch_update',
      'snp_launch_finish,snp_launch_finish',
      'snp_launch_update,snp_launch_update,close_guest_memfd',
      'snp_launch_update,snp_launch_update,punch_hole',
    ]);
    for (const ops of runs) {
      const [a, b, c] = ops;
      if (a?.kind === 'set_memory_attributes') {
        expect(b).toMatchObject({ kind: 'fallocate', mode: FALLOC_FL_KEEP_SIZE, offset: (last - l.slot.base_gfn + l.slot.pgoff) * ps, len: ps });
        expect(c).toMatchObject({ kind: 'snp_launch_update', gfn_start: BigInt(last), len: BigInt(2 * ps), type: KVM_SEV_SNP_PAGE_TYPE_ZERO });
      } else if (a?.kind === 'snp_launch_update' && b?.kind === 'snp_launch_update') {
        // The first call leaks its page (a clean-up failure after the firmware's), the second is the same call without faults.
        expect(a.faults.map((f) => f.kind === 'fw' && f.cmd)).toEqual(['SNP_LAUNCH_UPDATE', expect.stringMatching(/^(SNP_PAGE_RECLAIM|RMPUPDATE)$/)]);
        expect({ ...a, faults: [] }).toEqual(b);
      } else {
        expect(b).toMatchObject({ kind: 'snp_launch_finish', faults: [{ cmd: 'SNP_LAUNCH_UPDATE' }, { cmd: 'SNP_PAGE_RECLAIM' }] });
      }
    }
  });

  test('SNP hugepages: a folio\'s last gfn and the next made private, populated together, or one page of it from a fresh mapping right after fallocate()', () => {
    const found = sample(hugeLayoutArb(), 9, 100).find(({ layout: x }) => x.slot.npages >= 2 ** 3);
    if (found === undefined) throw new Error('no huge layout with a folio boundary in its slot');
    const { layout: l, order } = found;
    const ps = l.geometry.page_size;
    const arb = pastFolioArb(l, order);
    if (arb === undefined) throw new Error('no folio boundary');
    const forms = sample(arb, 23, 20);
    for (const [attrs, ...rest] of forms) {
      if (attrs?.kind !== 'set_memory_attributes') throw new Error('attributes first');
      const gfn = attrs.address / ps;
      // The gfn's file index is a folio's last page.
      expect((gfn - l.slot.base_gfn + l.slot.pgoff + 1) % 2 ** order).toBe(0);
      expect(attrs.size).toBe(2 * ps);
      const populate = rest[rest.length - 1];
      expect(populate).toMatchObject(rest.length === 1
        ? { kind: 'snp_launch_update', gfn_start: BigInt(gfn), len: BigInt(2 * ps), type: KVM_SEV_SNP_PAGE_TYPE_ZERO }
        : { kind: 'snp_launch_update', gfn_start: BigInt(gfn), uaddr: REUSE_ADDR, len: BigInt(ps), type: KVM_SEV_SNP_PAGE_TYPE_NORMAL });
    }
    expect(new Set(forms.map((f) => f.length))).toEqual(new Set([2, 4]));
    expect(pastFolioArb(l, 0)).toBeUndefined();
    // In a scenario, the fallocate() form comes before the set-up maps its buffers (so the page past the folio is the next free one).
    const scenarios = sample(scenarioArb('snp', 'v1.0', 'hugepages'), 24, 300).filter((x) => x.ops.some((op) => op.kind === 'snp_launch_update' && op.uaddr === REUSE_ADDR && op.len === BigInt(x.geometry.page_size)));
    expect(scenarios.length).toBeGreaterThan(3);
    for (const x of scenarios) {
      const at = x.ops.findIndex((op) => op.kind === 'mmap' && op.addr === REUSE_ADDR);
      expect(x.ops.slice(0, at).some((op) => op.kind === 'mmap')).toBe(false);
    }
  });

  test('SNP: a private page populated from a NULL source with a type that needs a source', () => {
    const l = sample(layoutArb(), 5, 50).find((x) => x.privateRanges.some(([a, b]) => b > a));
    if (l === undefined) throw new Error('no layout with a private page');
    const arb = nullSourceArb(l);
    if (arb === undefined) throw new Error('no populate drawn');
    const types = new Set<number>();
    for (const op of sample(arb, 31, 40)) {
      if (op.kind !== 'snp_launch_update') throw new Error(`drew ${op.kind}`);
      types.add(op.type);
      expect(op).toMatchObject({ uaddr: 0, len: BigInt(l.geometry.page_size), flags: 0, faults: [] });
      const gfn = Number(op.gfn_start) - l.slot.base_gfn;
      expect(l.privateRanges.some(([a, b]) => gfn >= a && gfn < b)).toBe(true);
    }
    expect(types.has(KVM_SEV_SNP_PAGE_TYPE_ZERO)).toBe(false);
    expect(types.has(KVM_SEV_SNP_PAGE_TYPE_NORMAL)).toBe(true);
    expect(nullSourceArb({ ...l, privateRanges: [] })).toBeUndefined();
  });

  test('SNP hugepages: part of an allocated huge folio populated, the firmware failing on a page past the part', () => {
    const found = sample(hugeLayoutArb(), 9, 100).find(({ layout: x, order }) => x.slot.npages >= 2 ** (order + 1));
    if (found === undefined) throw new Error('no huge layout with two folios in its slot');
    const { layout: l, order } = found;
    const ps = l.geometry.page_size;
    const nr = 2 ** order;
    // The slot's first gfn whose file index starts a folio.
    const first = l.slot.base_gfn - l.slot.pgoff + Math.ceil(l.slot.pgoff / nr) * nr;
    const arb = shortFolioArb(l, order, first);
    if (arb === undefined) throw new Error('no folio in the slot');
    for (const [attrs, allocate, populate] of sample(arb, 29, 30)) {
      expect(attrs).toMatchObject({ kind: 'set_memory_attributes', address: first * ps, size: nr * ps });
      expect(allocate).toMatchObject({ kind: 'fallocate', mode: FALLOC_FL_KEEP_SIZE, offset: (first - l.slot.base_gfn + l.slot.pgoff) * ps, len: nr * ps });
      if (populate?.kind !== 'snp_launch_update') throw new Error('no populate');
      const k = Number(populate.len) / ps;
      expect(populate).toMatchObject({ gfn_start: BigInt(first), uaddr: 0, type: KVM_SEV_SNP_PAGE_TYPE_ZERO });
      expect(k).toBeGreaterThanOrEqual(1);
      expect(k).toBeLessThan(nr);
      // Past the part asked for, within the folio: only a loop that runs on to the folio's end meets it.
      const nth = populate.faults[0]?.kind === 'fw' ? populate.faults[0].nth : 0;
      expect(populate.faults).toEqual([{ kind: 'fw', cmd: 'SNP_LAUNCH_UPDATE', condition: 'fw_resource', nth }]);
      expect(nth).toBeGreaterThan(k);
      expect(nth).toBeLessThanOrEqual(nr);
    }
    expect(shortFolioArb(l, 0, first)).toBeUndefined();
  });

  test('CCA: an activation that fails creating the realm, or (rme-v12) the REC after it', () => {
    const plans = sample(failedActivateArb('v1.0'), 3, 60).map((op) => (op.kind === 'arm_realm_activate' ? op.faults : []));
    expect(plans).toContainEqual([{ kind: 'alloc', nth: 1, site: 'kmalloc' }]);
    expect(plans).toContainEqual([{ kind: 'fw', cmd: 'RMI_GRANULE_DELEGATE', condition: 'gran_gpt', nth: 1 }]);
    expect(plans).toContainEqual([{ kind: 'alloc', nth: 2, site: 'kmalloc' }]);
  });

  test('SNP: a CPUID page from a freshly mapped, never-written source, the firmware correcting its table', () => {
    const l = sample(layoutArb(), 5, 50)[0];
    if (l === undefined) throw new Error('no layout');
    for (const [unmap, map, populate] of sample(zeroPageCpuidArb(l), 14, 20)) {
      expect(unmap?.kind).toBe('munmap');
      expect(map).toMatchObject({ kind: 'mmap', untouched: [0], prot: 'rw' });
      expect(populate).toMatchObject({ kind: 'snp_launch_update', type: KVM_SEV_SNP_PAGE_TYPE_CPUID, faults: [{ kind: 'fw', cmd: 'SNP_LAUNCH_UPDATE', condition: 'cpuid_table', nth: 1 }] });
    }
  });

  test('targeted pairs: a whole-file pre-allocation, then the populate of one of its private pages; or only the first of two (G28)', () => {
    for (const backend of ['snp', 'tdx'] as const) {
      const l = sample(layoutArb(), 5, 50).find((x) => x.privateRanges.length > 0 && x.buffers.some((b) => b.holes.length < b.npages));
      if (l === undefined) throw new Error('no layout with a private page and a mapped source');
      const ps = l.geometry.page_size;
      const pairs = sample(allocatePopulateArb(backend, l), 7, 60);
      for (const ops of pairs) {
        const populate = ops.at(-1);
        const gfn = populate?.kind === 'snp_launch_update' ? Number(populate.gfn_start) : populate?.kind === 'tdx_init_mem_region' ? populate.gpa / ps : -1;
        const pages = populate?.kind === 'snp_launch_update' ? Number(populate.len) / ps : populate?.kind === 'tdx_init_mem_region' ? Number(populate.nr_pages) : 0;
        expect(l.privateRanges.some(([a, b]) => gfn - l.slot.base_gfn >= a && gfn - l.slot.base_gfn < b)).toBe(true);
        // The whole file before a one-page populate, or (G28's S1.20) only the first page of two,
        // the second made shared.
        if (pages === 1) expect(ops.slice(0, -1)).toEqual([{ kind: 'fallocate', guest_memfd: 1, mode: FALLOC_FL_KEEP_SIZE, offset: 0, len: l.gmemPages * ps, faults: [] }]);
        else {
          expect(ops.slice(0, -1)).toEqual([
            { kind: 'fallocate', guest_memfd: 1, mode: FALLOC_FL_KEEP_SIZE, offset: (gfn - l.slot.base_gfn + l.slot.pgoff) * ps, len: ps, faults: [] },
            { kind: 'set_memory_attributes', address: (gfn + 1) * ps, size: ps, attributes: 0n, flags: 0n },
          ]);
          expect(gfn + 1).toBeLessThan(l.slot.base_gfn + l.slot.npages);
        }
      }
      expect(new Set(pairs.map((ops) => ops.at(-1)).map((p) => (p?.kind === 'snp_launch_update' ? Number(p.len) / ps : p?.kind === 'tdx_init_mem_region' ? Number(p.nr_pages) : 0)))).toEqual(new Set([1, 2]));
    }
  });

  test('targeted triples: a populate, a memory error in its page, and the populate again (CCA: the page from fallocate())', () => {
    const l = sample(layoutArb(), 5, 50).find((x) => x.privateRanges.length > 0 && x.buffers.some((b) => b.holes.length < b.npages));
    if (l === undefined) throw new Error('no layout with a private page and a mapped source');
    const ps = l.geometry.page_size;
    for (const backend of ['snp', 'tdx'] as const) {
      for (const [populate, mf, again] of sample(poisonPopulateArb(backend, l), 8, 50)) {
        const gfn = populate?.kind === 'snp_launch_update' ? Number(populate.gfn_start) : populate?.kind === 'tdx_init_mem_region' ? populate.gpa / ps : -1;
        expect(mf).toEqual({ kind: 'memory_failure', guest_memfd: 1, offset: (gfn - l.slot.base_gfn + l.slot.pgoff) * ps });
        expect(again).toEqual(populate);
      }
    }
    for (const [allocate, mf] of sample(poisonPopulateArb('cca', l), 8, 20)) {
      expect(allocate).toMatchObject({ kind: 'fallocate', mode: FALLOC_FL_KEEP_SIZE, offset: 0, len: l.gmemPages * ps });
      expect(mf?.kind).toBe('memory_failure');
    }
    // One run in six has a memory error, on every backend.
    for (const backend of ['snp', 'tdx', 'cca'] as const) {
      const n = sample(scenarioArb(backend), 12, 600).filter((sc) => sc.ops.some((op) => op.kind === 'memory_failure')).length;
      expect(n).toBeGreaterThan(600 / 6 / 2);
      expect(n).toBeLessThan(600 / 6 * 2);
    }
  });

  test('fallocate() ops: allocate mode over the whole file, inside it and past its end, and modes a fuzzer sends', () => {
    const ops = sample(layoutArb(), 8, 40).flatMap((l, i) => sample(fallocateArb(l), 9 + i, 20).map((op) => ({ l, op })));
    const size = ({ l }: { l: { gmemPages: number; geometry: { page_size: number } } }) => l.gmemPages * l.geometry.page_size;
    const allocate = ops.filter((x) => x.op.kind === 'fallocate' && x.op.mode === FALLOC_FL_KEEP_SIZE);
    expect(allocate.some((x) => x.op.kind === 'fallocate' && x.op.offset === 0 && x.op.len === size(x))).toBe(true);
    expect(allocate.some((x) => x.op.kind === 'fallocate' && x.op.offset + x.op.len < size(x))).toBe(true);
    expect(allocate.some((x) => x.op.kind === 'fallocate' && x.op.offset + x.op.len > size(x))).toBe(true);
    expect(new Set(ops.map((x) => (x.op.kind === 'fallocate' ? x.op.mode : -1)))).toEqual(new Set([FALLOC_FL_KEEP_SIZE, 0, FALLOC_FL_KEEP_SIZE | 0x10, FALLOC_FL_KEEP_SIZE | 0x400]));
  });

  test('fault plans reach every fault kind and firmware failure pairs', () => {
    const faults = sample(scenarioArb('snp'), 9, 400).flatMap((s) => s.ops.flatMap((op) => ('faults' in op ? (op.faults ?? []) : [])));
    for (const kind of ['gup', 'alloc', 'signal', 'fw']) expect(faults.some((f) => f.kind === kind)).toBe(true);
    expect(faults.some((f) => f.kind === 'fw' && f.cmd === 'SNP_PAGE_RECLAIM')).toBe(true);
  });
});
