import { expect } from 'vitest';
import { snpOf } from '../../model/backends/snp/access.js';
import { KVM_SEV_SNP_PAGE_TYPE_CPUID, SEV_RET_INVALID_GUEST_STATE, SEV_RET_INVALID_PARAM, SEV_RET_RESOURCE_LIMIT } from '../../model/backends/snp/uapi.js';
import { PROV_FIRMWARE } from '../../model/world/provenance.js';
import { userPfn } from '../../model/world/userspaceMm.js';
import type { Fault } from '../../model/scenario/Scenario.js';
import { BASE_GFN as G, GMEM, PS, SRC, launchUpdate, page, setupOps } from '../model/fixtures.js';
import { populateTable, type PopulateRow, type Want } from './populateTable.js';

/**
 * Every fault point of a two-page SNP_LAUNCH_UPDATE: GUP (fails or pins short), folio and kmalloc
 * allocation, a pending signal, and each firmware platform condition, at the first and the
 * second call. Counting is per operation and per kind; kvm-x86-next-2025.11.07 (and v6.17, paolo-v1) never call GUP on the SNP path.
 */
const S = setupOps();
const two = (...faults: Fault[]) => [...S, launchUpdate({ npages: 2, faults })];
const fw = (cmd: string, condition: string, nth = 1): Fault => ({ kind: 'fw', cmd, condition, nth });
const fullyDone: Want = { ret: 0, out: { gfn_start: G + 2, len: 0, error: 0 } };
const onePage: Want = { ret: 0, out: { gfn_start: G + 1, uaddr: SRC + PS, len: PS, error: 0 } };
const failed = (error = 0): Want => ({ ret: -5, out: { gfn_start: G, uaddr: SRC, len: 2 * PS, error } });

