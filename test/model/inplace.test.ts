import { describe, expect, test } from 'vitest';
import { EACCES, EAGAIN, EBADF, EBUSY, EHWPOISON, EINVAL, ENODEV, ENOMEM, ENOTTY } from '../../model/kernel/errno.js';
import { GUEST_MEMFD_FLAG_INIT_SHARED, GUEST_MEMFD_FLAG_MMAP, VM_FAULT_SIGBUS } from '../../model/kernel/guest_memfd.js';
import { vmf_error, VM_FAULT_OOM } from '../../model/kernel/guest_memfd_inplace.js';
import { GUEST_MEMFD_FLAG_INIT_PRIVATE, GUEST_MEMFD_FLAG_SUPPORT_SHARED } from '../../model/kernel/guest_memfd_inplace_rfc_v2.js';
import { IN_PLACE_SERIES, inPlaceSeriesById, inPlaceWhatIf } from '../../model/kernel/inplace_series.js';
import { runScenario } from '../../model/scenario/runScenario.js';
import { inPlaceSeriesOf, type Op, type Scenario } from '../../model/scenario/Scenario.js';
import { parseThreadedScenario, scenarioSchema } from '../../model/scenario/schema.js';
import { rev } from '../invariants/caseTable.js';
import { GMEM, PS, SLOT_PAGES, scenario, setupOps } from './fixtures.js';

/**
 * The in-place conversion series one operation at a time (the races are test/concurrent/
 * toctou.test.ts): each series' flags and initial shareability, the conversion ioctl's checks and
 * errnos, the host fault's outcomes, and what the VMM's mapping holds.
 */
const WINDOW = SLOT_PAGES;
const fault = (index = WINDOW): Op => ({ kind: 'gmem_user_fault', guest_memfd: GMEM, offset: index * PS });
const convert = (to: 'shared' | 'private', o: { offset?: number; size?: number; file?: number } = {}): Op =>
  ({ kind: 'gmem_convert', guest_memfd: o.file ?? GMEM, offset: o.offset ?? WINDOW * PS, size: o.size ?? PS, to });

function run(series: string | undefined, flags: number, ops: readonly Op[]) {
  const s: Scenario = { ...scenario('snp', [...setupOps({ gmemFlags: flags }), ...ops]), ...(series === undefined ? {} : { inPlace: series === 'v8' ? true : series }) };
  const r = runScenario(s, rev('v7.0'));
  return { results: r.results.slice(-ops.length), world: r.world };
}

describe('v8 (KVM_SET_MEMORY_ATTRIBUTES2 on the guest_memfd)', () => {
  test('every index starts private; a conversion to shared lets the host map the page, and to private takes it back', () => {
    const r = run('v8', GUEST_MEMFD_FLAG_MMAP, [fault(), convert('shared'), fault(), fault(), convert('private'), fault()]);
    expect(r.results.map((x) => x.ret)).toEqual([VM_FAULT_SIGBUS, 0, 0, 0, 0, VM_FAULT_SIGBUS]);
    const f = r.world.gmem.files.get(GMEM);
    expect(f?.shareability.get(WINDOW)).toBe('private');
    expect(f?.hostMapped.size).toBe(0);
    // The second fault found the PTE: one map, one zap.
    expect(r.world.log.filter((e) => e.kind === 'gmem_pte').map((e) => (e.kind === 'gmem_pte' ? e.action : ''))).toEqual(['map', 'unmap']);
  });
  test('the range is checked: size 0, unaligned, past the file, error_offset in; converting to what it is already is 0', () => {
    const r = run('v8', GUEST_MEMFD_FLAG_MMAP, [
      convert('shared', { size: 0 }), convert('shared', { offset: 1 }), convert('shared', { size: PS + 1 }),
      convert('shared', { offset: (WINDOW + 1) * PS }), convert('private'),
    ]);
    expect(r.results.map((x) => x.ret)).toEqual([-EINVAL, -EINVAL, -EINVAL, -EINVAL, 0]);
    expect(r.results.every((x) => x.out.error_offset === 0)).toBe(true);
  });
  test('a file without MMAP cannot be mapped; INIT_SHARED stays refused for a confidential VM', () => {
    const r = run('v8', 0, [fault()]);
    expect(r.results[0]?.ret).toBe(-ENODEV);
    const init = run('v8', 0, [{ kind: 'create_guest_memfd', size: BigInt(PS), flags: BigInt(GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED) }]);
    expect(init.results[0]?.ret).toBe(-EINVAL);
  });
  test('punch-hole zaps the VMM\'s PTE with the folio (truncate_cleanup_folio)', () => {
    const r = run('v8', GUEST_MEMFD_FLAG_MMAP, [convert('shared'), fault(), { kind: 'punch_hole', guest_memfd: GMEM, offset: WINDOW * PS, len: PS, faults: [] }]);
    expect(r.results.map((x) => x.ret)).toEqual([0, 0, 0]);
    expect(r.world.gmem.files.get(GMEM)?.hostMapped.size).toBe(0);
    expect(r.world.gmem.files.get(GMEM)?.folios.has(WINDOW)).toBe(false);
  });
});

