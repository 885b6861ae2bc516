import { describe, expect, test } from 'vitest';
import { invokeFirmware, type FirmwareCommand } from '../../model/backends/firmwareCommand.js';
import { ccaOf } from '../../model/backends/cca/access.js';
import { RMI_DATA_CREATE, type DataCreateArgs } from '../../model/backends/cca/rmi/RMI_DATA_CREATE.js';
import { RMI_DATA_DESTROY, RMI_RTT_DATA_UNMAP, type DataDestroyArgs } from '../../model/backends/cca/rmi/RMI_DATA_DESTROY.js';
import { RMI_GRANULE_DELEGATE } from '../../model/backends/cca/rmi/RMI_GRANULE_DELEGATE.js';
import { RMI_GRANULE_RANGE_DELEGATE } from '../../model/backends/cca/rmi/RMI_GRANULE_RANGE.js';
import { RMI_REALM_ACTIVATE } from '../../model/backends/cca/rmi/RMI_REALM.js';
import { RMI_RTT_DATA_MAP_INIT } from '../../model/backends/cca/rmi/RMI_RTT_DATA_MAP_INIT.js';
import { ccaServices } from '../../model/backends/cca/services.js';
import { granuleState } from '../../model/backends/cca/state.js';
import { RMI_ERROR_RTT, RMI_MEASURE_CONTENT, RMI_NO_MEASURE_CONTENT, RMI_RETURN_INDEX, RMI_RETURN_STATUS } from '../../model/backends/cca/uapi.js';
import { kernelServices } from '../../model/kernel/Kernel.js';
import { hashBytes } from '../../model/world/hash.js';
import { PROV_ZERO } from '../../model/world/provenance.js';
import type { Fault } from '../../model/scenario/Scenario.js';
import { fw, realmWorld, type CcaGeometry, type Realm } from './ccaFixtures.js';
import { PS, eventsOf } from './fixtures.js';

/**
 * The RMM's data commands: RMI_DATA_CREATE (RMM 1.0) and RMI_RTT_DATA_MAP_INIT (2.0), which
 * copy, map and measure a granule, and RMI_DATA_DESTROY / RMI_RTT_DATA_UNMAP, which take it
 * back. Realms are NEW (RD 0x4000), the source page is pfn 0x101 (bytes 0..PS-1), the
 * destination guest_memfd page pfn 0x102 (all 0x42), and IPA 0x400 is granule 0 of gfn 0x10.
 */
type DataCmd = FirmwareCommand<DataCreateArgs, void>;
const IPA = 0x400;
const pa = (r: Realm, granule = 0) => r.dst.pfn * PS + granule * r.gs;
const state = (r: Realm, addr: number) => granuleState(ccaOf(r.w), addr);
const args = (r: Realm, granule = 0, o: Partial<DataCreateArgs> = {}): DataCreateArgs => ({
  rd: r.rd, data: pa(r, granule), ipa: IPA + granule * r.gs, src: r.src.pfn * PS + granule * r.gs, flags: RMI_MEASURE_CONTENT, ...o,
});

/** A realm whose destination page's granules are all DELEGATED. */
function delegated(rmm: 'v1.0' | 'v2.0', g: Partial<CcaGeometry> = {}, ...plan: Fault[]): Realm {
  const r = realmWorld(rmm, g, ...plan);
  for (let off = 0; off < PS; off += r.gs) invokeFirmware(r.w, rmm === 'v1.0' ? RMI_GRANULE_DELEGATE : RMI_GRANULE_RANGE_DELEGATE, { addr: pa(r) + off });
  r.w.log.length = 0;
  return r;
}

const creates: readonly [string, DataCmd, 'v1.0' | 'v2.0'][] = [['RMI_DATA_CREATE', RMI_DATA_CREATE, 'v1.0'], ['RMI_RTT_DATA_MAP_INIT', RMI_RTT_DATA_MAP_INIT, 'v2.0']];

