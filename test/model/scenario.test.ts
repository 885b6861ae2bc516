import { describe, expect, test } from 'vitest';
import { ScenarioError, runScenario, type RunObserver } from '../../model/scenario/runScenario.js';
import type { Op } from '../../model/scenario/Scenario.js';
import { snpBackend } from '../../model/backends/snp/backend.js';
import { tdxBackend } from '../../model/backends/tdx/backend.js';
import { BACKENDS, backendById } from '../../model/backends/registry.js';
import { mutant, rev } from '../invariants/caseTable.js';
import { GEO, GMEM, PS, SRC, eventsOf, initMemRegion, launchUpdate, scenario, setupOps } from './fixtures.js';

const S = setupOps();
const rets = (ops: readonly Op[], backend: 'snp' | 'tdx' = 'snp', revision = rev('kvm-x86-next')) =>
  runScenario(scenario(backend, ops), revision).results.map((r) => r.ret);

describe('runScenario() refuses what cannot run', () => {
  test('a bad geometry', () => {
    expect(() => runScenario({ ...scenario('snp', []), geometry: { ...GEO, page_size: 48 } }, rev('v7.0'))).toThrow(ScenarioError);
    expect(() => runScenario({ ...scenario('snp', []), geometry: { ...GEO, page_size: 48 } }, rev('v7.0'))).toThrow('geometry: page_size must be a power of two between 16 and 65536, got 48');
  });

  test('a backend the revision lacks', () => {
    expect(() => runScenario(scenario('tdx', []), mutant('kvm-x86-next+double-put'))).toThrow('revision kvm-x86-next+double-put has no tdx backend');
  });
});

describe('ioctl dispatch', () => {
  test('another vendor\'s ioctl is -ENOTTY', () => {
    expect(rets([{ kind: 'tdx_finalize_vm', faults: [] }, initMemRegion()], 'snp')).toEqual([-25, -25]);
    expect(rets([{ kind: 'snp_launch_finish', faults: [] }, launchUpdate()], 'tdx')).toEqual([-25, -25]);
  });

  test('after close(vm fd) every VM ioctl is -EBADF, and a second close too', () => {
    expect(rets([{ kind: 'close_vm' }, { kind: 'create_guest_memfd', size: BigInt(PS), flags: 0n }, launchUpdate(), { kind: 'close_vm' }])).toEqual([0, -9, -9, -9]);
  });

  test('a bugged VM fails VM ioctls with -EIO, but mmap still works', () => {
    const ops: Op[] = [...S, launchUpdate({ faults: [{ kind: 'fw', cmd: 'SNP_LAUNCH_UPDATE', condition: 'fw_resource', nth: 1 }, { kind: 'fw', cmd: 'SNP_PAGE_RECLAIM', condition: 'page_address', nth: 1 }] }),
      { kind: 'set_memory_attributes', address: 0x10 * PS, size: PS, attributes: 0n, flags: 0n }, { kind: 'mmap', addr: 0x80000, length: PS, prot: 'rw', holes: [] }];
    expect(rets(ops).slice(4)).toEqual([-5, -5, 0]);
  });

  test('guest_memfd fd operations on a closed or unknown fd are -EBADF', () => {
    expect(rets([...S, { kind: 'close_guest_memfd', guest_memfd: GMEM }, { kind: 'close_guest_memfd', guest_memfd: GMEM },
      { kind: 'punch_hole', guest_memfd: GMEM, offset: 0, len: PS, faults: [] }, { kind: 'gmem_user_fault', guest_memfd: GMEM, offset: 0 },
      { kind: 'close_guest_memfd', guest_memfd: 9 }]).slice(4)).toEqual([0, -9, -9, -9, -9]);
  });

  test('the VM is destroyed once its fd and every guest_memfd are closed: memslots go', () => {
    const r = runScenario(scenario('tdx', [...S, initMemRegion(), { kind: 'close_vm' }, { kind: 'close_guest_memfd', guest_memfd: GMEM }]), rev('v7.0'));
    expect(r.world.kvm).toMatchObject({ vm_fd_closed: true, destroyed: true });
    expect(r.world.kvm.memslots.size).toBe(0);
    expect(eventsOf(r.world, 'note').map((e) => e.text)).toContain('kvm_destroy_vm()');
    const open = runScenario(scenario('tdx', [...S, { kind: 'close_vm' }]), rev('v7.0'));
    expect(open.world.kvm.destroyed).toBe(false);
  });
});

describe('observers and options', () => {
  test('observers see each op begin and end, and every event in between', () => {
    const seen: string[] = [];
    const obs: RunObserver = {
      opBegin: (i, op) => seen.push(`begin ${i} ${op.kind}`),
      event: (e) => { if (e.kind === 'op_end') seen.push('op_end event'); },
      opEnd: (res) => seen.push(`end ${res.index} ${res.ret}`),
    };
    runScenario(scenario('snp', [{ kind: 'create_guest_memfd', size: BigInt(PS), flags: 0n }]), rev('kvm-x86-next-2025.11.07'), { observers: [obs] });
    expect(seen).toEqual(['begin 0 create_guest_memfd', 'op_end event', 'end 0 1']);
  });

  test('stop() ends the run after the operation it returns true for', () => {
    const r = runScenario(scenario('snp', S), rev('kvm-x86-next-2025.11.07'), { stop: () => true });
    expect(r.results).toHaveLength(1);
  });

  test('traceCalls logs kernel calls and their returns', () => {
    const r = runScenario(scenario('snp', [...S, launchUpdate()]), rev('kvm-x86-next'), { traceCalls: true });
    const calls = eventsOf(r.world, 'call').map((e) => e.fn);
    expect(calls).toContain('kvm_gmem_populate');
    expect(calls).toContain('sev_gmem_post_populate');
    expect(eventsOf(r.world, 'ret').find((e) => e.fn === 'snp_launch_update')?.ret).toBe('0');
    expect(eventsOf(r.world, 'note').some((e) => e.text.startsWith('pr_debug'))).toBe(false);
    const quiet = runScenario(scenario('snp', [...S, launchUpdate()]), rev('kvm-x86-next'));
    expect(eventsOf(quiet.world, 'call')).toEqual([]);
  });
});

