import { emit } from '../../../world/World.js';
import { defineFirmwareCommand } from '../../firmwareCommand.js';
import { tdxOf } from '../access.js';

/** TDH.MR.FINALIZE (`intel/tdx-module@1666adc4`): MRTD is final and the TD becomes runnable. */
export const TDH_MR_FINALIZE = defineFirmwareCommand<Record<string, never>, void>({
  name: 'TDH.MR.FINALIZE',
  spec: 'Intel TDX module 1.5 ABI (intel/tdx-module@1666adc4)',
  failures: [
    { id: 'tdr_busy', status: 'TDX_OPERAND_BUSY' },
    { id: 'td_op_state', status: 'TDX_OP_STATE_INCORRECT', when: (_a, w) => tdxOf(w).module.op_state !== 'OP_STATE_INITIALIZED' },
  ],
  success: (_a, w) => {
    tdxOf(w).module.op_state = 'OP_STATE_RUNNABLE';
    emit(w, { kind: 'fw_state', what: 'td', key: 'op_state', before: 'OP_STATE_INITIALIZED', after: 'OP_STATE_RUNNABLE' });
  },
  describe: () => '',
});