const rows: PopulateRow[] = [
  { name: 'GUP #1 -EFAULT', ops: two({ kind: 'gup', nth: 1, result: 'efault' }), want: { '*': failed(), 'kvm-x86-next-2025.11.07': fullyDone, 'v6.17': fullyDone, 'paolo-v1': fullyDone } },
  { name: 'GUP #1 pins short', ops: two({ kind: 'gup', nth: 1, result: 'short' }), want: { '*': failed(), 'kvm-x86-next-2025.11.07': fullyDone, 'v6.17': fullyDone, 'paolo-v1': fullyDone } },
  // rfc-v1 pins both pages with one call, so it has no GUP #2.
  { name: 'GUP #2 -EFAULT', ops: two({ kind: 'gup', nth: 2, result: 'efault' }), want: { '*': onePage, 'kvm-x86-next-2025.11.07': fullyDone, 'v6.17': fullyDone, 'paolo-v1': fullyDone, 'rfc-v1': fullyDone } },
  { name: 'folio allocation #1 fails', ops: two({ kind: 'alloc', nth: 1, site: 'folio' }), want: { '*': failed() } },
  { name: 'folio allocation #2 fails', ops: two({ kind: 'alloc', nth: 2, site: 'folio' }), want: { '*': onePage } },
  { name: 'kmalloc #1 fails (only rfc-v1 allocates)', ops: two({ kind: 'alloc', nth: 1, site: 'kmalloc' }), want: { '*': fullyDone, 'rfc-v1': failed() } },
  // paolo-v1's kvm_gmem_populate() checks for no signal.
  { name: 'signal pending from check #1', ops: two({ kind: 'signal', nth: 1 }), want: { '*': failed(), 'paolo-v1': fullyDone } },
  { name: 'signal pending from check #2', ops: two({ kind: 'signal', nth: 2 }), want: { '*': onePage, 'paolo-v1': fullyDone } },
  { name: 'LAUNCH_UPDATE #1 fw_resource', ops: two(fw('SNP_LAUNCH_UPDATE', 'fw_resource')), want: { '*': failed(SEV_RET_RESOURCE_LIMIT) } },
  { name: 'LAUNCH_UPDATE #2 fw_resource', ops: two(fw('SNP_LAUNCH_UPDATE', 'fw_resource', 2)), want: { '*': onePage } },
  {
    name: 'cpuid_table cannot be forced on a NORMAL page (applies guard)',
    ops: two(fw('SNP_LAUNCH_UPDATE', 'cpuid_table')),
    want: { '*': fullyDone },
  },
  {
    name: 'LAUNCH_UPDATE of a CPUID page: cpuid_reserved',
    ops: [...S, launchUpdate({ npages: 2, type: KVM_SEV_SNP_PAGE_TYPE_CPUID, faults: [fw('SNP_LAUNCH_UPDATE', 'cpuid_reserved')] })],
    want: { '*': { ...failed(SEV_RET_INVALID_PARAM), check: (r) => expect(snpOf(r.world).rmp.size).toBe(0) } },
  },
  {
    name: 'LAUNCH_UPDATE of a CPUID page: cpuid_table, the corrected table written back to the source',
    ops: [...S, launchUpdate({ npages: 2, type: KVM_SEV_SNP_PAGE_TYPE_CPUID, faults: [fw('SNP_LAUNCH_UPDATE', 'cpuid_table')] })],
    want: {
      '*': {
        ...failed(SEV_RET_INVALID_PARAM),
        check: (r) => {
          const pfn = userPfn(r.world.mm, SRC, PS);
          expect(pfn === undefined ? [] : [...new Set(page(r.world, pfn).prov)]).toEqual([PROV_FIRMWARE]);
          expect(snpOf(r.world).guest.ld).toEqual([]);
        },
      },
    },
  },
  {
    name: 'RMPUPDATE #1 (rmp_make_private) rmp_inuse: -EFAULT from the callback',
    ops: two(fw('RMPUPDATE', 'rmp_inuse')),
    want: { '*': { ...failed(), check: (r) => expect(r.world.kvm.vm_bugged).toBe(false) } },
  },
  {
    name: 'LAUNCH_UPDATE fails and SNP_PAGE_RECLAIM page_address: the page is leaked and the VM bugged',
    ops: two(fw('SNP_LAUNCH_UPDATE', 'fw_resource'), fw('SNP_PAGE_RECLAIM', 'page_address')),
    want: {
      '*': {
        ...failed(SEV_RET_RESOURCE_LIMIT),
        check: (r) => {
          expect(r.world.kvm.vm_bugged).toBe(true);
          expect(snpOf(r.world).kernel.leaked).toHaveLength(1);
        },
      },
      // SNP v15's reclaim only WARNs and leaks (no KVM_BUG), and the undo punch frees the page
      // at once: leaked, and no longer in the page cache (G20).
      'paolo-v1': {
        ...failed(SEV_RET_RESOURCE_LIMIT),
        check: (r) => {
          expect(r.world.kvm.vm_bugged).toBe(false);
          expect(snpOf(r.world).kernel.leaked).toHaveLength(1);
          expect(r.world.gmem.files.get(GMEM)?.folios.size).toBe(0);
        },
      },
    },
  },
  {
    name: 'a bugged VM refuses the next ioctl with -EIO',
    ops: [...two(fw('SNP_LAUNCH_UPDATE', 'fw_resource'), fw('SNP_PAGE_RECLAIM', 'page_address')), launchUpdate({ at: 2 })],
    want: { '*': { ret: -5, out: {} } },
  },
  {
    name: 'after SNP_LAUNCH_FINISH the guest state refuses LAUNCH_UPDATE (a spec condition, not forced)',
    ops: [...S, { kind: 'snp_launch_finish', faults: [] }, launchUpdate()],
    want: { '*': { ret: -5, out: { error: SEV_RET_INVALID_GUEST_STATE, gfn_start: G } } },
  },
  {
    // Before v7.1 the VMSA is synced and measured again (G26, no-double-private's cases); the
    // firmware refuses the LAUNCH_UPDATE of it. kvm-x86-next (and the in-place series on it)
    // refuses a protected vCPU up front.
    name: 'SNP_LAUNCH_FINISH twice',
    ops: [...S, { kind: 'snp_launch_finish', faults: [] }, { kind: 'snp_launch_finish', faults: [] }],
    want: {
      '*': { ret: -5, out: { error: SEV_RET_INVALID_GUEST_STATE } },
      'kvm-x86-next': { ret: -22, out: { error: 0 } }, 'inplace-v7': { ret: -22, out: { error: 0 } }, 'inplace-v8': { ret: -22, out: { error: 0 } },
    },
  },
];

populateTable('snp', 'fault points of KVM_SEV_SNP_LAUNCH_UPDATE', rows);
