import { defineFirmwareCommand } from '../../firmwareCommand.js';
import { setRmp, snpOf } from '../access.js';
import { rmpEntry } from '../state.js';

/**
 * SNP_PAGE_RECLAIM (SEV-SNP Firmware ABI 56860; `sev_mcmd.c@3ca6650d` snp_mcmd_page_reclaim):
 * a page that is not immutable is reclaimed trivially; a pre-guest page becomes guest-invalid.
 * It does not make the page shared: snp_page_reclaim() follows with RMPUPDATE.
 * (assumed) the platform refusal is the address-validation failure (e.g. the page is in an
 * active TMR), reported as INVALID_ADDRESS.
 */
export interface SnpPageReclaimArgs {
  readonly paddr: number;
}

export const SNP_PAGE_RECLAIM = defineFirmwareCommand<SnpPageReclaimArgs, void>({
  name: 'SNP_PAGE_RECLAIM',
  spec: 'SEV-SNP Firmware ABI 56860 (AMD-ASPFW sev_mcmd.c@3ca6650d)',
  failures: [{ id: 'page_address', status: 'SEV_RET_INVALID_ADDRESS' }],
  success: (a, w) => {
    const e = rmpEntry(snpOf(w), a.paddr);
    if (e.immutable) setRmp(w, a.paddr, { ...e, immutable: false });
  },
  target: (a, w) => a.paddr * w.geo.page_size,
  describe: (a) => `paddr pfn 0x${a.paddr.toString(16)}`,
});
