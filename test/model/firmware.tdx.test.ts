import { describe, expect, test } from 'vitest';
import { invokeFirmware } from '../../model/backends/firmwareCommand.js';
import { tdxOf } from '../../model/backends/tdx/access.js';
import { TDH_MEM_PAGE_ADD } from '../../model/backends/tdx/firmware/TDH_MEM_PAGE_ADD.js';
import { tdxBackend } from '../../model/backends/tdx/backend.js';
import { TDH_MEM_PAGE_REMOVE } from '../../model/backends/tdx/firmware/TDH_MEM_PAGE_REMOVE.js';
import { TDH_MEM_RANGE_BLOCK } from '../../model/backends/tdx/firmware/TDH_MEM_RANGE_BLOCK.js';
import { TDH_MEM_TRACK } from '../../model/backends/tdx/firmware/TDH_MEM_TRACK.js';
import { TDH_PHYMEM_PAGE_WBINVD } from '../../model/backends/tdx/firmware/TDH_PHYMEM_PAGE_WBINVD.js';
import { TDH_MR_EXTEND } from '../../model/backends/tdx/firmware/TDH_MR_EXTEND.js';
import { TDH_MR_FINALIZE } from '../../model/backends/tdx/firmware/TDH_MR_FINALIZE.js';
import { tdxServices } from '../../model/backends/tdx/services.js';
import { TDX_EPT_ENTRY_NOT_PRESENT, TDX_OPERAND_BUSY, TDX_SHARED_BIT } from '../../model/backends/tdx/uapi.js';
import { allocPage } from '../../model/kernel/pages.js';
import { hashBytes } from '../../model/world/hash.js';
import { PROV_GARBAGE, PROV_ZERO } from '../../model/world/provenance.js';
import type { Fault } from '../../model/scenario/Scenario.js';
import { PS, eventsOf, smallWorld } from './fixtures.js';

const GFN = 0x10;
const CHUNK = PS / 16;

/** A TDX world with a source page (bytes 0..PS-1) and a target page. */
function tdxWorld(...plan: Fault[]) {
  const { w } = smallWorld('tdx');
  const src = allocPage(w, { kind: 'anon' });
  const dst = allocPage(w, { kind: 'gmem', file: 1, index: 0 });
  if (src === undefined || dst === undefined) throw new Error('no pages');
  src.data.forEach((_x, i) => { src.data[i] = i; src.prov[i] = 5000 + i; });
  w.faults = { plan, seen: new Map() };
  return { w, tdx: tdxServices(w), src, dst, add: { gpa: GFN * PS, gfn: GFN, pfn: dst.pfn, source: src.pfn } };
}
const busy = (cmd: string, nth = 1): Fault => ({ kind: 'fw', cmd, condition: 'tdr_busy', nth });

