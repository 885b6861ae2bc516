import { describe, expect, test } from 'vitest';
import { invokeFirmware, platformConditions, type FirmwareCommand } from '../../model/backends/firmwareCommand.js';
import { ccaOf } from '../../model/backends/cca/access.js';
import { RMI_GRANULE_DELEGATE, type GranuleArgs } from '../../model/backends/cca/rmi/RMI_GRANULE_DELEGATE.js';
import { RMI_GRANULE_RANGE_DELEGATE, RMI_GRANULE_RANGE_UNDELEGATE } from '../../model/backends/cca/rmi/RMI_GRANULE_RANGE.js';
import { RMI_GRANULE_UNDELEGATE } from '../../model/backends/cca/rmi/RMI_GRANULE_UNDELEGATE.js';
import { RMI_REALM_ACTIVATE, RMI_REALM_CREATE, RMI_REALM_DESTROY } from '../../model/backends/cca/rmi/RMI_REALM.js';
import { RMI_RTT_CREATE } from '../../model/backends/cca/rmi/RMI_RTT_CREATE.js';
import { granuleState, rttWalkLevel } from '../../model/backends/cca/state.js';
import { PFN_BASE } from '../../model/world/hostMemory.js';
import { PROV_ZERO } from '../../model/world/provenance.js';
import { fw, realmWorld, type Realm } from './ccaFixtures.js';
import { GEO, PS, eventsOf, smallWorld } from './fixtures.js';

/**
 * The RMM's granule, realm and RTT commands, table by table: each failure condition in order
 * (the first that holds decides; a spec condition beats a later forced platform condition),
 * the forced platform conditions (per call, or aimed at a granule position with `unit`), and
 * the success effects. Realms are NEW with their RD at pfn 0x100, the source at 0x101 and the
 * destination guest_memfd page at 0x102.
 */
type GranuleCmd = FirmwareCommand<GranuleArgs, void>;
const pa = (r: Realm, granule = 0) => r.dst.pfn * PS + granule * r.gs;
const state = (r: Realm, addr: number) => granuleState(ccaOf(r.w), addr);
const OUT_OF_RAM = (PFN_BASE + GEO.nr_host_pages) * PS;

