import { emit } from '../../../world/World.js';
import { defineFirmwareCommand } from '../../firmwareCommand.js';
import { Granule, ccaOf, setGranule } from '../access.js';
import { RMM_RTT_MAX_LEVEL, rttIndex, rttLevelShift, rttWalkLevel } from '../state.js';

/**
 * RMI_RTT_CREATE (RMM 1.0; TF-RMM rtt.c smc_rtt_create): a DELEGATED granule becomes the
 * level-`level` table for `ipa`. The parent must exist (else RMI_ERROR_RTT with the level the
 * walk reached); a table already there is RMI_ERROR_RTT at level - 1, which the kernel treats as
 * "another thread created it". `rmm_defect` is a platform condition for the kernel's "any other
 * error" branch (WARN, free the table granule, -ENXIO), which no spec condition reaches when the
 * kernel passes a fresh DELEGATED granule and the level the walk reported. The IPA must be the
 * base of what the new table maps, aligned to a level - 1 entry (validate_rtt_structure_cmds(),
 * TF-RMM/tf-rmm:runtime/rmi/rtt.c): the kernel aligns it down (realm_rtt_create()).
 */
export interface RttCreateArgs {
  readonly rd: number;
  readonly rtt: number;
  readonly ipa: number;
  readonly level: number;
}

export const RMI_RTT_CREATE = defineFirmwareCommand<RttCreateArgs, void>({
  name: 'RMI_RTT_CREATE',
  spec: 'RMM 1.0 (TF-RMM rtt.c smc_rtt_create)',
  failures: [
    { id: 'rtt_state', status: 'RMI_ERROR_INPUT', when: (a, w) => Granule(w, a.rtt) !== 'DELEGATED' },
    { id: 'rd_state', status: 'RMI_ERROR_INPUT', when: (a, w) => Granule(w, a.rd) !== 'RD' },
    { id: 'level_range', status: 'RMI_ERROR_INPUT', when: (a) => a.level < 1 || a.level > RMM_RTT_MAX_LEVEL },
    { id: 'map_addr', status: 'RMI_ERROR_INPUT', when: (a, w) => a.ipa % 2 ** rttLevelShift(ccaOf(w).granule_size, a.level - 1) !== 0 },
    { id: 'rtt_walk', status: 'RMI_ERROR_RTT', when: (a, w) => rttWalkLevel(ccaOf(w), a.ipa) < a.level - 1, index: (a, w) => rttWalkLevel(ccaOf(w), a.ipa) },
    { id: 'rtte_exists', status: 'RMI_ERROR_RTT', when: (a, w) => ccaOf(w).rtts.has(`${a.level}:${rttIndex(ccaOf(w), a.ipa, a.level)}`), index: (a) => a.level - 1 },
    { id: 'rmm_defect', status: 'RMI_ERROR_INPUT' },
  ],
  success: (a, w) => {
    const s = ccaOf(w);
    setGranule(w, a.rtt, 'RTT');
    s.rtts.add(`${a.level}:${rttIndex(s, a.ipa, a.level)}`);
    emit(w, { kind: 'fw_state', what: 'rtt', key: `level ${a.level} for ipa 0x${a.ipa.toString(16)}`, before: 'missing', after: `table at 0x${a.rtt.toString(16)}` });
  },
  target: (a) => a.rtt,
  describe: (a) => `rtt 0x${a.rtt.toString(16)} ipa 0x${a.ipa.toString(16)} level ${a.level}`,
});
