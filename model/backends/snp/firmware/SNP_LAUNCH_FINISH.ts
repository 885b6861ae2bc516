import { emit } from '../../../world/World.js';
import { defineFirmwareCommand } from '../../firmwareCommand.js';
import { snpOf } from '../access.js';

/** SNP_LAUNCH_FINISH (SEV-SNP Firmware ABI 56860): the guest leaves the launch state. */
export const SNP_LAUNCH_FINISH = defineFirmwareCommand<Record<string, never>, void>({
  name: 'SNP_LAUNCH_FINISH',
  spec: 'SEV-SNP Firmware ABI 56860',
  failures: [{ id: 'guest_state', status: 'SEV_RET_INVALID_GUEST_STATE', when: (_a, w) => snpOf(w).guest.snp_state !== 'GSTATE_LAUNCH' }],
  success: (_a, w) => {
    snpOf(w).guest.snp_state = 'GSTATE_RUNNING';
    emit(w, { kind: 'fw_state', what: 'gctx', key: 'guest', before: 'GSTATE_LAUNCH', after: 'GSTATE_RUNNING' });
  },
  describe: () => '',
});
