import { describe, expect, test } from 'vitest';
import { EFAULT, EINVAL, EIO, ENOMEM } from '../../model/kernel/errno.js';
import { GUEST_MEMFD_FLAG_MMAP } from '../../model/kernel/guest_memfd.js';
import type { BackendId, Op, Scenario } from '../../model/scenario/Scenario.js';
import { decodeProvenance } from '../../model/world/provenance.js';
import { gmemUserAddress } from '../../model/world/userspaceMm.js';
import { judge } from '../../properties/explore.js';
import { INVARIANTS } from '../../properties/registry.js';
import { keyOf } from '../../properties/signature.js';
import { rev } from '../invariants/caseTable.js';
import { MADV_DONTNEED, MADV_PAGEOUT, MADV_REMOVE, type Madvice } from '../../model/scenario/userspace.js';
import { runScenario } from '../../model/scenario/runScenario.js';
import { GMEM, PS, SLOT_PAGES, folioPfn, initMemRegion, launchUpdate, page, scenario, setupOps } from './fixtures.js';

/**
 * A populate source in the VMM's own mapping of a guest_memfd (the in-place what-if): GUP and
 * copy_from_user() reach the page through the mapping's PTE, or fault it in through the
 * generation's vm_ops->fault (model/kernel/services/gup.ts userPagePfn()). The page is the file's
 * last, bound by no memslot, converted to shared; the destination is slot page 0.
 */
const SRC_INDEX = SLOT_PAGES;
const SRC = gmemUserAddress(GMEM, SRC_INDEX, PS);

function fromMapping(backend: BackendId, o: { touched?: boolean; flags?: number; convert?: boolean; advice?: Madvice } = {}): Scenario {
  const ops: Op[] = [
    ...setupOps({ gmemFlags: o.flags ?? GUEST_MEMFD_FLAG_MMAP }),
    ...(o.convert === false ? [] : [{ kind: 'gmem_convert', guest_memfd: GMEM, offset: SRC_INDEX * PS, size: PS, to: 'shared' } as const]),
    ...(o.touched === true ? [{ kind: 'gmem_user_fault', guest_memfd: GMEM, offset: SRC_INDEX * PS, write: true } as const] : []),
    ...(o.advice === undefined ? [] : [{ kind: 'madvise', addr: SRC, length: PS, advice: o.advice } as const]),
    backend === 'snp' ? launchUpdate({ uaddr: SRC }) : initMemRegion({ source_addr: SRC }),
  ];
  return { ...scenario(backend, ops), inPlace: true };
}

describe.each<BackendId>(['snp', 'tdx'])('%s', (backend) => {
  test('kvm-x86-next loads the bytes the VMM wrote through the mapping, and gives the source page back', () => {
    const j = judge(fromMapping(backend, { touched: true }), rev('kvm-x86-next'), INVARIANTS);
    expect(j.violations.map(keyOf)).toEqual([]);
    expect(j.run.results.at(-1)?.ret).toBe(0);
    const loaded = page(j.run.world, folioPfn(j.run.world, 0) ?? -1);
    expect(decodeProvenance(loaded.prov[0] ?? 0)).toEqual({ kind: 'user', uaddr: SRC, generation: 1 });
    // The source folio: the page cache's reference and the PTE's, the populate's pin put.
    const src = page(j.run.world, folioPfn(j.run.world, SRC_INDEX) ?? -1);
    expect({ refcount: src.refcount, gupRefs: src.gupRefs }).toEqual({ refcount: 2, gupRefs: 0 });
  });

  test('kvm-x86-next faults an untouched source page in before its lock: the fault clears it, zeros are loaded', () => {
    const j = judge(fromMapping(backend), rev('kvm-x86-next'), INVARIANTS);
    expect(j.violations.map(keyOf)).toEqual([]);
    expect(j.run.results.at(-1)?.ret).toBe(0);
    expect(j.run.world.gmem.files.get(GMEM)?.hostMapped.has(SRC_INDEX)).toBe(true);
    expect([...page(j.run.world, folioPfn(j.run.world, 0) ?? -1).data].every((b) => b === 0)).toBe(true);
    const faults = j.run.world.log.filter((e) => e.kind === 'lock' && e.action === 'acquire' && e.site === 'kvm_gmem_fault_user_mapping');
    expect(faults.length).toBeGreaterThan(0);
  });

  // A failed pin is -EFAULT from TDX; SNP's ioctl reports any failed page as -EIO (oracle S2.7).
  const failed = backend === 'snp' ? -EIO : -EFAULT;

  test('a private source index cannot be faulted in: the pin fails on every generation, and nothing breaks', () => {
    for (const id of ['kvm-x86-next', 'inplace-v8']) {
      const j = judge(fromMapping(backend, { convert: false }), rev(id), INVARIANTS);
      expect({ id, keys: j.violations.map(keyOf) }).toEqual({ id, keys: [] });
      expect({ id, ret: j.run.results.at(-1)?.ret }).toEqual({ id, ret: failed });
    }
  });

  test('a guest_memfd created without GUEST_MEMFD_FLAG_MMAP has no mapping: the source is a hole', () => {
    const j = judge(fromMapping(backend, { flags: 0, convert: false }), rev('kvm-x86-next'), INVARIANTS);
    expect(j.violations.map(keyOf)).toEqual([]);
    expect(j.run.results.at(-1)?.ret).toBe(failed);
    expect(j.run.world.log.some((e) => e.kind === 'lock' && e.action === 'acquire' && e.site === 'kvm_gmem_fault_user_mapping')).toBe(false);
  });

  test('the old populate path (v6.17) faults it in under its own invalidate lock: B2 in one thread', () => {
    const j = judge(fromMapping(backend), rev('v6.17'), INVARIANTS);
    expect(j.violations.map(keyOf)).toContain('lock-order/recursive@kvm_gmem_fault_user_mapping');
  });
});

