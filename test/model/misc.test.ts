import { describe, expect, test } from 'vitest';
import { REAL_X86_GEOMETRY, geometryProblem, gmemGupNpages, tdxExtendChunkSize } from '../../model/geometry.js';
import { EINVAL, errnoName } from '../../model/kernel/errno.js';
import { ERR_PTR, IS_ERR, NULL, PTR_ERR } from '../../model/kernel/services/errptr.js';
import { IS_ALIGNED, fieldRef } from '../../model/kernel/ref.js';
import { faultKey, faultText } from '../../model/kernel/faults.js';
import { fmtArg } from '../../model/kernel/bind.js';
import { KVM } from '../../model/kernel/services/kvmcore.js';
import { opaqueAs, ENTRY_POINTS } from '../../model/revisions/Revision.js';
import { REVISIONS, revisionById } from '../../model/revisions/registry.js';
import { MUTANTS } from '../../model/revisions/mutants.js';
import { userMmap, userMunmap } from '../../model/scenario/userspace.js';
import { hashBytes } from '../../model/world/hash.js';
import { PROV_FIRMWARE, PROV_GARBAGE, PROV_ZERO, decodeProvenance, provenanceText, userByte, userTag } from '../../model/world/provenance.js';
import { findVma, pfnUserAddress, userPfn } from '../../model/world/userspaceMm.js';
import { createWorld, currentSite } from '../../model/world/World.js';
import { createSnpState } from '../../model/backends/snp/state.js';
import { kernelServices } from '../../model/kernel/Kernel.js';
import { GEO, PS, SRC, eventsOf, smallWorld } from './fixtures.js';

describe('geometry', () => {
  test('names what is wrong, or null', () => {
    expect(geometryProblem(REAL_X86_GEOMETRY)).toBeNull();
    expect(geometryProblem({ ...GEO, page_size: 8 })).toMatch(/^page_size/);
    expect(geometryProblem({ ...GEO, pmd_order: 13 })).toBe('pmd_order must be an integer in 0..12, got 13');
    expect(geometryProblem({ ...GEO, pmd_order: 1.5 })).toMatch(/^pmd_order/);
    expect(geometryProblem({ ...GEO, nr_host_pages: 7 })).toBe('nr_host_pages must be an integer in 8..65536, got 7');
    expect([gmemGupNpages(REAL_X86_GEOMETRY), tdxExtendChunkSize(REAL_X86_GEOMETRY), gmemGupNpages(GEO)]).toEqual([512, 256, 4]);
  });
});

describe('C idioms', () => {
  test('errno names, ERR_PTR, alignment and out-parameters', () => {
    expect([errnoName(-22), errnoName(-133), errnoName(-1000), errnoName(0), errnoName(3)]).toEqual(['-EINVAL', '-EHWPOISON', '-1000', '0', '3']);
    expect([IS_ERR(ERR_PTR(-EINVAL)), IS_ERR(NULL), IS_ERR(-4096), IS_ERR(0x100), PTR_ERR(-5)]).toEqual([true, false, false, false, -5]);
    expect([IS_ALIGNED(128, 64), IS_ALIGNED(65, 64)]).toEqual([true, false]);
    const o = { fw_error: 0 };
    const ref = fieldRef(o, 'fw_error');
    ref.value = 0x16;
    expect([o.fw_error, ref.value]).toEqual([0x16, 0x16]);
  });

  test('fault keys count per kind, and fault texts name the call', () => {
    expect(faultKey({ kind: 'alloc', nth: 1, site: 'folio' })).toBe('alloc:folio');
    expect(faultKey({ kind: 'fw', cmd: 'RMPUPDATE', condition: 'rmp_inuse', nth: 2 })).toBe('fw:RMPUPDATE');
    expect(faultText({ kind: 'signal', nth: 3 })).toBe('signal pending from check #3');
    expect(faultText({ kind: 'alloc', nth: 2, site: 'kmalloc' })).toBe('alloc:kmalloc #2 fails');
  });

  test('fmtArg() prints a negative number of magnitude >= 256 as -0x12c (finding F2)', () => {
    expect([fmtArg(-300), fmtArg(300), fmtArg(-5)]).toEqual(['-0x12c', '0x12c', '-5']);
  });

  test('signal faults stay pending once raised; others hit one call', () => {
    const { w, k } = smallWorld();
    w.faults = { plan: [{ kind: 'signal', nth: 2 }], seen: new Map() };
    expect([1, 2, 3].map(() => k.signal_pending('current'))).toEqual([false, true, true]);
    expect(eventsOf(w, 'fault')).toHaveLength(2);
  });

  test('trace formatting of arguments', () => {
    expect([fmtArg(255), fmtArg(256), fmtArg(-255), fmtArg(1.5), fmtArg(true), fmtArg(null), fmtArg(undefined), fmtArg('x')]).toEqual(['255', '0x100', '-255', '1.5', 'true', 'null', 'undefined', 'x']);
    expect([fmtArg(() => 0), fmtArg(function named() { return 0; }), fmtArg({ ptr: 0x1000 }), fmtArg({ id: 3, base_gfn: 1 }), fmtArg({ tag: 'args' }), fmtArg(KVM), fmtArg({})])
      .toEqual(['fn', 'named', '0x1000', 'slot3', '&args', 'kvm', '{…}']);
    expect([fmtArg(0n), fmtArg(0x8000020000000000n), fmtArg({ vcpu_id: 0, mutex: 'm' }), fmtArg({ id: 'KVM_TDX_INIT_MEM_REGION', flags: 0 })])
      .toEqual(['0', '0x8000020000000000', 'vcpu0', 'KVM_TDX_INIT_MEM_REGION']);
    expect([fmtArg({ err: 0n, entry: 0n }), fmtArg({ err: 1n }), fmtArg({ ret: 0, assigned: true }), fmtArg({ state: 'TD_STATE_RUNNABLE' }), fmtArg({ pfn: 0 })])
      .toEqual(['TDX_SUCCESS', 'err 0x1', '{ret 0, assigned true}', 'TD_STATE_RUNNABLE', '&out']);
  });
});

