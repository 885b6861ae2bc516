import { emit } from '../../../world/World.js';
import { defineFirmwareCommand } from '../../firmwareCommand.js';
import { tdxOf } from '../access.js';

/**
 * TDH.MEM.PAGE.REMOVE of a blocked 4K private leaf (`intel/tdx-module@1666adc4`,
 * tdh_mem_page_remove.c): the page leaves the TD (PAMT entry free), but cache lines written
 * under the TD's key may remain until TDH.PHYMEM.PAGE.WBINVD, so it is not the host's yet.
 * The module checks that the removal's TLB epoch was tracked (is_tlb_tracked()); before the TD
 * is runnable no vCPU has used a translation, and KVM's tdx_track() skips TRACK there, so the
 * model requires tracking only once the TD runs (assumed from that KVM comment).
 */
export interface PageRemoveArgs {
  readonly gfn: number;
}

export const TDH_MEM_PAGE_REMOVE = defineFirmwareCommand<PageRemoveArgs, void>({
  name: 'TDH.MEM.PAGE.REMOVE',
  spec: 'Intel TDX module 1.5 ABI (intel/tdx-module@1666adc4)',
  failures: [
    { id: 'tdr_busy', status: 'TDX_OPERAND_BUSY' },
    { id: 'sept_entry_state', status: 'TDX_EPT_ENTRY_NOT_PRESENT', when: (a, w) => !tdxOf(w).module.sept.has(a.gfn) },
    { id: 'not_blocked', status: 'TDX_GPA_RANGE_NOT_BLOCKED', when: (a, w) => !tdxOf(w).module.blocked.has(a.gfn) },
    {
      id: 'tlb_tracking',
      status: 'TDX_TLB_TRACKING_NOT_DONE',
      when: (a, w) => {
        const m = tdxOf(w).module;
        return m.op_state === 'OP_STATE_RUNNABLE' && (m.blocked.get(a.gfn) ?? 0) >= m.epoch;
      },
    },
  ],
  success: (a, w) => {
    const m = tdxOf(w).module;
    const pfn = m.sept.get(a.gfn);
    m.sept.delete(a.gfn);
    m.blocked.delete(a.gfn);
    if (pfn !== undefined) {
      m.pamt.delete(pfn);
      m.unflushed.add(pfn);
    }
    emit(w, { kind: 'fw_state', what: 'sept', key: `gfn 0x${a.gfn.toString(16)}`, before: `blocked pfn 0x${(pfn ?? 0).toString(16)}`, after: 'free' });
  },
  describe: (a) => `gfn 0x${a.gfn.toString(16)}`,
});