describe('madvise() on the mapping (model/scenario/gmemMadvise.ts)', () => {
  const userBytesOf = (j: ReturnType<typeof judge>) => decodeProvenance(page(j.run.world, folioPfn(j.run.world, 0) ?? -1).prov[0] ?? 0);

  test('MADV_DONTNEED drops the PTE, the file keeps the bytes: the populate faults the same folio back and loads them', () => {
    const j = judge(fromMapping('tdx', { touched: true, advice: MADV_DONTNEED }), rev('kvm-x86-next'), INVARIANTS);
    expect(j.violations.map(keyOf)).toEqual([]);
    expect(j.run.results.at(-2)?.ret).toBe(0);
    expect(j.run.results.at(-1)?.ret).toBe(0);
    expect(userBytesOf(j)).toEqual({ kind: 'user', uaddr: SRC, generation: 1 });
  });

  test('MADV_REMOVE punches the page out of the file: a fresh folio is faulted in and zeros are loaded', () => {
    const j = judge(fromMapping('tdx', { touched: true, advice: MADV_REMOVE }), rev('kvm-x86-next'), INVARIANTS);
    expect(j.violations.map(keyOf)).toEqual([]);
    expect(j.run.results.at(-2)?.ret).toBe(0);
    expect(j.run.results.at(-1)?.ret).toBe(0);
    expect([...page(j.run.world, folioPfn(j.run.world, 0) ?? -1).data].every((b) => b === 0)).toBe(true);
    // The punch-hole ran as the revision's fallocate() does it, with mmap_lock dropped.
    const punch = j.run.world.log.findIndex((e) => e.kind === 'lock' && e.action === 'acquire' && e.lock === 'gmem1->invalidate_lock' && e.site === 'kvm_gmem_punch_hole');
    expect(punch).toBeGreaterThan(0);
  });

  test('MADV_PAGEOUT reclaims nothing from the unevictable mapping: the PTE stays', () => {
    const r = runScenario(fromMapping('snp', { touched: true, advice: MADV_PAGEOUT }), rev('kvm-x86-next'));
    expect(r.results.at(-2)?.ret).toBe(0);
    expect(r.world.gmem.files.get(GMEM)?.hostMapped.has(SRC_INDEX)).toBe(true);
  });

  test('unaligned is -EINVAL; past the file, or a file the VMM cannot map, -ENOMEM', () => {
    const rets = (ops: readonly Op[], flags = GUEST_MEMFD_FLAG_MMAP) => runScenario({ ...scenario('snp', [...setupOps({ gmemFlags: flags }), ...ops]), inPlace: true }, rev('kvm-x86-next')).results.slice(-ops.length).map((x) => x.ret);
    expect(rets([{ kind: 'madvise', addr: SRC + 1, length: PS, advice: MADV_DONTNEED }])).toEqual([-EINVAL]);
    expect(rets([{ kind: 'madvise', addr: SRC, length: 2 * PS, advice: MADV_DONTNEED }])).toEqual([-ENOMEM]);
    expect(rets([{ kind: 'madvise', addr: SRC, length: PS, advice: MADV_REMOVE }], 0)).toEqual([-ENOMEM]);
    expect(rets([{ kind: 'madvise', addr: SRC, length: 0, advice: MADV_REMOVE }])).toEqual([0]);
  });
});
