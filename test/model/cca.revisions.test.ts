import { describe, expect, test } from 'vitest';
import { ccaOf } from '../../model/backends/cca/access.js';
import { revisionById } from '../../model/revisions/registry.js';
import type { Revision } from '../../model/revisions/Revision.js';
import { runScenario, type RunResult } from '../../model/scenario/runScenario.js';
import type { Fault, Op } from '../../model/scenario/Scenario.js';
import { ccaScenario, ccaSetupOps, fw, rmiPopulate, type CcaGeometry } from './ccaFixtures.js';
import { BASE_GFN, GMEM, PS, SRC, eventsOf, page } from './fixtures.js';
import { rmeCapSourceIsAlias } from '../../model/backends/cca/backend.js';
import { KVM_MEM_GUEST_MEMFD } from '../../model/world/kvmState.js';
import { EINVAL } from '../../model/kernel/errno.js';

/**
 * The three Arm revisions on tiny explicit scenarios: the RMM 1.0 granule loop and its
 * rollback (rme-v9, rme-v12), what each does when a granule cannot be undelegated, and how
 * each reports progress. A two-page slot with every RTT present: the source is pfns 0x100-0x102,
 * the RD pfn 0x103 (PA 0x40c0), the first guest_memfd page pfn 0x104 (PA 0x4100) at IPA 0x400.
 */
const S = ccaSetupOps({ slotPages: 2 });
const DST = 0x104;
const B = BASE_GFN * PS;

function revisionOf(id: string): Revision {
  const r = revisionById(id);
  if (r === undefined) throw new Error(`no revision ${id}`);
  return r;
}
function run(revision: string, ops: readonly Op[], g: Partial<CcaGeometry> = {}): RunResult {
  return runScenario(ccaScenario(ops, g), revisionOf(revision));
}
const populate = (revision: string, faults: readonly Fault[], npages = 1, g: Partial<CcaGeometry> = {}) => run(revision, [...S, rmiPopulate({ npages, faults })], g);
/** RMI commands of the populate (op 5), as `NAME args`, from the first failed one on. */
function fromFailure(r: RunResult): string[] {
  const fws = eventsOf(r.world, 'fw').map((e) => ({ text: `${e.cmd} ${e.args.split(' src')[0] ?? ''}`, failed: e.outcome.kind === 'failed' }));
  return fws.slice(fws.findIndex((e) => e.failed)).map((e) => e.text);
}
const granules = (r: RunResult, pfn = DST, n = 4) => Array.from({ length: n }, (_x, g) => ccaOf(r.world).granules.get(pfn * PS + (g * PS) / n) ?? 'UNDELEGATED');

describe('the RMM 1.0 granule loop (4 granules a page)', () => {
  test.each(['rme-v9', 'rme-v12'])('%s: granule 2\'s copy fails; it is undelegated, then 1 and 0 are destroyed and undelegated in reverse; -ENXIO', (revision) => {
    const r = populate(revision, [fw('RMI_DATA_CREATE', 'src_copy', 1, 2)], 1, { granules_per_page: 4 });
    expect(r.results[5]?.ret).toBe(-6);
    expect(fromFailure(r)).toEqual([
      'RMI_DATA_CREATE data 0x4120 ipa 0x420',
      'RMI_GRANULE_UNDELEGATE addr 0x4120',
      'RMI_DATA_DESTROY ipa 0x410', 'RMI_GRANULE_UNDELEGATE addr 0x4110',
      'RMI_DATA_DESTROY ipa 0x400', 'RMI_GRANULE_UNDELEGATE addr 0x4100',
    ]);
    expect(granules(r)).toEqual(['UNDELEGATED', 'UNDELEGATED', 'UNDELEGATED', 'UNDELEGATED']);
    expect(ccaOf(r.world).s2tte.get(0x410)).toEqual({ state: 'UNASSIGNED', ripas: 'DESTROYED' });
    // The RIM keeps the two rolled-back granules' entries (G10).
    expect(ccaOf(r.world).realm.rim.map((e) => e.gpa)).toEqual([0x400, 0x410]);
  });

  test('rme-v12: a delegate that fails on granule 1 rolls back granule 0 only; granule 1 was never delegated', () => {
    const r = populate('rme-v12', [fw('RMI_GRANULE_DELEGATE', 'gran_gpt', 1, 1)], 1, { granules_per_page: 4 });
    expect(r.results[5]?.ret).toBe(-6);
    expect(fromFailure(r)).toEqual(['RMI_GRANULE_DELEGATE addr 0x4110', 'RMI_DATA_DESTROY ipa 0x400', 'RMI_GRANULE_UNDELEGATE addr 0x4100']);
    expect(page(r.world, DST).refcount).toBe(1);
  });

  test('rme-v12 on a 16-granule page populates 16 granules and measures each', () => {
    const r = populate('rme-v12', [], 1, { granules_per_page: 16 });
    expect(r.results[5]?.ret).toBe(PS);
    expect(granules(r, DST, 16)).toEqual(Array<string>(16).fill('DATA'));
    expect(ccaOf(r.world).realm.rim.map((e) => e.gpa)).toEqual(Array.from({ length: 16 }, (_x, g) => 0x400 + g * 4));
  });
});