describe('TDH.MEM.PAGE.ADD', () => {
  test('copies the source, maps the S-EPT leaf, and measures the GPA only', () => {
    const { w, src, dst, add } = tdxWorld();
    expect(invokeFirmware(w, TDH_MEM_PAGE_ADD, add).kind).toBe('succeeded');
    expect([...dst.data]).toEqual([...src.data]);
    expect([...dst.prov]).toEqual([...src.prov]);
    const m = tdxOf(w).module;
    expect([m.sept.get(GFN), m.pamt.get(dst.pfn)]).toEqual([dst.pfn, GFN]);
    expect(m.mrtd).toEqual([{ what: 'MEM.PAGE.ADD', gpa: GFN * PS, contents: '' }]);
    expect(eventsOf(w, 'fw')[0]).toMatchObject({ pfn: dst.pfn, grantGpa: GFN * PS });
  });

  test('conditions in order: a forced tdr_busy comes first, then op state, S-EPT, PAMT, source', () => {
    const t = tdxWorld(busy('TDH.MEM.PAGE.ADD'));
    tdxOf(t.w).module.op_state = 'OP_STATE_RUNNABLE';
    expect(invokeFirmware(t.w, TDH_MEM_PAGE_ADD, t.add)).toMatchObject({ condition: 'tdr_busy', status: 'TDX_OPERAND_BUSY' });
    expect(invokeFirmware(t.w, TDH_MEM_PAGE_ADD, t.add)).toMatchObject({ condition: 'td_op_state', status: 'TDX_OP_STATE_INCORRECT' });
    const a = tdxWorld();
    expect(invokeFirmware(a.w, TDH_MEM_PAGE_ADD, a.add).kind).toBe('succeeded');
    expect(invokeFirmware(a.w, TDH_MEM_PAGE_ADD, a.add)).toMatchObject({ condition: 'sept_entry_state', status: 'TDX_EPT_ENTRY_STATE_INCORRECT' });
    expect(invokeFirmware(a.w, TDH_MEM_PAGE_ADD, { ...a.add, gfn: GFN + 1, gpa: (GFN + 1) * PS })).toMatchObject({ condition: 'page_metadata', status: 'TDX_PAGE_METADATA_INCORRECT' });
    expect(invokeFirmware(a.w, TDH_MEM_PAGE_ADD, { ...a.add, gfn: GFN + 1, pfn: a.src.pfn + 5, source: a.dst.pfn })).toMatchObject({ condition: 'source_private', status: 'TDX_OPERAND_INVALID' });
  });

  test('a source that is no page copies garbage', () => {
    const { w, dst, add } = tdxWorld();
    invokeFirmware(w, TDH_MEM_PAGE_ADD, { ...add, source: 0xdead_0000 });
    expect(new Set(dst.prov)).toEqual(new Set([PROV_GARBAGE]));
  });

  test('the SEAMCALL wrapper turns statuses into TDX error codes', () => {
    const { w, tdx, add } = tdxWorld(busy('TDH.MEM.PAGE.ADD'));
    expect(tdx.tdh_mem_page_add('td', add.gpa, add.pfn, add.source)).toEqual({ err: TDX_OPERAND_BUSY, entry: 0n, level_state: 0n });
    expect(tdx.tdx_operand_busy(TDX_OPERAND_BUSY)).toBe(true);
    expect(tdx.tdh_mem_page_add('td', add.gpa, add.pfn, add.source).err).toBe(0n);
    expect(tdxOf(w).module.sept.get(GFN)).toBe(add.pfn);
  });

  test('the wrapper reports a source that is a free page', () => {
    const { w, tdx, src, dst } = tdxWorld();
    expect(tdx.tdh_mem_page_add('td', GFN * PS, dst.pfn, src.pfn).err).toBe(0n);
    expect(eventsOf(w, 'bad_access')).toEqual([]);
    tdx.tdh_mem_page_add('td', (GFN + 1) * PS, dst.pfn + 1, dst.pfn + 2);
    expect(eventsOf(w, 'bad_access').map((e) => e.what)).toEqual(['use_after_free']);
  });
});

describe('TDH.MR.EXTEND', () => {
  test('measures one chunk of the mapped page\'s contents at its GPA', () => {
    const { w, dst, add } = tdxWorld();
    invokeFirmware(w, TDH_MEM_PAGE_ADD, add);
    expect(invokeFirmware(w, TDH_MR_EXTEND, { gpa: add.gpa + CHUNK }).kind).toBe('succeeded');
    expect(tdxOf(w).module.mrtd[1]).toEqual({ what: 'MR.EXTEND', gpa: add.gpa + CHUNK, contents: hashBytes(dst.data.slice(CHUNK, 2 * CHUNK)) });
    expect(eventsOf(w, 'mem_read').at(-1)).toEqual({ kind: 'mem_read', pfn: dst.pfn, offset: CHUNK, len: CHUNK, via: 'firmware' });
  });

  test('the GPA must be chunk-aligned, and mapped', () => {
    const { w, add } = tdxWorld();
    expect(invokeFirmware(w, TDH_MR_EXTEND, { gpa: add.gpa + 1 })).toMatchObject({ condition: 'gpa_alignment', status: 'TDX_OPERAND_INVALID' });
    expect(invokeFirmware(w, TDH_MR_EXTEND, { gpa: add.gpa })).toMatchObject({ condition: 'sept_entry_state', status: 'TDX_EPT_ENTRY_NOT_PRESENT' });
  });

  test('refused after finalization; a forced busy still comes first', () => {
    const { w, add } = tdxWorld(busy('TDH.MR.EXTEND'));
    invokeFirmware(w, TDH_MEM_PAGE_ADD, add);
    expect(invokeFirmware(w, TDH_MR_FINALIZE, {}).kind).toBe('succeeded');
    expect(invokeFirmware(w, TDH_MR_EXTEND, { gpa: add.gpa })).toMatchObject({ condition: 'tdr_busy' });
    expect(invokeFirmware(w, TDH_MR_EXTEND, { gpa: add.gpa })).toMatchObject({ condition: 'td_op_state' });
  });
});