describe('RMI_DATA_CREATE / RMI_RTT_DATA_MAP_INIT success', () => {
  test.each(creates)('%s MEASURE: copies the source, makes the granule DATA and ASSIGNED, and measures IPA and contents', (name, cmd, rmm) => {
    const r = delegated(rmm);
    expect(invokeFirmware(r.w, cmd, args(r))).toEqual({ kind: 'succeeded', result: undefined });
    expect([...r.dst.data]).toEqual([...r.src.data]);
    expect([...r.dst.prov]).toEqual([...r.src.prov]);
    const s = ccaOf(r.w);
    expect(state(r, pa(r))).toBe('DATA');
    expect(s.s2tte.get(IPA)).toEqual({ state: 'ASSIGNED', data: 0x4080 });
    const entry = { what: 'DATA MEASURE', gpa: IPA, contents: hashBytes(r.src.data) };
    expect(s.realm.rim).toEqual([entry]);
    expect(eventsOf(r.w, 'measure')).toEqual([{ kind: 'measure', register: 'RIM', entry }]);
    expect(eventsOf(r.w, 'fw')[0]).toMatchObject({ cmd: name, pfn: 0x102, addr: 0x4080, grantGpa: IPA, outcome: { kind: 'succeeded' } });
    const a = args(r);
    expect(eventsOf(r.w, 'fw')[0]?.args).toBe(`data 0x4080 ipa 0x400 src 0x${a.src.toString(16)} flags ${a.flags}`);
    expect(eventsOf(r.w, 'fw_state').map((e) => `${e.what} ${e.key}: ${e.before} -> ${e.after}`)).toEqual(['granule pa 0x4080: DELEGATED -> DATA', 's2tte ipa 0x400: UNASSIGNED -> ASSIGNED pa 0x4080']);
  });

  test.each(creates)('%s NO_MEASURE: the RIM gets the IPA without a content hash', (_name, cmd, rmm) => {
    const r = delegated(rmm);
    invokeFirmware(r.w, cmd, args(r, 0, { flags: RMI_NO_MEASURE_CONTENT }));
    expect(ccaOf(r.w).realm.rim).toEqual([{ what: 'DATA NO_MEASURE', gpa: IPA, contents: '' }]);
    expect([...r.dst.data]).toEqual([...r.src.data]);
  });

  test('a granule of a 4-granule page: only its 16 bytes are copied and hashed', () => {
    const r = delegated('v1.0', { granules_per_page: 4 });
    expect(invokeFirmware(r.w, RMI_DATA_CREATE, args(r, 2)).kind).toBe('succeeded');
    expect([...r.dst.data.subarray(32, 48)]).toEqual([...r.src.data.subarray(32, 48)]);
    expect(new Set([...r.dst.data.subarray(0, 32), ...r.dst.data.subarray(48)])).toEqual(new Set([0x42]));
    expect(ccaOf(r.w).realm.rim).toEqual([{ what: 'DATA MEASURE', gpa: 0x420, contents: hashBytes(r.src.data.subarray(32, 48)) }]);
    expect(ccaOf(r.w).s2tte.get(0x420)).toEqual({ state: 'ASSIGNED', data: 0x40a0 });
    expect(eventsOf(r.w, 'mem_read')).toEqual([{ kind: 'mem_read', pfn: 0x101, offset: 32, len: 16, via: 'firmware' }]);
    // The copy writes the data granule as the RMM (no-double-private and the trace read `via`).
    expect(eventsOf(r.w, 'mem_write')).toEqual([{ kind: 'mem_write', pfn: 0x102, offset: 32, len: 16, via: 'firmware' }]);
  });
});

