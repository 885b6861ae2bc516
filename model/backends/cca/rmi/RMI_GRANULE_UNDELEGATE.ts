import { defineFirmwareCommand } from '../../firmwareCommand.js';
import { AddrIsGranuleAligned, Granule, PaIsDelegable, ccaOf, setGranule, zeroGranule } from '../access.js';
import type { GranuleArgs } from './RMI_GRANULE_DELEGATE.js';

/**
 * RMI_GRANULE_UNDELEGATE (RMM 1.0): tb_rmi_granule_undelegate.c@9e63439a. Only a DELEGATED
 * granule comes back: DATA, RTT or RD must be destroyed first. The EL3 GPT transition failing
 * (TF-RMM panics; to the kernel, the call fails) is the platform condition `gran_gpt`. Success
 * scrubs the contents (the testbench's success_gran_content) and makes the granule NS.
 */
export const RMI_GRANULE_UNDELEGATE = defineFirmwareCommand<GranuleArgs, void>({
  name: 'RMI_GRANULE_UNDELEGATE',
  spec: 'RMM 1.0 (TF-RMM MRS 790fd539)',
  failures: [
    { id: 'gran_align', status: 'RMI_ERROR_INPUT', when: (a, w) => !AddrIsGranuleAligned(ccaOf(w), a.addr) },
    { id: 'gran_bound', status: 'RMI_ERROR_INPUT', when: (a, w) => !PaIsDelegable(w, a.addr) },
    { id: 'gran_state', status: 'RMI_ERROR_INPUT', when: (a, w) => Granule(w, a.addr) !== 'DELEGATED' },
    { id: 'gran_gpt', status: 'RMI_ERROR_INPUT' },
  ],
  success: (a, w) => {
    zeroGranule(w, a.addr);
    setGranule(w, a.addr, 'UNDELEGATED');
  },
  target: (a) => a.addr,
  describe: (a) => `addr 0x${a.addr.toString(16)}`,
});