describe('the launch sequence (Scenario.launch)', () => {
  const before = (backend: 'snp' | 'tdx', ops: readonly Op[], revision = rev('kvm-x86-next')) =>
    runScenario({ ...scenario(backend, ops), launch: 'not_started' }, revision).results.map((r) => r.ret);
  const start: Op = { kind: 'snp_launch_start' };
  const initVcpu: Op = { kind: 'tdx_init_vcpu' };

  test.each(['v6.17', 'kvm-x86-next-2025.11.07', 'rfc-v1', 'v7.0', 'kvm-x86-next'])('%s: SNP LAUNCH_UPDATE and LAUNCH_FINISH before LAUNCH_START are -EINVAL, after it they run', (id) => {
    expect(before('snp', [...S, launchUpdate(), { kind: 'snp_launch_finish', faults: [] }, start, launchUpdate()], rev(id)).slice(S.length)).toEqual([-22, -22, 0, 0]);
  });

  test('a second LAUNCH_START is -EINVAL: one guest context per VM', () => {
    expect(rets([...S, start, launchUpdate()]).slice(S.length)).toEqual([-22, 0]);
    expect(before('snp', [start, start])).toEqual([0, -22]);
  });

  test.each(['v6.17', 'kvm-x86-next-2025.11.07', 'rfc-v1', 'v7.0', 'kvm-x86-next'])('%s: TDX INIT_MEM_REGION before INIT_VCPU is -EINVAL, after it the region is added', (id) => {
    expect(before('tdx', [...S, initMemRegion(), initVcpu, initMemRegion()], rev(id)).slice(S.length)).toEqual([-22, 0, 0]);
  });

  test('a second INIT_VCPU is -EINVAL, and none after the TD is finalized', () => {
    expect(rets([...S, initVcpu], 'tdx').slice(S.length)).toEqual([-22]);
    expect(before('tdx', [initVcpu, initVcpu])).toEqual([0, -22]);
    expect(before('tdx', [{ kind: 'tdx_finalize_vm', faults: [] }, initVcpu])).toEqual([0, -22]);
  });

  test.each(['v6.17', 'v7.0', 'kvm-x86-next'])('%s: a kvm_tdx_cmd with hw_error set, or INIT_VCPU with flags, is -EINVAL and changes nothing', (id) => {
    expect(before('tdx', [{ kind: 'tdx_init_vcpu', hw_error: 1 }, { kind: 'tdx_init_vcpu', flags: 1 }, initVcpu], rev(id))).toEqual([-22, -22, 0]);
    expect(rets([...S, initMemRegion({ hw_error: 1 }), initMemRegion()], 'tdx', rev(id)).slice(S.length)).toEqual([-22, 0]);
  });
});

describe('the backend registry', () => {
  test('names both backends and their ioctls', () => {
    expect(backendById('snp')).toBe(snpBackend);
    expect(Object.keys(BACKENDS)).toEqual(['snp', 'tdx', 'cca']);
    expect(snpBackend.ops).toEqual(['snp_launch_start', 'snp_launch_update', 'snp_launch_finish']);
    expect(tdxBackend.ops).toEqual(['tdx_init_vcpu', 'tdx_init_mem_region', 'tdx_finalize_vm']);
  });

  test('populate requests: SNP ZERO has no source, TDX flags pick the flavour', () => {
    expect(snpBackend.populateRequest(launchUpdate({ type: 3, npages: 2 }), GEO)).toEqual({ gfn_start: 0x10, npages: 2, src: 0, flavour: 'ZERO', may_write_source: false });
    expect(snpBackend.populateRequest(launchUpdate({ type: 6 }), GEO)?.may_write_source).toBe(true);
    expect(tdxBackend.populateRequest(initMemRegion({ flags: 0, nr_pages: 3 }), GEO)).toEqual({ gfn_start: 0x10, npages: 3, src: SRC, flavour: 'unmeasured', may_write_source: false });
    expect(snpBackend.populateRequest({ kind: 'close_vm' }, GEO)).toBeUndefined();
    expect(tdxBackend.populateRequest({ kind: 'close_vm' }, GEO)).toBeUndefined();
  });

  test('populated counts come from the written-back fields', () => {
    const op = launchUpdate({ npages: 3 });
    expect(snpBackend.populatedCount(op, 0, { gfn_start: 0x12 }, PS)).toBe(2);
    expect(snpBackend.populatedCount(op, -5, { gfn_start: 0x12 }, PS)).toBe(0);
    expect(snpBackend.populatedCount({ kind: 'close_vm' }, 0, {}, PS)).toBe(0);
    expect(tdxBackend.populatedCount(initMemRegion({ nr_pages: 3 }), -4, { gpa: 0x12 * PS }, PS)).toBe(2);
    expect(tdxBackend.populatedCount(initMemRegion(), 0, {}, PS)).toBe(0);
    expect(tdxBackend.populatedCount({ kind: 'close_vm' }, 0, {}, PS)).toBe(0);
  });
});