describe('RMI_GRANULE_DELEGATE / RMI_GRANULE_RANGE_DELEGATE', () => {
  const cmds: readonly [string, GranuleCmd, 'v1.0' | 'v2.0'][] = [['RMI_GRANULE_DELEGATE', RMI_GRANULE_DELEGATE, 'v1.0'], ['RMI_GRANULE_RANGE_DELEGATE', RMI_GRANULE_RANGE_DELEGATE, 'v2.0']];

  test.each(cmds)('%s: an UNDELEGATED granule becomes DELEGATED, logged with its address', (name, cmd, rmm) => {
    const r = realmWorld(rmm);
    expect(invokeFirmware(r.w, cmd, { addr: pa(r) })).toEqual({ kind: 'succeeded', result: undefined });
    expect(state(r, pa(r))).toBe('DELEGATED');
    expect(eventsOf(r.w, 'fw')).toEqual([{ kind: 'fw', cmd: name, args: 'addr 0x4080', pfn: 0x102, addr: 0x4080, grantGpa: null, outcome: { kind: 'succeeded' } }]);
    expect(eventsOf(r.w, 'fw_state')).toEqual([{ kind: 'fw_state', what: 'granule', key: 'pa 0x4080', before: 'UNDELEGATED', after: 'DELEGATED' }]);
  });

  test.each(cmds)('%s: gran_align, gran_bound, gran_state in order, each beating a forced gran_gpt', (name, cmd) => {
    const cases: readonly [(r: Realm) => number, string][] = [
      [(r) => pa(r) + 8, 'gran_align'],
      [() => OUT_OF_RAM, 'gran_bound'],
      [() => 0x40, 'gran_bound'],
      [(r) => r.rd, 'gran_state'],
    ];
    for (const [addr, condition] of cases) {
      const r = realmWorld('v1.0', { granules_per_page: 4 }, fw(name, 'gran_gpt'));
      expect(invokeFirmware(r.w, cmd, { addr: addr(r) })).toEqual({ kind: 'failed', condition, status: 'RMI_ERROR_INPUT', index: 0 });
      expect(eventsOf(r.w, 'fw')[0]?.outcome).toMatchObject({ forced: false });
    }
  });

  test.each(cmds)('%s: a forced gran_gpt (EL3 refuses the GPT transition) leaves the granule non-secure', (name, cmd, rmm) => {
    const r = realmWorld(rmm, {}, fw(name, 'gran_gpt'));
    expect(invokeFirmware(r.w, cmd, { addr: pa(r) })).toEqual({ kind: 'failed', condition: 'gran_gpt', status: 'RMI_ERROR_INPUT', index: 0 });
    expect(state(r, pa(r))).toBe('UNDELEGATED');
    expect(eventsOf(r.w, 'fw')[0]?.outcome).toMatchObject({ forced: true });
    expect(eventsOf(r.w, 'fault').map((e) => e.fault)).toEqual([`${name} #1 fails with gran_gpt`]);
    expect(invokeFirmware(r.w, cmd, { addr: pa(r) }).kind).toBe('succeeded');
  });

  test('a fault naming the single-granule command does not force the range command', () => {
    const r = realmWorld('v2.0', {}, fw('RMI_GRANULE_DELEGATE', 'gran_gpt'));
    expect(invokeFirmware(r.w, RMI_GRANULE_RANGE_DELEGATE, { addr: pa(r) }).kind).toBe('succeeded');
  });

  test('`unit` aims the fault at one granule position of a 4-granule page', () => {
    const r = realmWorld('v1.0', { granules_per_page: 4 }, fw('RMI_GRANULE_DELEGATE', 'gran_gpt', 1, 2));
    const kinds = [0, 1, 2, 3].map((g) => invokeFirmware(r.w, RMI_GRANULE_DELEGATE, { addr: pa(r, g) }).kind);
    expect(kinds).toEqual(['succeeded', 'succeeded', 'failed', 'succeeded']);
    expect([0, 1, 2, 3].map((g) => state(r, pa(r, g)))).toEqual(['DELEGATED', 'DELEGATED', 'UNDELEGATED', 'DELEGATED']);
    expect(eventsOf(r.w, 'fault').map((e) => e.fault)).toEqual(['RMI_GRANULE_DELEGATE #1 on granule 2 of a page fails with gran_gpt']);
  });

  test('`unit` counts calls at that position across pages: nth 2 is the second page\'s granule 1', () => {
    const r = realmWorld('v1.0', { granules_per_page: 4 }, fw('RMI_GRANULE_DELEGATE', 'gran_gpt', 2, 1));
    const src = r.src.pfn * PS;
    expect(invokeFirmware(r.w, RMI_GRANULE_DELEGATE, { addr: pa(r, 1) }).kind).toBe('succeeded');
    expect(invokeFirmware(r.w, RMI_GRANULE_DELEGATE, { addr: src }).kind).toBe('succeeded');
    expect(invokeFirmware(r.w, RMI_GRANULE_DELEGATE, { addr: src + r.gs })).toMatchObject({ condition: 'gran_gpt' });
    expect(r.w.faults.seen.get('fw:RMI_GRANULE_DELEGATE@1')).toBe(2);
    expect(r.w.faults.seen.get('fw:RMI_GRANULE_DELEGATE')).toBe(3);
  });
});

