import { expect } from 'vitest';
import { tdxOf } from '../../model/backends/tdx/access.js';
import type { RunResult } from '../../model/scenario/runScenario.js';
import type { Fault, Op } from '../../model/scenario/Scenario.js';
import { BASE_GFN as G, GMEM, PS, SRC, initMemRegion, setupOps } from '../model/fixtures.js';
import { populateTable, type PopulateRow, type Want } from './populateTable.js';

/**
 * Every fault point of a two-page KVM_TDX_INIT_MEM_REGION. A signal is checked three times a
 * page (the ioctl loop, kvm_gmem_populate(), kvm_tdp_mmu_map_private_pfn()); GUP once a page.
 */
const S = setupOps();
const two = (...faults: Fault[]): Op[] => [...S, initMemRegion({ nr_pages: 2, faults })];
const fw = (cmd: string, condition: string, nth = 1): Fault => ({ kind: 'fw', cmd, condition, nth });
const region = (pages: number) => ({ source_addr: SRC + pages * PS, gpa: (G + pages) * PS, nr_pages: 2 - pages });
const at = (ret: number, pages: number): Want => ({ ret, out: region(pages) });

/** The firmware commands issued from the first `kind` operation on. */
const fwAfter = (r: RunResult, kind: Op['kind']): string[] => {
  const at = r.world.log.findIndex((e) => e.kind === 'op_begin' && e.op.kind === kind);
  return r.world.log.slice(at).flatMap((e) => (e.kind === 'fw' ? [e.cmd] : []));
};

