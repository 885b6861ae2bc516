import { describe, expect, test } from 'vitest';
import { EINVAL, EIO, EOPNOTSUPP } from '../../model/kernel/errno.js';
import { GUEST_MEMFD_FLAG_MMAP } from '../../model/kernel/guest_memfd.js';
import { KVM_SEV_SNP_PAGE_TYPE_CPUID } from '../../model/backends/snp/uapi.js';
import { tdxOf } from '../../model/backends/tdx/access.js';
import { runScenario } from '../../model/scenario/runScenario.js';
import type { BackendId, Op, Scenario } from '../../model/scenario/Scenario.js';
import { KVM_MEMORY_ATTRIBUTE_PRIVATE } from '../../model/world/kvmState.js';
import { judge } from '../../properties/explore.js';
import { INVARIANTS } from '../../properties/registry.js';
import { mutant, rev } from '../invariants/caseTable.js';
import { BASE_GFN, GMEM, PS, initMemRegion, launchUpdate, scenario, setupOps } from './fixtures.js';

/**
 * The in-place series' populate (model/revisions/inplace-v8.ts, inplace-v7.ts) call by call: what
 * its module parameter decides, the private check asked of the file, the NULL source written back
 * as it was, and the kernels around it that refuse a NULL source.
 */
function run(backend: BackendId, id: string, ops: readonly Op[], o: { inPlace?: boolean; flags?: number; vmPrivate?: boolean } = {}) {
  const s: Scenario = { ...scenario(backend, [...setupOps({ gmemFlags: o.flags ?? GUEST_MEMFD_FLAG_MMAP, ...(o.vmPrivate === true ? {} : { private: null }) }), ...ops]), ...(o.inPlace === false ? {} : { inPlace: true }) };
  const r = runScenario(s, rev(id));
  return { rets: r.results.slice(-ops.length).map((x) => x.ret), outs: r.results.slice(-ops.length).map((x) => x.out), world: r.world, scenario: s };
}
const nullPopulate = (backend: BackendId, at: number): Op => (backend === 'snp' ? launchUpdate({ at, uaddr: 0 }) : initMemRegion({ at, source_addr: 0 }));
const convert = (at: number, to: 'shared' | 'private'): Op => ({ kind: 'gmem_convert', guest_memfd: GMEM, offset: at * PS, size: PS, to });

describe.each<BackendId>(['snp', 'tdx'])('%s', (backend) => {
  test('in place: a NULL source populates the page from itself, and is written back as NULL', () => {
    const r = run(backend, 'inplace-v8', [nullPopulate(backend, 0)]);
    expect(r.rets).toEqual([0]);
    if (backend === 'tdx') {
      expect(r.outs[0]).toMatchObject({ source_addr: 0, gpa: (BASE_GFN + 1) * PS, nr_pages: 0 });
      expect(tdxOf(r.world).module.sept.has(BASE_GFN)).toBe(true);
    } else {
      expect(r.outs[0]).toMatchObject({ uaddr: 0, gfn_start: BASE_GFN + 1, len: 0 });
    }
  });
  test('with the module parameter off (the default cell) a NULL source is refused by the callback', () => {
    const r = run(backend, 'inplace-v8', [nullPopulate(backend, 0)], { inPlace: false, vmPrivate: true });
    expect(r.rets).toEqual([backend === 'snp' ? -EIO : -EOPNOTSUPP]);
  });
  test('the private check reads the file\'s attribute: a page the VMM left shared is refused; the VM\'s attributes no longer take PRIVATE', () => {
    const attrs: Op = { kind: 'set_memory_attributes', address: BASE_GFN * PS, size: PS, attributes: BigInt(KVM_MEMORY_ATTRIBUTE_PRIVATE), flags: 0n };
    const r = run(backend, 'inplace-v8', [convert(0, 'shared'), nullPopulate(backend, 0), attrs]);
    expect(r.rets).toEqual([0, backend === 'snp' ? -EIO : -EINVAL, -EINVAL]);
  });
  test('kvm-x86-next refuses a NULL source up front, in place or not', () => {
    const r = run(backend, 'kvm-x86-next', [nullPopulate(backend, 0)], { vmPrivate: true });
    expect(r.rets).toEqual([-EINVAL]);
  });
  test('every invariant holds on v8\'s in-place image (written, converted, populated) and on an untouched page', () => {
    const image: Op[] = [convert(2, 'shared'), { kind: 'gmem_user_fault', guest_memfd: GMEM, offset: 2 * PS, write: true }, convert(2, 'private'), nullPopulate(backend, 2), nullPopulate(backend, 3)];
    const r = run(backend, 'inplace-v8', image);
    expect(r.rets).toEqual([0, 0, 0, 0, 0]);
    const j = judge(r.scenario, rev('inplace-v8'), INVARIANTS);
    expect(j.violations.map((v) => `${v.invariant}/${v.messageId}: ${v.message}`)).toEqual([]);
  });
});

describe('B18: the CPUID write-back in place', () => {
  const cpuid = launchUpdate({ at: 0, uaddr: 0, type: KVM_SEV_SNP_PAGE_TYPE_CPUID, faults: [{ kind: 'fw', cmd: 'SNP_LAUNCH_UPDATE', condition: 'cpuid_table', nth: 1 }] });
  test('v8\'s `&& src_page` skips it: the call fails with the firmware\'s status, no page is mapped for the copy back', () => {
    const r = run('snp', 'inplace-v8', [cpuid]);
    expect(r.rets).toEqual([-EIO]);
    expect(r.world.log.filter((e) => e.kind === 'mem_write' && e.via === 'kmap')).toEqual([]);
    expect(judge(r.scenario, rev('inplace-v8'), INVARIANTS).violations).toEqual([]);
  });
  test('without the guard the copy-back dereferences the NULL source page', () => {
    const r = run('snp', 'inplace-v8', [cpuid]);
    const j = judge(r.scenario, mutant('inplace-v8+no-src-page-guard'), INVARIANTS);
    expect(j.violations.map((v) => `${v.invariant}/${v.messageId}`)).toContain('memory-safety/wildPointer');
  });
});