describe('RMI_GRANULE_UNDELEGATE / RMI_GRANULE_RANGE_UNDELEGATE', () => {
  const cmds: readonly [string, GranuleCmd, 'v1.0' | 'v2.0'][] = [['RMI_GRANULE_UNDELEGATE', RMI_GRANULE_UNDELEGATE, 'v1.0'], ['RMI_GRANULE_RANGE_UNDELEGATE', RMI_GRANULE_RANGE_UNDELEGATE, 'v2.0']];

  test('a DELEGATED granule comes back scrubbed; the page\'s other granules keep their bytes', () => {
    const r = realmWorld('v1.0', { granules_per_page: 4 });
    invokeFirmware(r.w, RMI_GRANULE_DELEGATE, { addr: pa(r, 1) });
    expect(invokeFirmware(r.w, RMI_GRANULE_UNDELEGATE, { addr: pa(r, 1) }).kind).toBe('succeeded');
    expect(state(r, pa(r, 1))).toBe('UNDELEGATED');
    expect([...r.dst.data]).toEqual([...Array<number>(16).fill(0x42), ...Array<number>(16).fill(0), ...Array<number>(32).fill(0x42)]);
    expect(r.dst.prov.slice(16, 32).every((x) => x === PROV_ZERO)).toBe(true);
    expect(eventsOf(r.w, 'mem_write')).toEqual([{ kind: 'mem_write', pfn: 0x102, offset: 16, len: 16, via: 'firmware' }]);
    expect(eventsOf(r.w, 'fw_state').at(-1)).toMatchObject({ key: 'pa 0x4090', before: 'DELEGATED', after: 'UNDELEGATED' });
  });

  test.each(cmds)('%s: gran_align, gran_bound, then gran_state (only DELEGATED comes back), before a forced gran_gpt', (name, cmd, rmm) => {
    const cases: readonly [(r: Realm) => number, string][] = [
      [(r) => pa(r) + 8, 'gran_align'],
      [() => OUT_OF_RAM, 'gran_bound'],
      [(r) => pa(r), 'gran_state'],
      [(r) => r.rd, 'gran_state'],
    ];
    for (const [addr, condition] of cases) {
      const r = realmWorld(rmm, {}, fw(name, 'gran_gpt'));
      expect(invokeFirmware(r.w, cmd, { addr: addr(r) })).toEqual({ kind: 'failed', condition, status: 'RMI_ERROR_INPUT', index: 0 });
    }
  });

  test.each(cmds)('%s: a forced gran_gpt keeps the granule DELEGATED and its contents unscrubbed', (name, cmd, rmm) => {
    const r = realmWorld(rmm, {}, fw(name, 'gran_gpt', 2));
    const delegate = rmm === 'v1.0' ? RMI_GRANULE_DELEGATE : RMI_GRANULE_RANGE_DELEGATE;
    invokeFirmware(r.w, delegate, { addr: pa(r) });
    expect(invokeFirmware(r.w, cmd, { addr: r.rd }).kind).toBe('failed');
    expect(invokeFirmware(r.w, cmd, { addr: pa(r) })).toEqual({ kind: 'failed', condition: 'gran_gpt', status: 'RMI_ERROR_INPUT', index: 0 });
    expect(state(r, pa(r))).toBe('DELEGATED');
    expect(new Set(r.dst.data)).toEqual(new Set([0x42]));
    expect(eventsOf(r.w, 'mem_write')).toEqual([]);
  });

  test('`unit` 3 fails only the last granule of a 4-granule page', () => {
    const r = realmWorld('v1.0', { granules_per_page: 4 }, fw('RMI_GRANULE_UNDELEGATE', 'gran_gpt', 1, 3));
    for (const g of [0, 1, 2, 3]) invokeFirmware(r.w, RMI_GRANULE_DELEGATE, { addr: pa(r, g) });
    const kinds = [3, 2, 1, 0].map((g) => invokeFirmware(r.w, RMI_GRANULE_UNDELEGATE, { addr: pa(r, g) }).kind);
    expect(kinds).toEqual(['failed', 'succeeded', 'succeeded', 'succeeded']);
    expect(ccaOf(r.w).granules).toEqual(new Map([[r.rd, 'RD'], [pa(r, 3), 'DELEGATED']]));
  });
});