describe('TDH.MR.FINALIZE and TDH.MEM.PAGE.REMOVE', () => {
  test('finalize makes the TD runnable, once', () => {
    const { w } = tdxWorld(busy('TDH.MR.FINALIZE'));
    expect(invokeFirmware(w, TDH_MR_FINALIZE, {})).toMatchObject({ condition: 'tdr_busy' });
    expect(tdxOf(w).module.op_state).toBe('OP_STATE_INITIALIZED');
    expect(invokeFirmware(w, TDH_MR_FINALIZE, {}).kind).toBe('succeeded');
    expect(invokeFirmware(w, TDH_MR_FINALIZE, {})).toMatchObject({ condition: 'td_op_state' });
  });

  test('remove needs a blocked leaf, frees the S-EPT leaf and the PAMT entry; removing nothing is EPT_ENTRY_NOT_PRESENT', () => {
    const { w, tdx, add } = tdxWorld();
    expect(tdx.tdh_mem_page_remove('td', add.gpa).err).toBe(TDX_EPT_ENTRY_NOT_PRESENT);
    invokeFirmware(w, TDH_MEM_PAGE_ADD, add);
    expect(invokeFirmware(w, TDH_MEM_PAGE_REMOVE, { gfn: GFN })).toMatchObject({ condition: 'not_blocked' });
    expect(invokeFirmware(w, TDH_MEM_RANGE_BLOCK, { gfn: GFN }).kind).toBe('succeeded');
    expect(invokeFirmware(w, TDH_MEM_RANGE_BLOCK, { gfn: GFN })).toMatchObject({ condition: 'already_blocked' });
    expect(invokeFirmware(w, TDH_MEM_PAGE_REMOVE, { gfn: GFN }).kind).toBe('succeeded');
    expect([tdxOf(w).module.sept.size, tdxOf(w).module.pamt.size]).toEqual([0, 0]);
  });

  test('a removed page keeps TD-keyed cache lines (not the host\'s) until WBINVD', () => {
    const { w, add } = tdxWorld();
    invokeFirmware(w, TDH_MEM_PAGE_ADD, add);
    invokeFirmware(w, TDH_MEM_RANGE_BLOCK, { gfn: GFN });
    invokeFirmware(w, TDH_MEM_PAGE_REMOVE, { gfn: GFN });
    expect(tdxBackend.ownership(w, add.pfn).kind).toBe('firmware');
    expect(invokeFirmware(w, TDH_PHYMEM_PAGE_WBINVD, { pfn: add.pfn }).kind).toBe('succeeded');
    expect(tdxBackend.ownership(w, add.pfn).kind).toBe('host');
  });

  test('once the TD runs, a leaf blocked in the current epoch cannot be removed before TRACK', () => {
    const { w, add } = tdxWorld();
    invokeFirmware(w, TDH_MEM_PAGE_ADD, add);
    invokeFirmware(w, TDH_MR_FINALIZE, {});
    invokeFirmware(w, TDH_MEM_RANGE_BLOCK, { gfn: GFN });
    expect(invokeFirmware(w, TDH_MEM_PAGE_REMOVE, { gfn: GFN })).toMatchObject({ condition: 'tlb_tracking' });
    expect(invokeFirmware(w, TDH_MEM_TRACK, {}).kind).toBe('succeeded');
    expect(invokeFirmware(w, TDH_MEM_PAGE_REMOVE, { gfn: GFN }).kind).toBe('succeeded');
  });
});

