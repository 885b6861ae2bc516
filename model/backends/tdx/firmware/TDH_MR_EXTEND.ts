import { emit } from '../../../world/World.js';
import { hostPage } from '../../../world/hostMemory.js';
import { hashBytes } from '../../../world/hash.js';
import { tdxExtendChunkSize } from '../../../geometry.js';
import { defineFirmwareCommand } from '../../firmwareCommand.js';
import { tdxOf } from '../access.js';

/**
 * TDH.MR.EXTEND (`intel/tdx-module@1666adc4`, tdh_mr_extend.c): extends MRTD with "MR.EXTEND",
 * the GPA and one TDX_EXTENDMR_CHUNKSIZE chunk of the mapped page's contents.
 */
export interface MrExtendArgs {
  readonly gpa: number;
}

export const TDH_MR_EXTEND = defineFirmwareCommand<MrExtendArgs, void>({
  name: 'TDH.MR.EXTEND',
  spec: 'Intel TDX module 1.5 ABI (intel/tdx-module@1666adc4)',
  failures: [
    { id: 'tdr_busy', status: 'TDX_OPERAND_BUSY' },
    { id: 'td_op_state', status: 'TDX_OP_STATE_INCORRECT', when: (_a, w) => tdxOf(w).module.op_state !== 'OP_STATE_INITIALIZED' },
    { id: 'gpa_alignment', status: 'TDX_OPERAND_INVALID', when: (a, w) => a.gpa % tdxExtendChunkSize(w.geo) !== 0 },
    { id: 'sept_entry_state', status: 'TDX_EPT_ENTRY_NOT_PRESENT', when: (a, w) => !tdxOf(w).module.sept.has(Math.floor(a.gpa / w.geo.page_size)) },
  ],
  success: (a, w) => {
    const ps = w.geo.page_size;
    const chunk = tdxExtendChunkSize(w.geo);
    const m = tdxOf(w).module;
    const pfn = m.sept.get(Math.floor(a.gpa / ps)) ?? 0;
    const off = a.gpa % ps;
    const data = hostPage(w.host, pfn)?.data.slice(off, off + chunk) ?? new Uint8Array(chunk);
    emit(w, { kind: 'mem_read', pfn, offset: off, len: chunk, via: 'firmware' });
    const entry = { what: 'MR.EXTEND', gpa: a.gpa, contents: hashBytes(data) };
    m.mrtd.push(entry);
    emit(w, { kind: 'measure', register: 'MRTD', entry });
  },
  describe: (a) => `gpa 0x${a.gpa.toString(16)}`,
});