describe('RMI_REALM_CREATE / ACTIVATE / DESTROY', () => {
  test('create: the RD must be DELEGATED; it becomes the RD of a NEW realm', () => {
    const r = realmWorld('v1.0');
    expect(ccaOf(r.w).realm).toMatchObject({ rmm_state: 'REALM_NEW', rd: 0x4000 });
    expect(invokeFirmware(r.w, RMI_REALM_CREATE, { rd: pa(r) })).toEqual({ kind: 'failed', condition: 'rd_state', status: 'RMI_ERROR_INPUT', index: 0 });
    expect(invokeFirmware(r.w, RMI_REALM_CREATE, { rd: r.rd })).toMatchObject({ condition: 'rd_state' });
    expect(platformConditions(RMI_REALM_CREATE)).toEqual([]);
  });

  test('activate: rd_state, then realm_state (REALM_ERROR once active); no target page', () => {
    const r = realmWorld('v1.0');
    expect(invokeFirmware(r.w, RMI_REALM_ACTIVATE, { rd: pa(r) })).toEqual({ kind: 'failed', condition: 'rd_state', status: 'RMI_ERROR_INPUT', index: 0 });
    expect(invokeFirmware(r.w, RMI_REALM_ACTIVATE, { rd: r.rd }).kind).toBe('succeeded');
    expect(ccaOf(r.w).realm.rmm_state).toBe('REALM_ACTIVE');
    expect(invokeFirmware(r.w, RMI_REALM_ACTIVATE, { rd: r.rd })).toEqual({ kind: 'failed', condition: 'realm_state', status: 'RMI_ERROR_REALM', index: 0 });
    expect(eventsOf(r.w, 'fw').map((e) => [e.pfn, e.addr])).toEqual([[0, 0], [0, 0], [0, 0]]);
    expect(eventsOf(r.w, 'fw').map((e) => e.args)).toEqual([pa(r), r.rd, r.rd].map((rd) => `rd 0x${rd.toString(16)}`));
    expect(eventsOf(r.w, 'fw_state')).toEqual([{ kind: 'fw_state', what: 'realm', key: 'state', before: 'REALM_NEW', after: 'REALM_ACTIVE' }]);
  });

  test('destroy: refused while an entry is ASSIGNED; then RTT and RD granules go back to DELEGATED', () => {
    const r = realmWorld('v1.0');
    const s = ccaOf(r.w);
    s.granules.set(pa(r), 'DATA');
    s.s2tte.set(0x400, { state: 'ASSIGNED', data: pa(r) });
    s.granules.set(r.src.pfn * PS, 'RTT');
    expect(invokeFirmware(r.w, RMI_REALM_DESTROY, { rd: pa(r) })).toMatchObject({ condition: 'rd_state', status: 'RMI_ERROR_INPUT' });
    expect(invokeFirmware(r.w, RMI_REALM_DESTROY, { rd: r.rd })).toEqual({ kind: 'failed', condition: 'realm_live', status: 'RMI_ERROR_REALM', index: 0 });
    s.s2tte.set(0x400, { state: 'UNASSIGNED', ripas: 'DESTROYED' });
    expect(invokeFirmware(r.w, RMI_REALM_DESTROY, { rd: r.rd }).kind).toBe('succeeded');
    expect(s.granules).toEqual(new Map([[pa(r), 'DATA'], [r.src.pfn * PS, 'DELEGATED'], [r.rd, 'DELEGATED']]));
    expect([s.rtts.size, s.realm.rd, s.realm.rmm_state]).toEqual([0, 0, 'NONE']);
    // What the trace names: each call's command, the RD it targets and its arguments.
    expect(eventsOf(r.w, 'fw').map((e) => [e.cmd, e.addr, e.args])).toEqual([
      ['RMI_REALM_DESTROY', pa(r), `rd 0x${pa(r).toString(16)}`],
      ['RMI_REALM_DESTROY', r.rd, `rd 0x${r.rd.toString(16)}`],
      ['RMI_REALM_DESTROY', r.rd, `rd 0x${r.rd.toString(16)}`],
    ]);
    // The RD granule, DELEGATED again, makes a new realm.
    expect(invokeFirmware(r.w, RMI_REALM_CREATE, { rd: r.rd }).kind).toBe('succeeded');
    expect(eventsOf(r.w, 'fw').at(-1)).toMatchObject({ cmd: 'RMI_REALM_CREATE', addr: r.rd, args: `rd 0x${r.rd.toString(16)}` });
    expect(eventsOf(r.w, 'fw_state').at(-1)).toEqual({ kind: 'fw_state', what: 'realm', key: 'state', before: 'NONE', after: 'REALM_NEW' });
  });

  test('a CCA service on another machine is a modelling error', () => {
    expect(() => ccaOf(smallWorld('snp').w)).toThrow('Arm CCA service used on a snp machine');
  });
});

