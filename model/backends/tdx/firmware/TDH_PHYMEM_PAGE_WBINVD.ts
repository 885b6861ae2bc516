import { emit } from '../../../world/World.js';
import { defineFirmwareCommand } from '../../firmwareCommand.js';
import { tdxOf } from '../access.js';

/**
 * TDH.PHYMEM.PAGE.WBINVD (`intel/tdx-module@1666adc4`): writes back and invalidates the cache
 * lines of a removed page under the TD's HKID; only then may the host reuse the page.
 * (assumed) a platform failure with TDX_OPERAND_INVALID: the module's checks on the HKID and the
 * PAMT entry are not modelled as spec conditions.
 */
export interface PageWbinvdArgs {
  readonly pfn: number;
}

export const TDH_PHYMEM_PAGE_WBINVD = defineFirmwareCommand<PageWbinvdArgs, void>({
  name: 'TDH.PHYMEM.PAGE.WBINVD',
  spec: 'Intel TDX module 1.5 ABI (intel/tdx-module@1666adc4)',
  failures: [
    { id: 'wbinvd_error', status: 'TDX_OPERAND_INVALID' },
  ],
  success: (a, w) => {
    if (tdxOf(w).module.unflushed.delete(a.pfn)) emit(w, { kind: 'fw_state', what: 'cache', key: `pfn 0x${a.pfn.toString(16)}`, before: 'TD-keyed lines', after: 'written back' });
  },
  describe: (a) => `pfn 0x${a.pfn.toString(16)}`,
  target: (a, w) => a.pfn * w.geo.page_size,
});
