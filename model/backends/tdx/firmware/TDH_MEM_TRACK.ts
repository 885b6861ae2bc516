import { defineFirmwareCommand } from '../../firmwareCommand.js';
import { tdxOf } from '../access.js';

/**
 * TDH.MEM.TRACK (`intel/tdx-module@1666adc4`): advances the TD's TLB epoch, so entries blocked
 * before it may be removed once no vCPU still runs in the old epoch (KVM kicks every vCPU out
 * right after).
 */
export const TDH_MEM_TRACK = defineFirmwareCommand<Record<string, never>, void>({
  name: 'TDH.MEM.TRACK',
  spec: 'Intel TDX module 1.5 ABI (intel/tdx-module@1666adc4)',
  failures: [
    { id: 'tdr_busy', status: 'TDX_OPERAND_BUSY' },
  ],
  success: (_a, w) => {
    tdxOf(w).module.epoch++;
  },
  describe: () => 'td',
});