const rows: PopulateRow[] = [
  { name: 'GUP #1 -EFAULT', ops: two({ kind: 'gup', nth: 1, result: 'efault' }), want: { '*': at(-14, 0) } },
  { name: 'GUP #1 pins short (a one-page GUP that pins nothing)', ops: two({ kind: 'gup', nth: 1, result: 'short' }), want: { '*': at(-14, 0) } },
  { name: 'GUP #2 -EFAULT', ops: two({ kind: 'gup', nth: 2, result: 'efault' }), want: { '*': at(-14, 1) } },
  { name: 'folio allocation #1 fails', ops: two({ kind: 'alloc', nth: 1, site: 'folio' }), want: { '*': at(-12, 0) } },
  { name: 'kmalloc #2 fails (only rfc-v1 allocates)', ops: two({ kind: 'alloc', nth: 2, site: 'kmalloc' }), want: { '*': at(0, 2), 'rfc-v1': at(-12, 1) } },
  { name: 'signal pending from check #1', ops: two({ kind: 'signal', nth: 1 }), want: { '*': at(-4, 0) } },
  { name: 'signal pending from check #3 (inside the map retry loop)', ops: two({ kind: 'signal', nth: 3 }), want: { '*': at(-4, 0) } },
  { name: 'signal pending from check #4', ops: two({ kind: 'signal', nth: 4 }), want: { '*': at(-4, 1) } },
  {
    name: 'PAGE.ADD #1 tdr_busy: RET_PF_RETRY, retried inside kvm_tdp_mmu_map_private_pfn()',
    ops: two(fw('TDH.MEM.PAGE.ADD', 'tdr_busy')),
    want: {
      '*': { ...at(0, 2), check: (r) => expect(tdxOf(r.world).module.mrtd.filter((e) => e.what === 'MEM.PAGE.ADD')).toHaveLength(2) },
      // v6.16 .. v6.18: -EBUSY, and the gfn stays premapped (pinned, counted) with its folio prepared (B21).
      'v6.17': { ...at(-16, 0), check: (r) => expect([tdxOf(r.world).kvm_tdx.nr_premapped, tdxOf(r.world).mirror.size, [...(r.world.gmem.files.get(GMEM)?.folios.values() ?? [])].map((f) => f.uptodate)]).toEqual([1, 1, [true]]) },
    },
  },
  {
    name: 'MR.EXTEND #1 tdr_busy: TDX_BUG_ON_2, -EIO, the VM is dead',
    ops: two(fw('TDH.MR.EXTEND', 'tdr_busy')),
    want: {
      '*': { ...at(-5, 0), check: (r) => expect(r.world.kvm.vm_bugged).toBe(true) },
      // v6.16 .. v6.18: a plain -EIO; the page stays added and part-measured (G18).
      'v6.17': { ...at(-5, 0), contract: ['failedPageKept', 'measuredPastCount'], check: (r) => expect([r.world.kvm.vm_bugged, tdxOf(r.world).module.sept.size]).toEqual([false, 1]) },
    },
  },
  {
    name: 'MR.EXTEND #17 (the first chunk of page 2) tdr_busy',
    ops: two(fw('TDH.MR.EXTEND', 'tdr_busy', 17)),
    want: { '*': at(-5, 1), 'v6.17': { ...at(-5, 1), contract: ['failedPageKept', 'measuredPastCount'] } },
  },
  {
    name: 'TDH.MR.FINALIZE tdr_busy: -EBUSY, and the TD stays open for population',
    ops: [...S, { kind: 'tdx_finalize_vm', faults: [fw('TDH.MR.FINALIZE', 'tdr_busy')] }, initMemRegion()],
    want: { '*': { ret: 0, out: { nr_pages: 0 }, check: (r) => expect(r.results[4]?.ret).toBe(-16) } },
  },
  {
    name: 'punch_hole: a busy S-EPT removal is retried once (tdh_do_no_vcpus())',
    ops: [...S, initMemRegion(), { kind: 'punch_hole', guest_memfd: GMEM, offset: 0, len: PS, faults: [fw('TDH.MEM.PAGE.REMOVE', 'tdr_busy')] }],
    want: { '*': { ret: 0, check: (r) => expect([r.world.kvm.vm_bugged, tdxOf(r.world).module.sept.size]).toEqual([false, 0]) } },
  },
  {
    name: 'punch_hole: busy twice bugs the VM and leaves the page in the TD',
    ops: [...S, initMemRegion(), { kind: 'punch_hole', guest_memfd: GMEM, offset: 0, len: PS, faults: [fw('TDH.MEM.PAGE.REMOVE', 'tdr_busy'), fw('TDH.MEM.PAGE.REMOVE', 'tdr_busy', 2)] }],
    want: { '*': { ret: 0, check: (r) => expect([r.world.kvm.vm_bugged, tdxOf(r.world).module.sept.size]).toEqual([true, 1]) } },
  },
  {
    // The zap retries only TDX_OPERAND_BUSY; every other status bugs the VM at once.
    name: 'punch_hole: a busy TDH.MEM.RANGE.BLOCK is retried once (tdh_do_no_vcpus())',
    ops: [...S, initMemRegion(), { kind: 'punch_hole', guest_memfd: GMEM, offset: 0, len: PS, faults: [fw('TDH.MEM.RANGE.BLOCK', 'tdr_busy')] }],
    want: { '*': { ret: 0, check: (r) => expect([r.world.kvm.vm_bugged, tdxOf(r.world).module.sept.size]).toEqual([false, 0]) } },
  },
  {
    name: 'after finalize: a busy TDH.MEM.TRACK is retried once (tdh_do_no_vcpus()), and the page is removed',
    ops: [...S, initMemRegion(), { kind: 'tdx_finalize_vm', faults: [] }, { kind: 'punch_hole', guest_memfd: GMEM, offset: 0, len: PS, faults: [fw('TDH.MEM.TRACK', 'tdr_busy')] }],
    want: { '*': { ret: 0, check: (r) => expect([r.world.kvm.vm_bugged, tdxOf(r.world).module.sept.size]).toEqual([false, 0]) } },
  },
  {
    // The epoch a page was blocked in must have been tracked past: a second zap after finalize
    // blocks in epoch 1, and a TRACK that fails leaves the epoch at 1.
    name: 'after finalize: a second zap whose TDH.MEM.TRACK is busy twice cannot remove its page either',
    ops: [...S, initMemRegion({ nr_pages: 2 }), { kind: 'tdx_finalize_vm', faults: [] }, { kind: 'punch_hole', guest_memfd: GMEM, offset: 0, len: PS, faults: [] }, { kind: 'punch_hole', guest_memfd: GMEM, offset: PS, len: PS, faults: [fw('TDH.MEM.TRACK', 'tdr_busy'), fw('TDH.MEM.TRACK', 'tdr_busy', 2)] }],
    want: { '*': { ret: 0, check: (r) => expect([r.world.kvm.vm_bugged, tdxOf(r.world).module.sept.size]).toEqual([true, 1]) } },
  },
  {
    name: 'punch_hole: TDH.MEM.RANGE.BLOCK busy twice bugs the VM before anything is removed',
    ops: [...S, initMemRegion(), { kind: 'punch_hole', guest_memfd: GMEM, offset: 0, len: PS, faults: [fw('TDH.MEM.RANGE.BLOCK', 'tdr_busy'), fw('TDH.MEM.RANGE.BLOCK', 'tdr_busy', 2)] }],
    // Nothing after the BLOCK: no TRACK, REMOVE or WBINVD of a page the TD still maps.
    want: { '*': { ret: 0, check: (r) => expect([r.world.kvm.vm_bugged, tdxOf(r.world).module.sept.size, tdxOf(r.world).module.blocked.size, fwAfter(r, 'punch_hole')]).toEqual([true, 1, 0, ['TDH.MEM.RANGE.BLOCK', 'TDH.MEM.RANGE.BLOCK']]) } },
  },
  {
    name: 'punch_hole: a failed TDH.PHYMEM.PAGE.WBINVD bugs the VM; the removed page keeps its TD-keyed lines',
    ops: [...S, initMemRegion(), { kind: 'punch_hole', guest_memfd: GMEM, offset: 0, len: PS, faults: [fw('TDH.PHYMEM.PAGE.WBINVD', 'wbinvd_error')] }],
    want: { '*': { ret: 0, check: (r) => expect([r.world.kvm.vm_bugged, tdxOf(r.world).module.sept.size, tdxOf(r.world).module.unflushed.size]).toEqual([true, 0, 1]) } },
  },
  {
    name: 'after finalize: TDH.MEM.TRACK busy twice bugs the VM, and the REMOVE finds the epoch untracked',
    ops: [...S, initMemRegion(), { kind: 'tdx_finalize_vm', faults: [] }, { kind: 'punch_hole', guest_memfd: GMEM, offset: 0, len: PS, faults: [fw('TDH.MEM.TRACK', 'tdr_busy'), fw('TDH.MEM.TRACK', 'tdr_busy', 2)] }],
    want: { '*': { ret: 0, check: (r) => expect([r.world.kvm.vm_bugged, tdxOf(r.world).module.sept.size]).toEqual([true, 1]) } },
  },
  { name: 'repopulating a gfn', ops: [...S, initMemRegion(), initMemRegion()], want: { '*': { ret: -5, out: { nr_pages: 1 } }, 'kvm-x86-next-2025.11.07': { ret: -17, out: { nr_pages: 1 } }, 'v6.17': { ret: -17, out: { nr_pages: 1 } } } },
];

populateTable('tdx', 'fault points of KVM_TDX_INIT_MEM_REGION', rows);

