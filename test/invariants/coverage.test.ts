import { describe, expect, test } from 'vitest';
import { bump, coverageObserver, mergeCoverage, type Coverage } from '../../properties/coverage.js';
import { applicableRequirements, COVERAGE_REQUIREMENTS, coverageShortfall } from '../../properties/coverageRequirements.js';
import { runScenario } from '../../model/scenario/runScenario.js';
import { KVM_SEV_SNP_PAGE_TYPE_ZERO } from '../../model/backends/snp/uapi.js';
import { GMEM, GMEM_GUP_NPAGES as N, PS, SLOT_PAGES, SRC, initMemRegion, launchUpdate, scenario, setupOps } from '../model/fixtures.js';
import { GUEST_MEMFD_FLAG_MMAP } from '../../model/kernel/guest_memfd.js';
import { MADV_DONTNEED } from '../../model/scenario/userspace.js';
import type { Op } from '../../model/scenario/Scenario.js';
import { gmemUserAddress } from '../../model/world/userspaceMm.js';
import { rev } from './caseTable.js';


function coverageOf(s: ReturnType<typeof scenario>, revisionId: string): Coverage {
  const c: Coverage = new Map();
  runScenario(s, rev(revisionId), { observers: [coverageObserver(c)] });
  return c;
}

describe('coverage counters', () => {
  test('bump() and mergeCoverage() add up', () => {
    const a: Coverage = new Map([['x', 1]]);
    bump(a, 'x');
    bump(a, 'y', 3);
    mergeCoverage(a, new Map([['y', 1], ['z', 2]]));
    expect([...a]).toEqual([['x', 2], ['y', 4], ['z', 2]]);
  });

  test('a populate counts its source offset, page-count boundaries, flavour and result', () => {
    const c = coverageOf(scenario('snp', [...setupOps(), launchUpdate({ at: SLOT_PAGES - N + 1, uaddr: SRC + PS - 1, npages: N - 1 })]), 'kvm-x86-next-2025.11.07');
    expect(Object.fromEntries([...c].filter(([k]) => !k.startsWith('fw:') && !k.startsWith('op:')))).toEqual({
      'src_offset:nonzero': 1, 'src_offset:PAGE_SIZE-1': 1, 'pages:GMEM_GUP_NPAGES-1': 1, 'pages:slot_end': 1,
      'flavour:NORMAL': 1, 'ret:snp_launch_update:0': 1,
    });
    expect([c.get('op:mmap'), c.get('op:snp_launch_update'), c.get('fw:SNP_LAUNCH_UPDATE:ok'), c.get('fw:RMPUPDATE:ok')]).toEqual([1, 1, 3, 3]);
  });

  test('offset 1, one page, GMEM_GUP_NPAGES and +1, ZERO pages without a source', () => {
    const c = coverageOf(scenario('snp', [
      ...setupOps(), launchUpdate({ uaddr: SRC + 1 }), launchUpdate({ at: 1, npages: N }), launchUpdate({ at: 1, npages: N + 1, type: KVM_SEV_SNP_PAGE_TYPE_ZERO }),
    ]), 'kvm-x86-next-2025.11.07');
    expect([c.get('src_offset:1'), c.get('src_offset:0'), c.get('pages:1'), c.get('pages:GMEM_GUP_NPAGES'), c.get('pages:GMEM_GUP_NPAGES+1'), c.get('flavour:ZERO')]).toEqual([1, 1, 1, 1, 1, 1]);
    expect([c.get('ret:snp_launch_update:0'), c.get('ret:snp_launch_update:-EIO')]).toEqual([2, 1]);
  });

  test('a source in the guest_memfd mapping: faulted in and loaded, already mapped, madvise()d first', () => {
    const src = gmemUserAddress(GMEM, SLOT_PAGES, PS);
    const shared: Op = { kind: 'gmem_convert', guest_memfd: GMEM, offset: SLOT_PAGES * PS, size: PS, to: 'shared' };
    const touch: Op = { kind: 'gmem_user_fault', guest_memfd: GMEM, offset: SLOT_PAGES * PS, write: true };
    const inPlace = (ops: readonly Op[]) => ({ ...scenario('tdx', [...setupOps({ gmemFlags: GUEST_MEMFD_FLAG_MMAP }), ...ops]), inPlace: true as const });
    const faulted = coverageOf(inPlace([shared, initMemRegion({ source_addr: src })]), 'v7.0');
    expect([faulted.get('src:gmem_fault'), faulted.get('src:gmem_fault_loaded'), faulted.get('src:gmem_mapped')]).toEqual([1, 1, undefined]);
    const mapped = coverageOf(inPlace([shared, touch, initMemRegion({ source_addr: src })]), 'v7.0');
    expect([mapped.get('src:gmem_mapped'), mapped.get('src:gmem_fault')]).toEqual([1, undefined]);
    // DONTNEED drops the PTE: the populate faults the page in again.
    const dropped = coverageOf(inPlace([shared, touch, { kind: 'madvise', addr: src, length: PS, advice: MADV_DONTNEED }, initMemRegion({ source_addr: src })]), 'v7.0');
    expect([dropped.get('edge:madvise_gmem:4'), dropped.get('src:gmem_fault'), dropped.get('src:gmem_fault_loaded')]).toEqual([1, 1, 1]);
    // A failed populate from a faulted-in source is no load (the page asked is not private).
    const refused = coverageOf(inPlace([shared, initMemRegion({ source_addr: src, at: SLOT_PAGES })]), 'v7.0');
    expect([refused.get('src:gmem_fault'), refused.get('src:gmem_fault_loaded')]).toEqual([1, undefined]);
  });

  test('injected faults, warnings and undefined-behaviour reads are counted by kind', () => {
    const c = coverageOf(scenario('tdx', [...setupOps(), initMemRegion({ nr_pages: 2, faults: [{ kind: 'fw', cmd: 'TDH.MR.EXTEND', condition: 'tdr_busy', nth: 3 }] })], { 'tdx_gmem_post_populate:i': 0 }), 'rfc-v1');
    expect([c.get('fault:TDH.MR.EXTEND fails with tdr_busy'), c.get('fw:TDH.MR.EXTEND:tdr_busy'), c.get('warn:TDX_BUG_ON_2'), c.get('ub:tdx_gmem_post_populate:i=0'), c.get('flavour:measured')]).toEqual([1, 1, 1, 1, 1]);
    expect(c.get('ret:tdx_init_mem_region:-EIO')).toBe(1);
  });
});