describe('bug and scheduler services', () => {
  test('WARN*/KVM_BUG* return their condition; only KVM_BUG* bug the VM', () => {
    const { w, k } = smallWorld();
    expect([k.WARN_ON(false), k.WARN_ON_ONCE(true), k.WARN(true, 'm')]).toEqual([false, true, true]);
    expect(w.kvm.vm_bugged).toBe(false);
    expect(k.KVM_BUG(false, KVM, 'x')).toBe(false);
    expect(k.KVM_BUG_ON(true, KVM)).toBe(true);
    expect(w.kvm.vm_bugged).toBe(true);
    expect(eventsOf(w, 'warn').map((e) => `${e.macro}:${e.message}`)).toEqual(['WARN_ON_ONCE:', 'WARN:m', 'KVM_BUG_ON:']);
    k.pr_warn('careful');
    k.pr_debug('quiet');
    expect(eventsOf(w, 'note').map((e) => e.text)).toEqual(['pr_warn: careful']);
  });

  test('an uninitialised variable reads the scenario\'s value for its site, else 0', () => {
    const w = createWorld(GEO, createSnpState(), { 'userspace:i': 3 }, false);
    const k = kernelServices(w);
    expect([k.uninitialized_var('i'), k.uninitialized_var('j')]).toEqual([3, 0]);
    expect(eventsOf(w, 'uninit_use')).toEqual([{ kind: 'uninit_use', site: 'userspace:i', value: 3 }, { kind: 'uninit_use', site: 'userspace:j', value: 0 }]);
    w.stack.push('tdx_gmem_post_populate');
    expect(currentSite(w)).toBe('tdx_gmem_post_populate');
    k.cond_resched();
    expect([k.PAGE_SIZE, k.PAGE_SHIFT, k.PMD_ORDER, k.TDX_EXTENDMR_CHUNKSIZE]).toEqual([PS, 6, 2, 4]);
  });
});

describe('provenance and hashing', () => {
  test('tags decode to their origin', () => {
    expect(decodeProvenance(userTag(0x40001, 2))).toEqual({ kind: 'user', uaddr: 0x40001, generation: 2 });
    expect([PROV_ZERO, PROV_GARBAGE, PROV_FIRMWARE, userTag(0x40000, 1)].map(provenanceText)).toEqual(['zero', 'stale', 'firmware', 'user 0x40000']);
    expect(userByte(SRC, 1)).toBe(userByte(SRC, 1));
    expect(userByte(SRC, 1) === userByte(SRC, 2) && userByte(SRC + 1, 1) === userByte(SRC + 1, 2)).toBe(false);
    expect(hashBytes(new Uint8Array(0))).toBe('811c9dc5');
    expect(hashBytes(new Uint8Array([0x61]))).toBe('e40c292c');
  });
});