describe('RFC v2 (KVM_GMEM_CONVERT_SHARED / _PRIVATE)', () => {
  test('its flags: SUPPORT_SHARED makes the file mappable and shared, INIT_PRIVATE private; INIT_PRIVATE alone or unknown bits are refused', () => {
    const shared = run('rfc-v2', GUEST_MEMFD_FLAG_SUPPORT_SHARED, [fault()]);
    expect(shared.results[0]?.ret).toBe(0);
    const priv = run('rfc-v2', GUEST_MEMFD_FLAG_SUPPORT_SHARED | GUEST_MEMFD_FLAG_INIT_PRIVATE, [fault()]);
    expect(priv.results[0]?.ret).toBe(VM_FAULT_SIGBUS);
    const create = (flags: number): Op => ({ kind: 'create_guest_memfd', size: BigInt(PS), flags: BigInt(flags) });
    const r = run('rfc-v2', GUEST_MEMFD_FLAG_SUPPORT_SHARED, [create(GUEST_MEMFD_FLAG_INIT_PRIVATE), create(1 << 2), { kind: 'create_guest_memfd', size: 0n, flags: 0n }]);
    expect(r.results.map((x) => x.ret)).toEqual([-EINVAL, -EINVAL, -EINVAL]);
    const noMmap = run('rfc-v2', 0, [fault()]);
    expect(noMmap.results[0]?.ret).toBe(-ENODEV);
  });
  test('the work list holds only the indices that differ: an index already private with a reference in flight does not refuse the others', () => {
    // A second, unbound file of two shared pages; index 0 made private, then given a folio (fallocate) and a reference (memory_failure).
    const g2 = 2;
    const r = run('rfc-v2', GUEST_MEMFD_FLAG_SUPPORT_SHARED, [
      { kind: 'create_guest_memfd', size: BigInt(2 * PS), flags: BigInt(GUEST_MEMFD_FLAG_SUPPORT_SHARED) },
      convert('private', { file: g2, offset: 0 }),
      { kind: 'fallocate', guest_memfd: g2, mode: 1, offset: 0, len: PS, faults: [] },
      { kind: 'memory_failure', guest_memfd: g2, offset: 0 },
      convert('private', { file: g2, offset: 0, size: 2 * PS }),
      convert('shared', { file: g2, offset: 0, size: 2 * PS }),
    ]);
    expect(r.results.map((x) => x.ret)).toEqual([g2, 0, 0, -EBUSY, 0, 0]);
    // v8 checks the whole range: the folio with memory_failure()'s reference refuses it.
    const v8 = run('v8', GUEST_MEMFD_FLAG_MMAP, [
      { kind: 'create_guest_memfd', size: BigInt(2 * PS), flags: BigInt(GUEST_MEMFD_FLAG_MMAP) },
      convert('shared', { file: g2, offset: 0, size: 2 * PS }),
      { kind: 'fallocate', guest_memfd: g2, mode: 1, offset: PS, len: PS, faults: [] },
      { kind: 'memory_failure', guest_memfd: g2, offset: PS },
      convert('private', { file: g2, offset: 0, size: 2 * PS }),
    ]);
    expect(v8.results.map((x) => x.ret)).toEqual([g2, 0, 0, -EBUSY, -EAGAIN]);
    expect(v8.results.at(-1)?.out.error_offset).toBe(PS);
  });
  test('size 0 converts nothing (0); error_offset must come in 0', () => {
    const r = run('rfc-v2', GUEST_MEMFD_FLAG_SUPPORT_SHARED | GUEST_MEMFD_FLAG_INIT_PRIVATE, [convert('shared', { size: 0 }), convert('shared', { offset: 3 })]);
    expect(r.results.map((x) => x.ret)).toEqual([0, -EINVAL]);
  });
  test('a conversion to private unmaps the VMM\'s PTE and succeeds: one thread never holds a reference across it', () => {
    const r = run('rfc-v2', GUEST_MEMFD_FLAG_SUPPORT_SHARED, [fault(), convert('private'), fault(), convert('shared'), fault()]);
    expect(r.results.map((x) => x.ret)).toEqual([0, 0, VM_FAULT_SIGBUS, 0, 0]);
  });
  test('a hardware-poisoned folio faults as VM_FAULT_HWPOISON; its conversion to private meets memory_failure()\'s reference', () => {
    const r = run('rfc-v2', GUEST_MEMFD_FLAG_SUPPORT_SHARED, [fault(), convert('private'), { kind: 'memory_failure', guest_memfd: GMEM, offset: WINDOW * PS }, convert('shared'), fault(), convert('private')]);
    // memory_failure() answers -EBUSY for the MF_DELAYED guest_memfd gives (model/kernel/memory_failure.ts).
    expect(r.results.map((x) => x.ret)).toEqual([0, 0, -EBUSY, 0, 0x0010, -EAGAIN]);
    expect(r.results.at(-1)?.out.error_offset).toBe(WINDOW * PS);
  });
});