describe('coverage requirements', () => {
  test('a shortfall lists each requirement missed, with what was reached', () => {
    const c: Coverage = new Map([['pages:1', 25], ['src_offset:1', 2]]);
    const short = coverageShortfall('tdx', { id: 'v7.0' }, c);
    expect(short).toContainEqual(['src_offset:1', 2, COVERAGE_REQUIREMENTS.tdx.find((r) => r.key === 'src_offset:1')?.min ?? -1]);
    expect(short.map(([k]) => k)).not.toContain('pages:1');
    expect(short).toHaveLength(applicableRequirements('tdx', { id: 'v7.0' }).length - 1);
  });

  test('the in-place populate cases are asked of the in-place series\' revisions, in their in-place cell only', () => {
    const keys = (id: string, whatIf?: 'in-place') => applicableRequirements('tdx', { id }, whatIf).map((r) => r.key);
    expect(keys('inplace-v8', 'in-place')).toEqual(expect.arrayContaining(['inplace:null_source', 'inplace:loaded_written']));
    expect(keys('inplace-v8')).not.toContain('inplace:null_source');
    expect(keys('v7.0', 'in-place')).not.toContain('inplace:null_source');
  });

  test('every in-place cell must load sources from the guest_memfd mapping: a cell that never does is inconclusive', () => {
    const loadedNone: Coverage = new Map([['src:gmem_mapped', 50], ['src:gmem_fault', 50], ['edge:madvise_gmem:4', 9], ['edge:madvise_gmem:9', 9]]);
    for (const [backend, id] of [['snp', 'v7.0'], ['tdx', 'inplace-v8'], ['cca', 'rme-v12']] as const) {
      const short = coverageShortfall(backend, { id }, loadedNone, 'in-place').map(([k]) => k);
      expect(short).toContain('src:gmem_fault_loaded');
      expect(short).not.toContain('src:gmem_fault');
      expect(applicableRequirements(backend, { id }).map((r) => r.key)).not.toContain('src:gmem_fault_loaded');
    }
  });

  test('requirements a revision cannot reach by construction are waived for it', () => {
    const waived = COVERAGE_REQUIREMENTS.snp.filter((r) => (r.except ?? []).includes('kvm-x86-next-2025.11.07')).map((r) => r.key);
    expect(waived.length).toBeGreaterThan(0);
    const keys = coverageShortfall('snp', { id: 'kvm-x86-next-2025.11.07' }, new Map()).map(([k]) => k);
    for (const k of waived) expect(keys).not.toContain(k);
    expect(coverageShortfall('snp', { id: 'v7.0' }, new Map()).map(([k]) => k)).toEqual(expect.arrayContaining(waived));
  });
});