describe('RMI_DATA_CREATE / RMI_RTT_DATA_MAP_INIT failure conditions', () => {
  interface Row {
    readonly condition: string;
    readonly status?: string;
    readonly index?: number;
    readonly depth?: number;
    readonly prep?: (r: Realm) => void;
    readonly args: (r: Realm) => DataCreateArgs;
  }
  const rows: readonly Row[] = [
    { condition: 'flags_valid', args: (r) => args(r, 0, { flags: 2 }) },
    { condition: 'src_pas', args: (r) => args(r, 0, { src: 0x40 }) },
    { condition: 'src_pas', args: (r) => args(r, 0, { src: r.rd }) },
    { condition: 'rd_state', args: (r) => args(r, 0, { rd: r.src.pfn * PS }) },
    { condition: 'realm_state', status: 'RMI_ERROR_REALM', prep: (r) => void invokeFirmware(r.w, RMI_REALM_ACTIVATE, { rd: r.rd }), args: (r) => args(r) },
    { condition: 'ipa_bound', args: (r) => args(r, 0, { ipa: IPA + 8 }) },
    { condition: 'ipa_bound', args: (r) => args(r, 0, { ipa: 2 ** 39 }) },
    { condition: 'rtt_walk', status: 'RMI_ERROR_RTT', index: 2, depth: 2, args: (r) => args(r) },
    { condition: 'rtt_walk', status: 'RMI_ERROR_RTT', index: 0, depth: 0, args: (r) => args(r) },
    { condition: 'rtte_state', status: 'RMI_ERROR_RTT', index: 3, prep: (r) => ccaOf(r.w).s2tte.set(IPA, { state: 'ASSIGNED', data: r.rd }), args: (r) => args(r) },
    { condition: 'data_state', args: (r) => args(r, 0, { data: pa(r) + 8 }) },
    { condition: 'data_state', args: (r) => args(r, 0, { data: pa(r) + PS }) },
  ];

  test.each(creates)('%s: each condition, with a later src_copy forced, fails with its own status', (name, cmd, rmm) => {
    for (const row of rows) {
      const r = delegated(rmm, { rtt_depth: row.depth ?? 3 }, fw(name, 'src_copy'));
      row.prep?.(r);
      const got = invokeFirmware(r.w, cmd, row.args(r));
      expect(got, row.condition).toEqual({ kind: 'failed', condition: row.condition, status: row.status ?? 'RMI_ERROR_INPUT', index: row.index ?? 0 });
      expect([state(r, pa(r)), ccaOf(r.w).realm.rim.length]).toEqual(['DELEGATED', 0]);
      expect(new Set(r.dst.data)).toEqual(new Set([0x42]));
    }
  });

  test('TF-RMM\'s orders differ: DATA_CREATE checks the data granule before the RD, MAP_INIT after the walk', () => {
    const v1 = realmWorld('v1.0', { rtt_depth: 0 });
    const v2 = realmWorld('v2.0', { rtt_depth: 0 });
    expect(invokeFirmware(v1.w, RMI_DATA_CREATE, args(v1, 0, { rd: 0x40 }))).toMatchObject({ condition: 'data_state' });
    expect(invokeFirmware(v2.w, RMI_RTT_DATA_MAP_INIT, args(v2, 0, { rd: 0x40 }))).toMatchObject({ condition: 'rd_state' });
    expect(invokeFirmware(v2.w, RMI_RTT_DATA_MAP_INIT, args(v2))).toMatchObject({ condition: 'rtt_walk', index: 0 });
  });

  test('a forced src_copy: DATA_CREATE scrubs the data granule, MAP_INIT leaves it; neither maps or measures', () => {
    const v1 = delegated('v1.0', {}, fw('RMI_DATA_CREATE', 'src_copy'));
    expect(invokeFirmware(v1.w, RMI_DATA_CREATE, args(v1))).toEqual({ kind: 'failed', condition: 'src_copy', status: 'RMI_ERROR_INPUT', index: 0 });
    expect(new Set(v1.dst.data)).toEqual(new Set([0]));
    expect(new Set(v1.dst.prov)).toEqual(new Set([PROV_ZERO]));
    const v2 = delegated('v2.0', {}, fw('RMI_RTT_DATA_MAP_INIT', 'src_copy'));
    expect(invokeFirmware(v2.w, RMI_RTT_DATA_MAP_INIT, args(v2))).toMatchObject({ condition: 'src_copy', status: 'RMI_ERROR_INPUT' });
    expect(new Set(v2.dst.data)).toEqual(new Set([0x42]));
    for (const r of [v1, v2]) {
      expect([state(r, pa(r)), ccaOf(r.w).s2tte.size, ccaOf(r.w).realm.rim.length]).toEqual(['DELEGATED', 0, 0]);
      expect(eventsOf(r.w, 'fw')[0]).toMatchObject({ grantGpa: null, outcome: { forced: true } });
    }
  });

  test('src_copy aimed at granule 1 of a 4-granule page fails only that granule', () => {
    const r = delegated('v1.0', { granules_per_page: 4 }, fw('RMI_DATA_CREATE', 'src_copy', 1, 1));
    const kinds = [0, 1, 2, 3].map((g) => invokeFirmware(r.w, RMI_DATA_CREATE, args(r, g)).kind);
    expect(kinds).toEqual(['succeeded', 'failed', 'succeeded', 'succeeded']);
    expect(ccaOf(r.w).realm.rim.map((e) => e.gpa)).toEqual([0x400, 0x420, 0x430]);
    expect([...r.dst.data.subarray(16, 32)]).toEqual(Array<number>(16).fill(0));
  });

  test('the SMC wrapper returns the status in bits 7:0 and the walk level in 15:8', () => {
    const r = delegated('v1.0', { rtt_depth: 2 });
    const k = kernelServices(r.w);
    const cca = ccaServices(r.w, k.get_user_pages_fast);
    const ret = cca.rmi_data_create(r.rd, pa(r), IPA, r.src.pfn * PS, RMI_MEASURE_CONTENT);
    expect([ret, RMI_RETURN_STATUS(ret), RMI_RETURN_INDEX(ret)]).toEqual([0x204, RMI_ERROR_RTT, 2]);
    expect(cca.rmi_data_create(r.rd, pa(r), IPA, r.src.pfn * PS, 2)).toBe(1);
    expect(cca.RMM_PAGE_SIZE()).toBe(PS);
  });

  test('free_page_phys(): PA 0 (no page) frees nothing; a PA that is no host page is a wild pointer; a kernel page is freed', () => {
    const r = delegated('v1.0');
    const cca = ccaServices(r.w, kernelServices(r.w).get_user_pages_fast);
    const page = cca.__get_free_page_phys('rtt');
    cca.free_page_phys(0);
    expect(eventsOf(r.w, 'bad_access')).toHaveLength(0);
    cca.free_page_phys(Number.MAX_SAFE_INTEGER);
    expect(eventsOf(r.w, 'bad_access').map((e) => e.what)).toEqual(['wild_pointer']);
    const free = r.w.freeList.length;
    cca.free_page_phys(page);
    expect(r.w.freeList.length).toBe(free + 1);
  });
});

