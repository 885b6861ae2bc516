import { describe, expect, test } from 'vitest';
import { tdxOf } from '../../model/backends/tdx/access.js';
import { EBUSY, EHWPOISON } from '../../model/kernel/errno.js';
import { runScenario } from '../../model/scenario/runScenario.js';
import type { Op } from '../../model/scenario/Scenario.js';
import { hostPage } from '../../model/world/hostMemory.js';
import { rev } from '../invariants/caseTable.js';
import { BASE_GFN, GMEM, PS, allocate, eventsOf, folioPfn, initMemRegion, launchUpdate, memoryFailure, scenario, setupOps } from './fixtures.js';

const S = setupOps();
const punch: Op = { kind: 'punch_hole', guest_memfd: GMEM, offset: 0, len: PS, faults: [] };

describe('memory_failure() on a guest_memfd page', () => {
  test('poisons the page, keeps a reference to it, and calls error_remove_folio under the folio lock', () => {
    const r = runScenario(scenario('snp', [...S, launchUpdate(), memoryFailure()]), rev('v7.0'));
    const pfn = folioPfn(r.world, 0) ?? 0;
    const p = hostPage(r.world.host, pfn);
    expect(p?.hwpoison).toBe(true);
    // The page cache's reference and memory_failure()'s own.
    expect(p?.refcount).toBe(2);
    const order = r.world.log.flatMap((e) => {
      if (e.kind === 'folio' && (e.change === 'lock' || e.change === 'unlock')) return [`folio ${e.change}`];
      if (e.kind === 'lock' && e.lock.includes('invalidate_lock')) return [`${e.action} ${e.lock}`];
      return [];
    }).slice(-4);
    expect(order).toEqual([
      'folio lock', 'acquire gmem1->invalidate_lock', 'release gmem1->invalidate_lock', 'folio unlock',
    ]);
    expect(eventsOf(r.world, 'note').some((e) => e.text.includes('hardware-poisoned'))).toBe(true);
  });

  test('a second error on the page is -EHWPOISON; no folio at the offset is nothing', () => {
    const r = runScenario(scenario('snp', [...S, memoryFailure(), allocate(), memoryFailure(), memoryFailure()]), rev('kvm-x86-next'));
    // MF_DELAYED is -EBUSY from memory_failure() in the trees read (model/kernel/memory_failure.ts).
    expect(r.results.slice(-4).map((x) => x.ret)).toEqual([0, 0, -EBUSY, -EHWPOISON]);
    expect(r.world.host.pages.filter((p) => p.hwpoison)).toHaveLength(1);
  });

  test('TDX: the zap removes the page from the S-EPT, and the next add of it is -EHWPOISON', () => {
    const r = runScenario(scenario('tdx', [...S, initMemRegion(), memoryFailure(), initMemRegion()]), rev('v7.0'));
    expect(tdxOf(r.world).module.sept.has(BASE_GFN)).toBe(false);
    expect(r.results.at(-1)?.ret).toBe(-EHWPOISON);
  });

  test('a poisoned page punched out of the file never goes back to the allocator', () => {
    const r = runScenario(scenario('snp', [...S, allocate(), memoryFailure(), punch]), rev('kvm-x86-next'));
    const pfn = eventsOf(r.world, 'folio').find((e) => e.change === 'create')?.pfn ?? 0;
    expect(r.world.gmem.files.get(GMEM)?.folios.has(0)).toBe(false);
    expect(hostPage(r.world.host, pfn)?.refcount).toBe(1);
    expect(eventsOf(r.world, 'page_free').some((e) => e.pfn === pfn)).toBe(false);
    expect(r.world.freeList.includes(pfn)).toBe(false);
  });

  test('a huge folio (the hugepages what-if) is poisoned on its head, as hugetlb does, and zapped whole', () => {
    const r = runScenario({ ...scenario('snp', [...S, allocate({ npages: 4 }), memoryFailure(2)]), hugepages: { order: 2 } }, rev('kvm-x86-next'));
    const head = folioPfn(r.world, 0) ?? 0;
    expect(folioPfn(r.world, 2)).toBe(head);
    expect(r.world.host.pages.filter((p) => p.hwpoison).map((p) => p.pfn)).toEqual([head]);
  });
});
