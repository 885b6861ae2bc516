import { createSnpState } from '../../model/backends/snp/state.js';
import { createTdxState } from '../../model/backends/tdx/state.js';
import { describe, expect, test } from 'vitest';
import { snpBackend } from '../../model/backends/snp/backend.js';
import { tdxBackend } from '../../model/backends/tdx/backend.js';
import { tdxOf } from '../../model/backends/tdx/access.js';
import { FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE, GUEST_MEMFD_FLAG_INIT_SHARED, GUEST_MEMFD_FLAG_MMAP, VM_FAULT_SIGBUS } from '../../model/kernel/guest_memfd.js';
import { KVM_USER_MEM_SLOTS } from '../../model/kernel/kvm_main.js';
import { KVM } from '../../model/kernel/services/kvmcore.js';
import { runScenario } from '../../model/scenario/runScenario.js';
import type { Op } from '../../model/scenario/Scenario.js';
import { KVM_MEMORY_ATTRIBUTE_PRIVATE, KVM_MEM_GUEST_MEMFD } from '../../model/world/kvmState.js';
import { createWorld } from '../../model/world/World.js';
import { hostPage } from '../../model/world/hostMemory.js';
import { EINVAL, EOPNOTSUPP } from '../../model/kernel/errno.js';
import { rev } from '../invariants/caseTable.js';
import { BASE_GFN, GEO, GMEM, PS, eventsOf, initMemRegion, scenario, setupOps } from './fixtures.js';

const rets = (ops: readonly Op[], backend: 'snp' | 'tdx' = 'snp') => runScenario(scenario(backend, ops), rev('kvm-x86-next')).results.map((r) => r.ret);
const gmem = (size = 4 * PS, flags = GUEST_MEMFD_FLAG_MMAP): Op => ({ kind: 'create_guest_memfd', size: BigInt(size), flags: BigInt(flags) });
const region = (o: Partial<{ slot: number; flags: number; gpa: number; size: number; uaddr: number; fd: number; offset: number | bigint }> = {}): Op => ({
  kind: 'set_user_memory_region2', slot: o.slot ?? 0, flags: o.flags ?? KVM_MEM_GUEST_MEMFD, guest_phys_addr: o.gpa ?? BASE_GFN * PS,
  memory_size: o.size ?? 2 * PS, userspace_addr: o.uaddr ?? 0x7f00_0000_0000, guest_memfd: o.fd ?? GMEM, guest_memfd_offset: BigInt(o.offset ?? 0),
});
const attrs = (o: Partial<{ address: number; size: number; attributes: number; flags: number }> = {}): Op => ({
  kind: 'set_memory_attributes', address: o.address ?? BASE_GFN * PS, size: o.size ?? PS, attributes: BigInt(o.attributes ?? KVM_MEMORY_ATTRIBUTE_PRIVATE), flags: BigInt(o.flags ?? 0),
});

describe('KVM_CREATE_GUEST_MEMFD', () => {
  test('files are numbered from 1; bad flags, INIT_SHARED and bad sizes are -EINVAL', () => {
    expect(rets([gmem(), gmem(PS, 0), gmem(PS, 4), gmem(PS, GUEST_MEMFD_FLAG_INIT_SHARED), gmem(PS + 1), gmem(0)])).toEqual([1, 2, -22, -22, -22, -22]);
  });
});