describe('TDX kernel services', () => {
  test('TDX_BUG_ON_2 bugs the VM on any error, and only then', () => {
    const { w, tdx } = tdxWorld();
    expect(tdx.TDX_BUG_ON_2(0n, 'TDH_X', 0n, 0n, null)).toBe(false);
    expect(w.kvm.vm_bugged).toBe(false);
    expect(tdx.TDX_BUG_ON_2(TDX_OPERAND_BUSY, 'TDH_X', 0n, 0n, null)).toBe(true);
    expect(w.kvm.vm_bugged).toBe(true);
    expect(eventsOf(w, 'warn')[0]).toMatchObject({ macro: 'TDX_BUG_ON_2', message: 'SEAMCALL TDH_X failed: 0x8000020000000000' });
  });

  test('private GPAs have the shared bit clear', () => {
    const { tdx } = tdxWorld();
    expect(tdx.vt_is_tdx_private_gpa(null, 0x1000n)).toBe(true);
    expect(tdx.vt_is_tdx_private_gpa(null, BigInt(TDX_SHARED_BIT + 0x1000))).toBe(false);
    // A u64 past 2^53 tested exactly: as a double, 2^64 - 1 rounds to 2^64, whose bit 47 is clear.
    expect(tdx.vt_is_tdx_private_gpa(null, 2n ** 64n - 1n)).toBe(false);
    expect(tdx.vt_is_tdx_private_gpa(null, 2n ** 64n - 2n ** 48n)).toBe(true);
  });

  test('mirror SPTEs are set, read and cleared with fw_state events', () => {
    const { w, tdx } = tdxWorld();
    expect(tdx.tdp_mmu_mirror_spte(null, GFN)).toBe(0);
    tdx.tdp_mmu_set_mirror_spte(null, GFN, 0x105);
    expect(tdx.tdp_mmu_mirror_spte(null, GFN)).toBe(0x105);
    tdx.tdp_mmu_set_mirror_spte(null, GFN, 0);
    expect(eventsOf(w, 'fw_state').map((e) => `${e.before} -> ${e.after}`)).toEqual(['none -> pfn 0x105', 'pfn 0x105 -> none']);
  });

  test('tdx_quirk_reset_page() zeroes a page; kvm_tdx and vcpu state are reachable', () => {
    const { tdx, src } = tdxWorld();
    tdx.tdx_quirk_reset_page(src.pfn);
    expect(new Set(src.prov)).toEqual(new Set([PROV_ZERO]));
    expect(tdx.to_kvm_tdx(null)).toMatchObject({ state: 'TD_STATE_INITIALIZED', page_add_src: 0 });
    expect(tdx.to_tdx({ vcpu_id: 0, mutex: 'vcpu0->mutex' }).state).toBe('VCPU_TD_STATE_INITIALIZED');
    expect(() => tdxOf(smallWorld('snp').w)).toThrow('TDX service used on a snp machine');
  });
});