describe('a granule that cannot be undelegated', () => {
  const undelegateFails = [fw('RMI_DATA_CREATE', 'src_copy'), fw('RMI_GRANULE_UNDELEGATE', 'gran_gpt')];

  test.each([['rme-v9', 3], ['rme-v12', 2]] as const)('%s: WARN_ON, then get_page() so the host never reuses the page (refcount %i)', (revision, refcount) => {
    const r = populate(revision, undelegateFails);
    expect(r.results[5]?.ret).toBe(-6);
    expect(eventsOf(r.world, 'page_ref').filter((e) => e.via === 'get_page').map((e) => e.pfn)).toEqual([DST]);
    expect(eventsOf(r.world, 'warn').map((e) => e.macro)).toEqual(['WARN_ON']);
    expect([page(r.world, DST).refcount, granules(r, DST, 1)[0], r.world.kvm.vm_bugged]).toEqual([refcount, 'DELEGATED', false]);
  });

  test('rmi-newest: KVM_BUG_ON(), no reference; the bugged VM refuses the next populate with -EIO', () => {
    const r = run('rmi-newest', [...S, rmiPopulate({ faults: [fw('RMI_RTT_DATA_MAP_INIT', 'src_copy'), fw('RMI_GRANULE_RANGE_UNDELEGATE', 'gran_gpt')] }), rmiPopulate({ at: 1 })]);
    expect(r.results.map((x) => x.ret).slice(5)).toEqual([-6, -5]);
    expect(eventsOf(r.world, 'warn').map((e) => e.macro)).toEqual(['KVM_BUG_ON']);
    expect(eventsOf(r.world, 'page_ref').filter((e) => e.via === 'get_page')).toEqual([]);
    expect([r.world.kvm.vm_bugged, page(r.world, DST).refcount, granules(r, DST, 1)[0]]).toEqual([true, 1, 'DELEGATED']);
  });
});