describe('KVM_SET_USER_MEMORY_REGION2', () => {
  test('argument checks', () => {
    expect(rets([gmem(), region({ flags: 1 }), region({ slot: KVM_USER_MEM_SLOTS }), region({ slot: -1 }), region({ size: PS + 1 }), region({ gpa: 1 }), region({ uaddr: 1 }), region({ size: 0 })]))
      .toEqual([1, -22, -22, -22, -22, -22, -22, -22]);
  });

  // u64 offsets: 2^64 - PAGE_SIZE wraps with the size (kvm_set_memory_region() refuses it);
  // 2^63 - 2 pages does not, but its loff_t sum with the 2-page size does (B15).
  const wraps = (1n << 64n) - BigInt(PS);
  const loffWraps = (1n << 63n) - BigInt(2 * PS);
  test('binding checks: no such guest_memfd, unaligned or too large an offset', () => {
    expect(rets([gmem(), region({ fd: 2 }), region({ offset: 1 }), region({ offset: 3 * PS }), region({ offset: wraps }), region({ offset: loffWraps })])).toEqual([1, -9, -22, -22, -22, -22]);
  });

  test('the loff_t bind (v6.8 .. v7.0) accepts an offset whose signed sum with the size wraps (B15)', () => {
    const r = runScenario(scenario('snp', [gmem(), region({ offset: loffWraps })]), rev('v7.0'));
    expect(r.results.map((x) => x.ret)).toEqual([1, 0]);
    expect(r.world.kvm.memslots.get(0)?.gmem_pgoff).toBe(Number(loffWraps / BigInt(PS)));
  });

  test('an existing guest_memfd slot is immutable (-EINVAL); an overlapping range is -EEXIST; a bound file range -EEXIST (uoff_t bind) or -EINVAL (loff_t bind)', () => {
    const ops = [gmem(), region(), region(), region({ slot: 1, gpa: (BASE_GFN + 1) * PS }), region({ slot: 1, gpa: 0x100 * PS, offset: PS }), region({ slot: 2, gpa: 0x100 * PS, offset: 2 * PS })];
    expect(rets(ops)).toEqual([1, 0, -22, -17, -17, 0]);
    expect(runScenario(scenario('snp', ops), rev('v7.0')).results.map((x) => x.ret)).toEqual([1, 0, -22, -17, -22, 0]);
  });

  test('a failing xarray node allocation: every bind returns 0 and leaves the range unbound (B16)', () => {
    const base = region();
    if (base.kind !== 'set_user_memory_region2') throw new Error('region() is a memslot');
    const failing: Op = { ...base, faults: [{ kind: 'alloc', nth: 1, site: 'xa_node' }] };
    for (const id of ['v7.0', 'kvm-x86-next']) {
      const r = runScenario(scenario('snp', [gmem(), failing]), rev(id));
      expect(r.results.map((x) => x.ret)).toEqual([1, 0]);
      expect(r.world.gmem.files.get(GMEM)?.bindings.size).toBe(0);
    }
  });

  test('deleting a slot unbinds its range, which can then be bound again; a slot without gmem binds nothing', () => {
    const r = runScenario(scenario('snp', [gmem(), region(), region({ size: 0 }), region({ size: 0 }), region({ slot: 3 }), region({ slot: 4, flags: 0, gpa: 0x200 * PS })]), rev('v7.0'));
    expect(r.results.map((x) => x.ret)).toEqual([1, 0, 0, -22, 0, 0]);
    expect(r.world.gmem.files.get(GMEM)?.bindings).toEqual(new Map([[0, 3], [1, 3]]));
    expect(r.world.kvm.memslots.get(4)?.gmem_file).toBe(0);
  });

  test('deleting a TDX slot zaps its private mappings first', () => {
    const r = runScenario(scenario('tdx', [...setupOps(), initMemRegion(), region({ size: 0 })]), rev('kvm-x86-next'));
    expect(r.results[5]?.ret).toBe(0);
    expect(tdxOf(r.world).mirror.size).toBe(0);
    expect(tdxOf(r.world).module.sept.size).toBe(0);
  });
});

describe('KVM_SET_MEMORY_ATTRIBUTES', () => {
  test('argument checks', () => {
    expect(rets([attrs({ flags: 1 }), attrs({ attributes: 1 }), attrs({ size: 0 }), attrs({ address: 1 }), attrs({ size: PS + 1 }), attrs({ size: 2 * PS })]))
      .toEqual([-22, -22, -22, -22, -22, 0]);
  });

  test('stores per gfn, logs the change, and does nothing when nothing changes', () => {
    const r = runScenario(scenario('snp', [attrs({ size: 2 * PS }), attrs(), attrs({ attributes: 0 })]), rev('kvm-x86-next-2025.11.07'));
    expect(r.results.map((x) => x.ret)).toEqual([0, 0, 0]);
    expect(eventsOf(r.world, 'attr').map((e) => [e.gfn, e.before, e.after])).toEqual([[BASE_GFN, 0, 8], [BASE_GFN + 1, 0, 8], [BASE_GFN, 8, 0]]);
    expect([...r.world.kvm.attributes]).toEqual([[BASE_GFN + 1, 8]]);
  });
});