describe('the VMM\'s mmap() and munmap()', () => {
  test('maps around holes, refuses overlaps and bad arguments', () => {
    const { w } = smallWorld();
    expect(userMmap(w, SRC, 4 * PS, 'rw', [1, 2])).toBe(0);
    expect(w.mm.vmas.map((v) => [v.start, v.end])).toEqual([[SRC, SRC + PS], [SRC + 3 * PS, SRC + 4 * PS]]);
    expect([userMmap(w, SRC + 3 * PS, PS, 'rw', []), userMmap(w, 0, PS, 'rw', []), userMmap(w, SRC + 1, PS, 'rw', []), userMmap(w, 0x80000, PS + 1, 'rw', [])]).toEqual([-17, -22, -22, -22]);
    expect(userPfn(w.mm, SRC + PS, PS)).toBeUndefined();
    const pfn = userPfn(w.mm, SRC + 3 * PS + 5, PS);
    expect(pfn === undefined ? undefined : pfnUserAddress(w.mm, pfn, PS)).toBe(SRC + 3 * PS);
    expect(pfnUserAddress(w.mm, 0x999, PS)).toBeUndefined();
    expect(findVma(w.mm, SRC + 2 * PS)).toBeUndefined();
  });

  test('running out of memory undoes the partial mapping', () => {
    const { w } = smallWorld('snp', { ...GEO, nr_host_pages: 8 });
    expect(userMmap(w, SRC, 10 * PS, 'rw', [])).toBe(-12);
    expect(w.mm.vmas).toEqual([]);
    expect(w.freeList).toHaveLength(8);
  });

  test('munmap() splits a mapping and drops its page references; a GUP reference outlives it', () => {
    const { w, k } = smallWorld();
    userMmap(w, SRC, 3 * PS, 'ro', []);
    const mid = userPfn(w.mm, SRC + PS, PS) ?? 0;
    k.get_page(mid);
    expect(userMunmap(w, SRC + PS, PS)).toBe(0);
    expect(w.mm.vmas.map((v) => [v.start, v.end, v.prot])).toEqual([[SRC, SRC + PS, 'ro'], [SRC + 2 * PS, SRC + 3 * PS, 'ro']]);
    expect(w.host.pages.find((p) => p.pfn === mid)?.refcount).toBe(1);
    expect([userMunmap(w, SRC + 1, PS), userMunmap(w, SRC, 0)]).toEqual([-22, -22]);
    expect(userMunmap(w, 0x90000, PS)).toBe(0);
  });

  test('re-mapping an address gives its bytes a new generation', () => {
    const { w } = smallWorld();
    userMmap(w, SRC, PS, 'rw', []);
    userMunmap(w, SRC, PS);
    userMmap(w, SRC, PS, 'rw', []);
    const p = w.host.pages.find((x) => x.pfn === userPfn(w.mm, SRC, PS));
    expect(p?.prov[0]).toBe(userTag(SRC, 2));
  });
});

describe('revisions', () => {
  test('the registry lists the modelled revisions oldest first, each with its entry points', () => {
    expect(REVISIONS.map((r) => r.id)).toEqual(['paolo-v1', 'v6.17', 'kvm-x86-next-2025.11.07', 'rfc-v1', 'roth-v2', 'roth-v3-posted', 'v7.0', 'kvm-x86-next', 'inplace-v7', 'inplace-v8', 'rme-v9', 'rme-v12', 'rmi-newest']);
    expect(revisionById('v9.9')).toBeUndefined();
    for (const r of [...REVISIONS, ...MUTANTS]) {
      for (const b of r.backends) for (const entry of ENTRY_POINTS[b]) expect(Object.keys(r.fns)).toContain(entry);
      expect(r.cites.length).toBeGreaterThan(0);
    }
  });

  test('every revision has a title and cites its C as a lore (or other web) link or repo:path@commit', () => {
    const cite = /^(https:\/\/\S+|[\w.-]+\/[\w.-]+:\S+@[0-9a-f]{40})( \(.+\))?$/;
    for (const r of REVISIONS) {
      expect(r.title.length, r.id).toBeGreaterThan(20);
      for (const c of r.cites) expect(c, r.id).toMatch(cite);
    }
  });

  test('every mutant names an existing base and breaks one invariant', () => {
    for (const m of MUTANTS) {
      expect(revisionById(m.base)?.id).toBe(m.base);
      expect(m.id.startsWith(`${m.base}+`)).toBe(true);
    }
  });

  test('opaqueAs() checks the callback argument\'s type', () => {
    const sev = { tag: 'sev_gmem_populate_args' as const, type: 1, sev_fd: 3, fw_error: 0 };
    expect(opaqueAs(sev, 'sev_gmem_populate_args')).toBe(sev);
    expect(() => opaqueAs(sev, 'tdx_gmem_post_populate_arg')).toThrow('post_populate opaque is sev_gmem_populate_args, expected tdx_gmem_post_populate_arg');
  });
});