describe('what the TDX module reports doing', () => {
  // The trace a reviewer reads and --compare diffs: each SEAMCALL's arguments, what the module
  // read and wrote (as the firmware, never the host), and the S-EPT and MRTD entries it changed.
  test('PAGE.ADD, MR.EXTEND, RANGE.BLOCK and PAGE.REMOVE of one page, event by event', () => {
    const { w, src, dst, add } = tdxWorld();
    const at = w.log.length;
    for (const [cmd, args] of [[TDH_MEM_PAGE_ADD, add], [TDH_MR_EXTEND, { gpa: GFN * PS }], [TDH_MEM_RANGE_BLOCK, { gfn: GFN }], [TDH_MEM_PAGE_REMOVE, { gfn: GFN }]] as const) {
      expect(invokeFirmware(w, cmd as typeof TDH_MEM_PAGE_ADD, args as typeof add).kind).toBe('succeeded');
    }
    const hex = (n: number) => `0x${n.toString(16)}`;
    const seen = w.log.slice(at).map((e) => (e.kind === 'fw' ? { kind: e.kind, cmd: e.cmd, args: e.args } : e));
    expect(seen).toEqual([
      { kind: 'fw', cmd: 'TDH.MEM.PAGE.ADD', args: `gfn ${hex(GFN)} pfn ${hex(dst.pfn)} source ${hex(src.pfn)}` },
      { kind: 'mem_read', pfn: src.pfn, offset: 0, len: PS, via: 'firmware' },
      { kind: 'mem_write', pfn: dst.pfn, offset: 0, len: PS, via: 'firmware' },
      { kind: 'fw_state', what: 'sept', key: `gfn ${hex(GFN)}`, before: 'free', after: `mapped pfn ${hex(dst.pfn)}` },
      { kind: 'measure', register: 'MRTD', entry: { what: 'MEM.PAGE.ADD', gpa: GFN * PS, contents: '' } },
      { kind: 'fw', cmd: 'TDH.MR.EXTEND', args: `gpa ${hex(GFN * PS)}` },
      { kind: 'mem_read', pfn: dst.pfn, offset: 0, len: CHUNK, via: 'firmware' },
      { kind: 'measure', register: 'MRTD', entry: { what: 'MR.EXTEND', gpa: GFN * PS, contents: hashBytes(src.data.slice(0, CHUNK)) } },
      { kind: 'fw', cmd: 'TDH.MEM.RANGE.BLOCK', args: `gfn ${hex(GFN)}` },
      { kind: 'fw_state', what: 'sept', key: `gfn ${hex(GFN)}`, before: `mapped pfn ${hex(dst.pfn)}`, after: 'blocked' },
      { kind: 'fw', cmd: 'TDH.MEM.PAGE.REMOVE', args: `gfn ${hex(GFN)}` },
      { kind: 'fw_state', what: 'sept', key: `gfn ${hex(GFN)}`, before: `blocked pfn ${hex(dst.pfn)}`, after: 'free' },
    ]);
  });

  test('MR.FINALIZE, MEM.TRACK and PHYMEM.PAGE.WBINVD: the TD made runnable, the epoch advanced, a removed page written back once', () => {
    const { w, dst, add } = tdxWorld();
    for (const [cmd, args] of [[TDH_MEM_PAGE_ADD, add], [TDH_MEM_RANGE_BLOCK, { gfn: GFN }], [TDH_MEM_PAGE_REMOVE, { gfn: GFN }]] as const) invokeFirmware(w, cmd as typeof TDH_MEM_PAGE_ADD, args as typeof add);
    const at = w.log.length;
    for (const [cmd, args] of [[TDH_MR_FINALIZE, {}], [TDH_MEM_TRACK, {}], [TDH_PHYMEM_PAGE_WBINVD, { pfn: dst.pfn }], [TDH_PHYMEM_PAGE_WBINVD, { pfn: dst.pfn }]] as const) {
      expect(invokeFirmware(w, cmd as typeof TDH_PHYMEM_PAGE_WBINVD, args as { pfn: number }).kind).toBe('succeeded');
    }
    const seen = w.log.slice(at).map((e) => (e.kind === 'fw' ? { kind: e.kind, cmd: e.cmd, args: e.args, pfn: e.pfn, addr: e.addr } : e));
    expect(seen).toEqual([
      { kind: 'fw', cmd: 'TDH.MR.FINALIZE', args: '', pfn: 0, addr: 0 },
      { kind: 'fw_state', what: 'td', key: 'op_state', before: 'OP_STATE_INITIALIZED', after: 'OP_STATE_RUNNABLE' },
      { kind: 'fw', cmd: 'TDH.MEM.TRACK', args: 'td', pfn: 0, addr: 0 },
      { kind: 'fw', cmd: 'TDH.PHYMEM.PAGE.WBINVD', args: `pfn 0x${dst.pfn.toString(16)}`, pfn: dst.pfn, addr: dst.pfn * PS },
      { kind: 'fw_state', what: 'cache', key: `pfn 0x${dst.pfn.toString(16)}`, before: 'TD-keyed lines', after: 'written back' },
      // Nothing left to write back the second time.
      { kind: 'fw', cmd: 'TDH.PHYMEM.PAGE.WBINVD', args: `pfn 0x${dst.pfn.toString(16)}`, pfn: dst.pfn, addr: dst.pfn * PS },
    ]);
    expect([tdxOf(w).module.op_state, tdxOf(w).module.epoch, tdxOf(w).module.unflushed.size]).toEqual(['OP_STATE_RUNNABLE', 1, 0]);
  });
});