describe('progress reporting', () => {
  const page2Fails: Record<string, Fault> = {
    'rme-v9': fw('RMI_DATA_CREATE', 'src_copy', 2),
    'rme-v12': fw('RMI_DATA_CREATE', 'src_copy', 2),
    'rmi-newest': fw('RMI_RTT_DATA_MAP_INIT', 'src_copy', 2),
  };
  const fault = (revision: string): Fault => {
    const f = page2Fails[revision];
    if (f === undefined) throw new Error(revision);
    return f;
  };

  test('rme-v12 returns the bytes populated: all of them, or those before the failing page', () => {
    expect(populate('rme-v12', [], 2).results[5]).toMatchObject({ ret: 2 * PS, out: { reported: 2 } });
    const r = populate('rme-v12', [fault('rme-v12')], 2);
    expect(r.results[5]).toMatchObject({ ret: PS, out: { reported: 1 } });
    expect(granules(r, DST, 1)).toEqual(['DATA']);
  });

  test('rmi-newest writes base/size/source_uaddr back and returns 0 on partial progress', () => {
    expect(populate('rmi-newest', [], 2).results[5]).toMatchObject({ ret: 0, out: { base: B + 2 * PS, size: 0, source_uaddr: SRC + 2 * PS } });
    expect(populate('rmi-newest', [fault('rmi-newest')], 2).results[5]).toMatchObject({ ret: 0, out: { base: B + PS, size: PS, source_uaddr: SRC + PS } });
    expect(populate('rmi-newest', [fw('RMI_RTT_DATA_MAP_INIT', 'src_copy')], 2).results[5]).toMatchObject({ ret: -6, out: { base: B, size: 2 * PS, source_uaddr: SRC } });
  });

  test('rme-v9 returns 0 or an error: a failure on page 2 reports nothing, though page 1 is DATA and measured (G9)', () => {
    expect(populate('rme-v9', [], 2).results[5]).toMatchObject({ ret: 0, out: { reported: 2 } });
    const r = populate('rme-v9', [fault('rme-v9')], 2);
    expect(r.results[5]).toMatchObject({ ret: -6, out: { reported: 0 } });
    expect([granules(r, DST, 1)[0], ccaOf(r.world).realm.rim.map((e) => e.gpa)]).toEqual(['DATA', [0x400]]);
  });
});

describe('realm creation', () => {
  test('rme-v9 needs KVM_CAP_ARM_RME_CREATE_REALM first, once', () => {
    const noRealm = run('rme-v9', [...S.filter((op) => op.kind !== 'arm_realm_create'), rmiPopulate()]);
    expect(noRealm.results.at(-1)?.ret).toBe(-1);
    const twice = run('rme-v9', [...S, { kind: 'arm_realm_create', faults: [] }]);
    expect(twice.results.map((x) => x.ret).slice(4)).toEqual([0, -17]);
  });

  test.each(['rme-v12', 'rmi-newest'])('%s has no CREATE_REALM; the first populate creates the realm', (revision) => {
    const r = populate(revision, []);
    expect(r.results[4]?.ret).toBe(-22);
    expect([ccaOf(r.world).kernel.state, ccaOf(r.world).realm.rd]).toEqual(['REALM_STATE_NEW', 0x40c0]);
  });
});

