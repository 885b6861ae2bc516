import { defineFirmwareCommand } from '../../firmwareCommand.js';
import { AddrIsGranuleAligned, Granule, PaIsDelegable, ccaOf, setGranule } from '../access.js';

/**
 * RMI_GRANULE_DELEGATE (RMM 1.0): conditions in the order of TF-RMM's testbench
 * TF-RMM/tf-rmm:tools/cbmc/testbenches/tb_rmi_granule_delegate.c@83a45bd9 (spec 790fd539).
 * gran_gpt (the GPT entry is not NS, or EL3 refuses the transition) is state the model does
 * not keep, so it is a platform condition.
 */
export interface GranuleArgs {
  readonly addr: number;
}

export const RMI_GRANULE_DELEGATE = defineFirmwareCommand<GranuleArgs, void>({
  name: 'RMI_GRANULE_DELEGATE',
  spec: 'RMM 1.0 (TF-RMM MRS 790fd539)',
  failures: [
    { id: 'gran_align', status: 'RMI_ERROR_INPUT', when: (a, w) => !AddrIsGranuleAligned(ccaOf(w), a.addr) },
    { id: 'gran_bound', status: 'RMI_ERROR_INPUT', when: (a, w) => !PaIsDelegable(w, a.addr) },
    { id: 'gran_state', status: 'RMI_ERROR_INPUT', when: (a, w) => Granule(w, a.addr) !== 'UNDELEGATED' },
    { id: 'gran_gpt', status: 'RMI_ERROR_INPUT' },
  ],
  success: (a, w) => setGranule(w, a.addr, 'DELEGATED'),
  target: (a) => a.addr,
  describe: (a) => `addr 0x${a.addr.toString(16)}`,
});