describe('RMI_DATA_DESTROY / RMI_RTT_DATA_UNMAP', () => {
  const destroys: readonly [string, FirmwareCommand<DataDestroyArgs, number>, DataCmd, 'v1.0' | 'v2.0'][] = [
    ['RMI_DATA_DESTROY', RMI_DATA_DESTROY, RMI_DATA_CREATE, 'v1.0'],
    ['RMI_RTT_DATA_UNMAP', RMI_RTT_DATA_UNMAP, RMI_RTT_DATA_MAP_INIT, 'v2.0'],
  ];
  const mapped = (rmm: 'v1.0' | 'v2.0', create: DataCmd, g: Partial<CcaGeometry> = {}, ...plan: Fault[]): Realm => {
    const r = delegated(rmm, g, ...plan);
    for (let i = 0; i < PS / r.gs; i++) expect(invokeFirmware(r.w, create, args(r, i)).kind).toBe('succeeded');
    r.w.log.length = 0;
    return r;
  };

  test.each(destroys)('%s: the DATA granule goes back to DELEGATED, scrubbed; the entry is UNASSIGNED, RIPAS DESTROYED', (_name, cmd, create, rmm) => {
    const r = mapped(rmm, create);
    expect(invokeFirmware(r.w, cmd, { rd: r.rd, ipa: IPA })).toEqual({ kind: 'succeeded', result: 0x4080 });
    expect(state(r, pa(r))).toBe('DELEGATED');
    expect(ccaOf(r.w).s2tte.get(IPA)).toEqual({ state: 'UNASSIGNED', ripas: 'DESTROYED' });
    expect(new Set(r.dst.prov)).toEqual(new Set([PROV_ZERO]));
    expect(ccaOf(r.w).realm.rim).toHaveLength(1);
    expect(eventsOf(r.w, 'fw')[0]).toMatchObject({ pfn: 0x102, addr: 0x4080, grantGpa: null });
  });

  test.each(destroys)('%s: rd_state, ipa_bound, rtt_walk (with its level), rtte_state, before a forced rmm_defect', (name, cmd, create, rmm) => {
    const force = fw(name, 'rmm_defect');
    const r = mapped(rmm, create, {}, force);
    expect(invokeFirmware(r.w, cmd, { rd: pa(r), ipa: IPA })).toEqual({ kind: 'failed', condition: 'rd_state', status: 'RMI_ERROR_INPUT', index: 0 });
    expect(invokeFirmware(mapped(rmm, create, {}, force).w, cmd, { rd: r.rd, ipa: IPA + 8 })).toMatchObject({ condition: 'ipa_bound', status: 'RMI_ERROR_INPUT' });
    expect(invokeFirmware(mapped(rmm, create, {}, force).w, cmd, { rd: r.rd, ipa: IPA + PS })).toEqual({ kind: 'failed', condition: 'rtte_state', status: 'RMI_ERROR_RTT', index: 3 });
    const shallow = realmWorld(rmm, { rtt_depth: 1 }, force);
    expect(invokeFirmware(shallow.w, cmd, { rd: shallow.rd, ipa: IPA })).toEqual({ kind: 'failed', condition: 'rtt_walk', status: 'RMI_ERROR_RTT', index: 1 });
    expect(state(r, pa(r))).toBe('DATA');
  });

  test.each(destroys)('%s: destroying twice finds the entry UNASSIGNED (rtte_state)', (_name, cmd, create, rmm) => {
    const r = mapped(rmm, create);
    invokeFirmware(r.w, cmd, { rd: r.rd, ipa: IPA });
    expect(invokeFirmware(r.w, cmd, { rd: r.rd, ipa: IPA })).toMatchObject({ condition: 'rtte_state', index: 3 });
  });

  test.each(destroys)('%s: a forced rmm_defect leaves the entry ASSIGNED and the granule DATA, contents intact', (name, cmd, create, rmm) => {
    const r = mapped(rmm, create, {}, fw(name, 'rmm_defect'));
    expect(invokeFirmware(r.w, cmd, { rd: r.rd, ipa: IPA })).toEqual({ kind: 'failed', condition: 'rmm_defect', status: 'RMI_ERROR_INPUT', index: 0 });
    expect([state(r, pa(r)), ccaOf(r.w).s2tte.get(IPA)]).toEqual(['DATA', { state: 'ASSIGNED', data: 0x4080 }]);
    expect([...r.dst.data]).toEqual([...r.src.data]);
  });

  test('rmm_defect aimed at granule 3: the destroy of the page\'s last granule fails, the others succeed', () => {
    const r = mapped('v1.0', RMI_DATA_CREATE, { granules_per_page: 4 }, fw('RMI_DATA_DESTROY', 'rmm_defect', 1, 3));
    const kinds = [0, 1, 2, 3].map((g) => invokeFirmware(r.w, RMI_DATA_DESTROY, { rd: r.rd, ipa: IPA + g * r.gs }).kind);
    expect(kinds).toEqual(['succeeded', 'succeeded', 'succeeded', 'failed']);
    expect([0, 1, 2, 3].map((g) => state(r, pa(r, g)))).toEqual(['DELEGATED', 'DELEGATED', 'DELEGATED', 'DATA']);
  });
});