describe('realm activation (the first vCPU run)', () => {
  const activate: Op = { kind: 'arm_realm_activate', faults: [] };
  const noCreate = S.filter((op) => op.kind !== 'arm_realm_create');
  const states = (r: RunResult) => eventsOf(r.world, 'fw_state').filter((e) => e.what === 'kvm realm').map((e) => e.after);

  test('rme-v9: only a NEW realm activates; before KVM_CAP_ARM_RME_CREATE_REALM it is -EINVAL, no realm is made, and a later create and populate succeed', () => {
    const r = run('rme-v9', [...noCreate, activate, { kind: 'arm_realm_create', faults: [] }, rmiPopulate()]);
    expect(r.results.map((x) => x.ret).slice(4)).toEqual([-22, 0, 0]);
    expect(ccaOf(r.world).kernel.state).toBe('REALM_STATE_NEW');
    expect(eventsOf(r.world, 'fw').map((e) => e.cmd)).not.toContain('RMI_REALM_ACTIVATE');
  });

  test('rme-v12 (11/46, 22/46): before any populate, activation creates the realm (RD delegated, RMI_REALM_CREATE), marks it DEAD, activates it; a populate after it gets -EBUSY', () => {
    const r = run('rme-v12', [...noCreate, activate, rmiPopulate()]);
    expect(r.results.map((x) => x.ret).slice(4)).toEqual([0, -16]);
    expect(eventsOf(r.world, 'fw').map((e) => e.cmd)).toEqual(['RMI_GRANULE_DELEGATE', 'RMI_REALM_CREATE', 'RMI_REALM_ACTIVATE']);
    expect(states(r)).toEqual(['REALM_STATE_NEW', 'REALM_STATE_DEAD', 'REALM_STATE_ACTIVE']);
    expect([ccaOf(r.world).realm.rmm_state, ccaOf(r.world).realm.rd, ccaOf(r.world).realm.rim]).toEqual(['REALM_ACTIVE', 0x40c0, []]);
    // -EBUSY from realm_ensure_created(), before kvm_gmem_populate(): no folio, no DATA.
    expect([page(r.world, DST).owner.kind, ccaOf(r.world).s2tte.size]).toEqual(['free', 0]);
  });

  test('rme-v12: a second activation returns 0 at once; after a populate, activation activates the realm the populate created', () => {
    const twice = run('rme-v12', [...noCreate, activate, activate]);
    expect(twice.results.map((x) => x.ret).slice(4)).toEqual([0, 0]);
    expect(eventsOf(twice.world, 'fw').map((e) => e.cmd)).toEqual(['RMI_GRANULE_DELEGATE', 'RMI_REALM_CREATE', 'RMI_REALM_ACTIVATE']);
    const after = run('rme-v12', [...noCreate, rmiPopulate(), activate, rmiPopulate({ at: 1 })]);
    expect(after.results.map((x) => x.ret).slice(4)).toEqual([PS, 0, -16]);
    expect(states(after)).toEqual(['REALM_STATE_NEW', 'REALM_STATE_DEAD', 'REALM_STATE_ACTIVE']);
  });

  test('rme-v12: when creating the realm fails (the RD page), activation returns -ENOMEM before DEAD: the realm stays NONE and a populate creates it', () => {
    const r = run('rme-v12', [...noCreate, { kind: 'arm_realm_activate', faults: [{ kind: 'alloc', site: 'kmalloc', nth: 1 }] }, rmiPopulate()]);
    expect(r.results.map((x) => x.ret).slice(4)).toEqual([-12, PS]);
    expect(states(r)).toEqual(['REALM_STATE_NEW']);
  });

  test('rme-v12 (12/46): when a page of the REC cannot be had, activation returns -ENOMEM after DEAD: every later populate and activation gets -ENXIO', () => {
    const recFails: Op = { kind: 'arm_realm_activate', faults: [{ kind: 'alloc', site: 'kmalloc', nth: 2 }] };
    const r = run('rme-v12', [...noCreate, recFails, rmiPopulate(), activate]);
    expect(r.results.map((x) => x.ret).slice(4)).toEqual([-12, -6, -6]);
    expect(states(r)).toEqual(['REALM_STATE_NEW', 'REALM_STATE_DEAD']);
    expect(eventsOf(r.world, 'fw').map((e) => e.cmd)).toEqual(['RMI_GRANULE_DELEGATE', 'RMI_REALM_CREATE']);
  });
});

// What the backend assumes when a scenario or a revision leaves the Arm settings out (the schema
// makes a scenario's `cca` optional; a --revision-module need not give `arm`): one granule a
// page, no RTT present yet, RMM 2.0 with KVM_ARM_RMI_POPULATE's written-back uAPI.
describe('defaults', () => {
  test('a scenario without a cca section: one granule a page, every RTT created by the populate', () => {
    const { cca: _cca, ...bare } = ccaScenario([...S, rmiPopulate()]);
    const r = runScenario(bare, revisionOf('rme-v12'));
    expect(r.results.at(-1)?.ret).toBe(PS);
    expect(ccaOf(r.world).granule_size).toBe(PS);
    expect(eventsOf(r.world, 'fw').filter((e) => e.cmd === 'RMI_RTT_CREATE')).toHaveLength(3);
  });

  test('a cca revision without `arm`: RMM 2.0, private gfns from the VM\'s memory attributes, written-back progress', () => {
    const { arm: _arm, ...bare } = revisionOf('rmi-newest');
    const r = runScenario(ccaScenario([...S, rmiPopulate({ npages: 2 })]), bare);
    expect([ccaOf(r.world).rmm, r.world.kvm.private_tracking]).toEqual(['v2.0', 'vm-attributes']);
    expect(r.results.at(-1)).toMatchObject({ ret: 0, out: { base: B + 2 * PS, size: 0, source_uaddr: SRC + 2 * PS } });
  });
});

