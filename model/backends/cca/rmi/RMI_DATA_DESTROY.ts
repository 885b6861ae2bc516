import { defineFirmwareCommand } from '../../firmwareCommand.js';
import { Granule, ccaOf, setGranule, setS2tte, zeroGranule } from '../access.js';
import { RMM_RTT_MAX_LEVEL, rttWalkLevel } from '../state.js';
import { protectedIpa } from './RMI_DATA_CREATE.js';

/**
 * RMI_DATA_DESTROY (RMM 1.0 B4.3.3) and, with the same checks for one address, RMM 2.0's
 * RMI_RTT_DATA_UNMAP: the entry must be ASSIGNED; the DATA granule goes back to DELEGATED
 * (scrubbed), the entry to UNASSIGNED with RIPAS DESTROYED. The result carries the data PA.
 * No spec condition can fail the destroy of an entry the kernel just created or mapped, so the
 * kernel's handling of a failed destroy (rme-v9/v12 ignore the status; the unmap paths WARN) is
 * reachable only through an RMM defect: the platform condition `rmm_defect`, status as for a
 * bad input (assumption: every status the kernel does not special-case is handled alike).
 */
export interface DataDestroyArgs {
  readonly rd: number;
  readonly ipa: number;
}

function dataDestroy(name: string, spec: string) {
  return defineFirmwareCommand<DataDestroyArgs, number>({
    name,
    spec,
    failures: [
      { id: 'rd_state', status: 'RMI_ERROR_INPUT', when: (a, w) => Granule(w, a.rd) !== 'RD' },
      { id: 'ipa_bound', status: 'RMI_ERROR_INPUT', when: (a, w) => !protectedIpa(a, w) },
      { id: 'rtt_walk', status: 'RMI_ERROR_RTT', when: (a, w) => rttWalkLevel(ccaOf(w), a.ipa) < RMM_RTT_MAX_LEVEL, index: (a, w) => rttWalkLevel(ccaOf(w), a.ipa) },
      { id: 'rtte_state', status: 'RMI_ERROR_RTT', when: (a, w) => ccaOf(w).s2tte.get(a.ipa)?.state !== 'ASSIGNED', index: () => RMM_RTT_MAX_LEVEL },
      { id: 'rmm_defect', status: 'RMI_ERROR_INPUT' },
    ],
    success: (a, w) => {
      const e = ccaOf(w).s2tte.get(a.ipa);
      const data = e?.state === 'ASSIGNED' ? e.data : 0;
      zeroGranule(w, data);
      setGranule(w, data, 'DELEGATED');
      setS2tte(w, a.ipa, { state: 'UNASSIGNED', ripas: 'DESTROYED' });
      return data;
    },
    target: (a, w) => {
      const e = ccaOf(w).s2tte.get(a.ipa);
      return e?.state === 'ASSIGNED' ? e.data : 0;
    },
    describe: (a) => `ipa 0x${a.ipa.toString(16)}`,
  });
}

export const RMI_DATA_DESTROY = dataDestroy('RMI_DATA_DESTROY', 'RMM 1.0 B4.3.3');
export const RMI_RTT_DATA_UNMAP = dataDestroy('RMI_RTT_DATA_UNMAP', 'RMM 2.0 (single address)');