describe('RMI_RTT_CREATE', () => {
  const rtt = (r: Realm) => r.src.pfn * PS;
  const delegated = (depth: number, ...plan: ReturnType<typeof fw>[]) => {
    const r = realmWorld('v1.0', { rtt_depth: depth }, ...plan);
    invokeFirmware(r.w, RMI_GRANULE_DELEGATE, { addr: rtt(r) });
    return r;
  };

  test('a DELEGATED granule becomes the level-N table under an existing parent', () => {
    const r = delegated(1);
    expect(rttWalkLevel(ccaOf(r.w), 0x400)).toBe(1);
    // 0x400 lies in the level-2 table at IPA 0, whose base the kernel passes (realm_rtt_create()).
    expect(invokeFirmware(r.w, RMI_RTT_CREATE, { rd: r.rd, rtt: rtt(r), ipa: 0, level: 2 }).kind).toBe('succeeded');
    expect(state(r, rtt(r))).toBe('RTT');
    expect(ccaOf(r.w).rtts.has('2:0')).toBe(true);
    expect(rttWalkLevel(ccaOf(r.w), 0x400)).toBe(2);
    expect(eventsOf(r.w, 'fw').at(-1)?.args).toBe(`rtt 0x${rtt(r).toString(16)} ipa 0x0 level 2`);
    expect(eventsOf(r.w, 'fw_state').at(-1)).toEqual({ kind: 'fw_state', what: 'rtt', key: 'level 2 for ipa 0x0', before: 'missing', after: 'table at 0x4040' });
  });

  test('conditions in order: rtt_state, rd_state, level_range, map_addr, rtt_walk, rtte_exists, each before a forced rmm_defect', () => {
    const force = fw('RMI_RTT_CREATE', 'rmm_defect');
    const undelegated = realmWorld('v1.0', { rtt_depth: 1 }, force);
    expect(invokeFirmware(undelegated.w, RMI_RTT_CREATE, { rd: 0x40, rtt: rtt(undelegated), ipa: 0x400, level: 9 })).toEqual({ kind: 'failed', condition: 'rtt_state', status: 'RMI_ERROR_INPUT', index: 0 });
    const rows: readonly [number, { rd?: number; level: number; ipa?: number }, object][] = [
      [1, { rd: 0x40, level: 9 }, { condition: 'rd_state', status: 'RMI_ERROR_INPUT', index: 0 }],
      [1, { level: 0 }, { condition: 'level_range', status: 'RMI_ERROR_INPUT', index: 0 }],
      [1, { level: 4 }, { condition: 'level_range', status: 'RMI_ERROR_INPUT', index: 0 }],
      // Not the base of what a level-3 table maps (a level-2 entry: 512 granules).
      [2, { level: 3, ipa: 0x400 }, { condition: 'map_addr', status: 'RMI_ERROR_INPUT', index: 0 }],
      [2, { level: 2, ipa: 0x400 }, { condition: 'map_addr', status: 'RMI_ERROR_INPUT', index: 0 }],
      [1, { level: 3 }, { condition: 'rtt_walk', status: 'RMI_ERROR_RTT', index: 1 }],
      [0, { level: 3 }, { condition: 'rtt_walk', status: 'RMI_ERROR_RTT', index: 0 }],
      [2, { level: 2 }, { condition: 'rtte_exists', status: 'RMI_ERROR_RTT', index: 1 }],
    ];
    for (const [depth, a, want] of rows) {
      const r = delegated(depth, force);
      expect(invokeFirmware(r.w, RMI_RTT_CREATE, { rd: a.rd ?? r.rd, rtt: rtt(r), ipa: a.ipa ?? 0, level: a.level })).toEqual({ kind: 'failed', ...want });
      expect(state(r, rtt(r))).toBe('DELEGATED');
    }
  });

  test('a forced rmm_defect fails a create no spec condition refuses', () => {
    const r = delegated(2, fw('RMI_RTT_CREATE', 'rmm_defect'));
    expect(invokeFirmware(r.w, RMI_RTT_CREATE, { rd: r.rd, rtt: rtt(r), ipa: 0, level: 3 })).toEqual({ kind: 'failed', condition: 'rmm_defect', status: 'RMI_ERROR_INPUT', index: 0 });
    expect([state(r, rtt(r)), ccaOf(r.w).rtts.has('3:0')]).toEqual(['DELEGATED', false]);
  });
});
