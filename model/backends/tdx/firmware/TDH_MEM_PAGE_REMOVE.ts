import { emit } from '../../../world/World.js';
import { defineFirmwareCommand } from '../../firmwareCommand.js';
import { tdxOf } from '../access.js';

/**
 * The S-EPT removal sequence KVM issues for a private leaf (TDH.MEM.RANGE.BLOCK,
 * TDH.MEM.TRACK, TDH.MEM.PAGE.REMOVE, then TDH.PHYMEM.PAGE.WBINVD), folded into one command:
 * afterwards the page is no longer the TD's.
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
  ],
  success: (a, w) => {
    const m = tdxOf(w).module;
    const pfn = m.sept.get(a.gfn);
    m.sept.delete(a.gfn);
    if (pfn !== undefined) m.pamt.delete(pfn);
    emit(w, { kind: 'fw_state', what: 'sept', key: `gfn 0x${a.gfn.toString(16)}`, before: `mapped pfn 0x${(pfn ?? 0).toString(16)}`, after: 'free' });
  },
  describe: (a) => `gfn 0x${a.gfn.toString(16)}`,
});