describe('kernels and scenarios without a series', () => {
  test('a conversion is -ENOTTY where the kernel has no series, -EBADF on a closed file', () => {
    const r = run(undefined, GUEST_MEMFD_FLAG_MMAP, [convert('shared'), { kind: 'close_guest_memfd', guest_memfd: GMEM }, convert('shared')]);
    expect(r.results.map((x) => x.ret)).toEqual([-ENOTTY, 0, -EBADF]);
  });
  test('the registry names every series and refuses an unknown one; a scenario file names one by id', () => {
    expect(IN_PLACE_SERIES.map((s) => s.id)).toEqual(['v8', 'rfc-v2', 'rfc-v2~check-outside-lock', 'rfc-v2~no-safe-refcount', 'v8~no-conversion-checks', 'v8~fault-not-uptodate']);
    expect(IN_PLACE_SERIES.filter((s) => s.injected).every((s) => s.id.includes('~'))).toBe(true);
    expect(inPlaceSeriesById('nope')).toBeUndefined();
    expect(() => inPlaceWhatIf({ gmemInPlace: 'nope' })).toThrow('no in-place conversion series nope');
    expect(inPlaceSeriesOf({ inPlace: true })).toBe('v8');
    expect(inPlaceSeriesOf({ inPlace: 'rfc-v2' })).toBe('rfc-v2');
    const base = { backend: 'snp', geometry: { page_size: 64, pmd_order: 2, nr_host_pages: 64 }, ops: [{ kind: 'close_vm' }], ub: {} };
    expect(scenarioSchema.safeParse({ ...base, inPlace: 'rfc-v2' }).data?.inPlace).toBe('rfc-v2');
    const bad = scenarioSchema.safeParse({ ...base, inPlace: 'rfc-v3' });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.path).toEqual(['inPlace']);
    // A conversion to shared of pages a memslot binds, after a populate, is refused as a scenario
    // the model cannot judge (the vendors' hooks); before any populate, and to private, it is not.
    const populate = { kind: 'snp_launch_update', gfn_start: 0, uaddr: 0, len: 64, type: 1, flags: 0, faults: [] };
    const bound = scenarioSchema.safeParse({ ...base, inPlace: true, ops: [
      { kind: 'set_user_memory_region2', slot: 0, flags: 4, guest_phys_addr: 0, memory_size: 128, userspace_addr: 0, guest_memfd: 1, guest_memfd_offset: 64 },
      { kind: 'gmem_convert', guest_memfd: 1, offset: 128, size: 64, to: 'shared' },
      populate,
      { kind: 'gmem_convert', guest_memfd: 1, offset: 128, size: 64, to: 'private' },
      { kind: 'gmem_convert', guest_memfd: 1, offset: 128, size: 64, to: 'shared' },
      { kind: 'gmem_convert', guest_memfd: 1, offset: 192, size: 64, to: 'shared' },
    ] });
    expect(bound.error?.issues.map((i) => i.path.join('.'))).toEqual(['ops.4']);
    expect(bound.error?.issues[0]?.message).toContain('a conversion to shared of guest_memfd pages a memslot binds, once a populate may have run, is not modelled');
    // Threads run in the schedule's order: a populate anywhere counts.
    const threaded = parseThreadedScenario({ ...base, inPlace: true, ops: [
      { kind: 'set_user_memory_region2', slot: 0, flags: 4, guest_phys_addr: 0, memory_size: 128, userspace_addr: 0, guest_memfd: 1, guest_memfd_offset: 64 },
    ], threads: [[{ kind: 'gmem_convert', guest_memfd: 1, offset: 128, size: 64, to: 'shared' }], [populate]] });
    expect('problems' in threaded ? threaded.problems.map((p) => p.path) : []).toEqual(['threads (operation 0 of them)']);
  });
  test('vmf_error(): -ENOMEM is VM_FAULT_OOM, -EHWPOISON VM_FAULT_HWPOISON, anything else SIGBUS', () => {
    expect(vmf_error(-ENOMEM)).toBe(VM_FAULT_OOM);
    expect(vmf_error(-EHWPOISON)).toBe(0x0010);
    expect(vmf_error(-EACCES)).toBe(VM_FAULT_SIGBUS);
    expect([EACCES, EAGAIN]).toEqual([13, 11]);
  });
});