describe('guest_memfd file operations', () => {
  test('the mmap fault path: SIGBUS for private memory; -ENODEV without GUEST_MEMFD_FLAG_MMAP', () => {
    expect(rets([gmem(), gmem(PS, 0), { kind: 'gmem_user_fault', guest_memfd: 1, offset: 0 }, { kind: 'gmem_user_fault', guest_memfd: 2, offset: 0 }, { kind: 'gmem_user_fault', guest_memfd: 1, offset: 9 * PS }]))
      .toEqual([1, 2, VM_FAULT_SIGBUS, -19, VM_FAULT_SIGBUS]);
  });

  test('punch_hole needs page-aligned offset and length', () => {
    expect(rets([gmem(), { kind: 'punch_hole', guest_memfd: 1, offset: 1, len: PS, faults: [] }, { kind: 'punch_hole', guest_memfd: 1, offset: 0, len: 0, faults: [] }, { kind: 'punch_hole', guest_memfd: 1, offset: 0, len: PS, faults: [] }]))
      .toEqual([1, -22, -22, 0]);
  });

  test('fallocate(): KEEP_SIZE allocates inside the file, with PUNCH_HOLE punches, anything else is -EOPNOTSUPP', () => {
    const w = createWorld(GEO, createSnpState(), {}, false);
    const { k } = snpBackend.boot(w, rev('v7.0'));
    const file = k.kvm_gmem_create(KVM, BigInt(2 * PS), 0n);
    expect(k.kvm_gmem_fallocate(file, FALLOC_FL_PUNCH_HOLE, 0, PS)).toBe(-EOPNOTSUPP);
    expect(k.kvm_gmem_fallocate(file, FALLOC_FL_KEEP_SIZE | 0x10, 0, PS)).toBe(-EOPNOTSUPP);
    // vfs_fallocate() refuses an empty range before the mode.
    expect(k.kvm_gmem_fallocate(file, 0, 0, 0)).toBe(-EINVAL);
    expect(k.kvm_gmem_fallocate(file, FALLOC_FL_KEEP_SIZE, PS, 2 * PS)).toBe(-EINVAL);
    expect(k.kvm_gmem_fallocate(file, FALLOC_FL_KEEP_SIZE, 0, 2 * PS)).toBe(0);
    // v7.0: folios in the page cache, neither cleared nor uptodate, none held.
    const folios = [...(w.gmem.files.get(file)?.folios.values() ?? [])];
    expect(folios.map((f) => [f.index, f.uptodate, f.locked])).toEqual([[0, false, false], [1, false, false]]);
    expect(folios.map((f) => hostPage(w.host, f.pfn)?.refcount)).toEqual([1, 1]);
    expect(k.kvm_gmem_fallocate(file, FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE, 0, PS)).toBe(0);
    expect(k.kvm_gmem_get_index({ id: 0, base_gfn: 0x10, npages: 2, flags: KVM_MEM_GUEST_MEMFD, userspace_addr: 0, gmem_file: file, gmem_pgoff: 3 }, 0x11)).toBe(4);
  });

  test('unbinding a slot without a guest_memfd does nothing', () => {
    const w = createWorld(GEO, createTdxState(), {}, false);
    const { k } = tdxBackend.boot(w, rev('v7.0'));
    k.kvm_gmem_unbind({ id: 0, base_gfn: 0x10, npages: 2, flags: 0, userspace_addr: 0, gmem_file: 0, gmem_pgoff: 0 });
    expect(w.log).toEqual([]);
  });
});