// rme-v9's uAPI takes each page's source from its memslot's shared alias (backend.ts
// rmeCapSourceIsAlias()): a range that ends at its slot's last page is sendable even when the
// next slot's alias lies elsewhere; one that runs into that slot is not.
test('rme-v9: a range up to its slot\'s end is its alias; one page more, into a slot mapped elsewhere, is not', () => {
  const elsewhere = SRC + 16 * PS;
  const second: Op = { kind: 'set_user_memory_region2', slot: 1, flags: KVM_MEM_GUEST_MEMFD, guest_phys_addr: (BASE_GFN + 2) * PS, memory_size: PS, userspace_addr: elsewhere, guest_memfd: GMEM, guest_memfd_offset: BigInt(2 * PS) };
  const r = run('rme-v9', [...S, second]);
  expect(r.results.map((x) => x.ret).at(-1)).toBe(0);
  const alias = (npages: number) => rmeCapSourceIsAlias(r.world, rmiPopulate({ npages }));
  expect([alias(2), alias(3)]).toEqual([true, false]);
});

// KVM_ARM_RMI_POPULATE copies the struct back after each call, and a fault there replaces the
// call's result with -EFAULT, which is all userspace sees. The outcome's `lost` result (what the
// invariants count progress from) is 0 when the fields moved, as RN moves them only on success;
// with nothing moved the call's own error is not kept, so it stays the ioctl's -EFAULT.
test('rmi-newest, read-only struct: the copy back faults; the lost result is 0 only when the fields moved', () => {
  const ro = (faults: readonly Fault[]) => run('rmi-newest', [...S, rmiPopulate({ npages: 2, arg_readonly: true, faults })]).results[5];
  expect(ro([fw('RMI_RTT_DATA_MAP_INIT', 'src_copy')])).toMatchObject({ ret: -14, lost: { ret: -14, out: { base: B, size: 2 * PS } } });
  expect(ro([])).toMatchObject({ ret: -14, lost: { ret: 0, out: { base: B + 2 * PS, size: 0 } } });
});

test('rme-v9: a page whose IPA outlived its punch-hole (RMI_DATA_DESTROY failed) is refused on its next populate, the RMM\'s RTT error WARNed at the last level', () => {
  const r = run('rme-v9', [...S, rmiPopulate(), { kind: 'punch_hole', guest_memfd: GMEM, offset: 0, len: PS, faults: [fw('RMI_DATA_DESTROY', 'rmm_defect')] }, rmiPopulate({ at: 1 }), rmiPopulate()]);
  expect(r.results.slice(5).map((x) => x.ret)).toEqual([0, 0, 0, -6]);
  expect(eventsOf(r.world, 'warn').map((e) => `${e.macro}@${e.site}`)).toEqual(['WARN_ON@realm_destroy_private_granule', 'WARN_ON@realm_create_protected_data_granule']);
});

describe('a guest_memfd created INIT_SHARED | MMAP', () => {
  const shared = S.map((op) => (op.kind === 'create_guest_memfd' ? { ...op, flags: 3n } : op));
  const ops: Op[] = [...shared, { kind: 'gmem_user_fault', guest_memfd: GMEM, offset: 0, write: true }, rmiPopulate()];

  test('rmi-newest (kamalca guest_memfd.c@6f122715) takes it on a realm: the host faults a shared index in, cleared and uptodate; a populate of it is -EINVAL and delegates no data granule', () => {
    const r = run('rmi-newest', ops);
    expect(r.results[0]?.ret).toBe(GMEM);
    expect(r.results.at(-2)?.ret).toBe(0);
    const folio = r.world.gmem.files.get(GMEM)?.folios.get(0);
    expect(folio?.uptodate).toBe(true);
    expect(r.results.at(-1)).toMatchObject({ ret: -EINVAL, out: { base: B, reported: 0 } });
    expect(eventsOf(r.world, 'fw').map((e) => e.cmd)).toEqual(['RMI_GRANULE_RANGE_DELEGATE', 'RMI_REALM_CREATE']);
  });

  test('rme-v12 refuses the flag (its realm populate of a shared gfn is not modelled): -EINVAL, no file', () => {
    expect(run('rme-v12', ops).results[0]?.ret).toBe(-EINVAL);
  });
});
