import { emit } from '../../../world/World.js';
import { isValidPfn } from '../../../world/hostMemory.js';
import { PROV_GARBAGE } from '../../../world/provenance.js';
import { fillBytes, readPage, writePage } from '../../../kernel/services/memory.js';
import { defineFirmwareCommand } from '../../firmwareCommand.js';
import { tdxOf } from '../access.js';

/**
 * TDH.MEM.PAGE.ADD (`intel/tdx-module@1666adc4`, tdh_mem_page_add.c): copies the (shared)
 * source page into the target page with the TD's key, maps it in the S-EPT and extends MRTD
 * with "MEM.PAGE.ADD" and the GPA only: the contents are not measured here.
 * (assumed) status names for the op-state, PAMT and source checks, which the module source
 * reports through generic helpers.
 */
export interface PageAddArgs {
  readonly gpa: number;
  readonly gfn: number;
  readonly pfn: number;
  readonly source: number;
}

export const TDH_MEM_PAGE_ADD = defineFirmwareCommand<PageAddArgs, void>({
  name: 'TDH.MEM.PAGE.ADD',
  spec: 'Intel TDX module 1.5 ABI (intel/tdx-module@1666adc4)',
  failures: [
    { id: 'tdr_busy', status: 'TDX_OPERAND_BUSY' },
    { id: 'td_op_state', status: 'TDX_OP_STATE_INCORRECT', when: (_a, w) => tdxOf(w).module.op_state !== 'OP_STATE_INITIALIZED' },
    { id: 'sept_entry_state', status: 'TDX_EPT_ENTRY_STATE_INCORRECT', when: (a, w) => tdxOf(w).module.sept.has(a.gfn) },
    { id: 'page_metadata', status: 'TDX_PAGE_METADATA_INCORRECT', when: (a, w) => tdxOf(w).module.pamt.has(a.pfn) },
    { id: 'source_private', status: 'TDX_OPERAND_INVALID', when: (a, w) => tdxOf(w).module.pamt.has(a.source) },
  ],
  success: (a, w) => {
    const m = tdxOf(w).module;
    const ps = w.geo.page_size;
    const bytes = isValidPfn(w.host, a.source) ? readPage(w, a.source, 0, ps, 'firmware') : fillBytes(ps, 0, PROV_GARBAGE);
    writePage(w, a.pfn, 0, bytes, 'firmware');
    m.sept.set(a.gfn, a.pfn);
    m.pamt.set(a.pfn, a.gfn);
    emit(w, { kind: 'fw_state', what: 'sept', key: `gfn 0x${a.gfn.toString(16)}`, before: 'free', after: `mapped pfn 0x${a.pfn.toString(16)}` });
    const entry = { what: 'MEM.PAGE.ADD', gpa: a.gfn * ps, contents: '' };
    m.mrtd.push(entry);
    emit(w, { kind: 'measure', register: 'MRTD', entry });
  },
  target: (a, w) => a.pfn * w.geo.page_size,
  grants: (a) => a.gpa,
  describe: (a) => `gfn 0x${a.gfn.toString(16)} pfn 0x${a.pfn.toString(16)} source 0x${a.source.toString(16)}`,
});
