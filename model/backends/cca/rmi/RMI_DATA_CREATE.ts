import { emit, type World } from '../../../world/World.js';
import { defineFirmwareCommand, type FailureCondition } from '../../firmwareCommand.js';
import { AddrIsGranuleAligned, Granule, PaIsDelegable, ccaOf, copyGranule, setGranule, setS2tte, zeroGranule } from '../access.js';
import { RMM_RTT_MAX_LEVEL, rttWalkLevel } from '../state.js';
import { RMI_MEASURE_CONTENT, RMI_NO_MEASURE_CONTENT } from '../uapi.js';

/**
 * RMI_DATA_CREATE (RMM 1.0 B4.3.1), in TF-RMM's order (tokyo4j/tf-rmm:runtime/rmi/rtt.c@379d0446,
 * smc_data_create): flags, source, data granule, RD, realm state, IPA, the RTT walk (reports the
 * level it reached), the entry's state; then the NS copy, which zeroes the granule when it fails.
 * Success: the granule becomes DATA, the entry ASSIGNED (RIPAS RAM), and the RIM is extended
 * with the IPA and flags, and the contents' hash when RMI_MEASURE_CONTENT
 * (TF-RMM/tf-rmm:lib/measurement/src/rim.c@3fa432c0).
 */
export interface DataCreateArgs {
  readonly rd: number;
  readonly data: number;
  readonly ipa: number;
  readonly src: number;
  readonly flags: number;
}

export const protectedIpa = (a: { readonly ipa: number }, w: World): boolean => {
  const s = ccaOf(w);
  return a.ipa % s.granule_size === 0 && a.ipa < 2 ** (s.kernel.ia_bits - 1);
};

export const flagsValid = (a: DataCreateArgs): boolean => a.flags === RMI_MEASURE_CONTENT || a.flags === RMI_NO_MEASURE_CONTENT;

/** The RTT walk and entry checks both DATA_CREATE and DATA_MAP_INIT make. */
export const walkFailures: readonly FailureCondition<DataCreateArgs>[] = [
  { id: 'rtt_walk', status: 'RMI_ERROR_RTT', when: (a, w) => rttWalkLevel(ccaOf(w), a.ipa) < RMM_RTT_MAX_LEVEL, index: (a, w) => rttWalkLevel(ccaOf(w), a.ipa) },
  { id: 'rtte_state', status: 'RMI_ERROR_RTT', when: (a, w) => ccaOf(w).s2tte.get(a.ipa)?.state === 'ASSIGNED', index: () => RMM_RTT_MAX_LEVEL },
];

/** Copy, measure and map: the success effects both commands share. */
export function mapData(a: DataCreateArgs, w: World): void {
  const s = ccaOf(w);
  const hash = copyGranule(w, a.data, a.src);
  setGranule(w, a.data, 'DATA');
  setS2tte(w, a.ipa, { state: 'ASSIGNED', data: a.data });
  // Both commands extend the RIM with a MEASURE_DESC_TYPE_DATA descriptor.
  const entry = { what: `DATA ${a.flags === RMI_MEASURE_CONTENT ? 'MEASURE' : 'NO_MEASURE'}`, gpa: a.ipa, contents: a.flags === RMI_MEASURE_CONTENT ? hash : '' };
  s.realm.rim.push(entry);
  emit(w, { kind: 'measure', register: 'RIM', entry });
}

export const RMI_DATA_CREATE = defineFirmwareCommand<DataCreateArgs, void>({
  name: 'RMI_DATA_CREATE',
  spec: 'RMM 1.0 B4.3.1 (TF-RMM rtt.c smc_data_create)',
  failures: [
    { id: 'flags_valid', status: 'RMI_ERROR_INPUT', when: (a) => !flagsValid(a) },
    { id: 'src_pas', status: 'RMI_ERROR_INPUT', when: (a, w) => !PaIsDelegable(w, a.src) || Granule(w, a.src) !== 'UNDELEGATED' },
    { id: 'data_state', status: 'RMI_ERROR_INPUT', when: (a, w) => !AddrIsGranuleAligned(ccaOf(w), a.data) || Granule(w, a.data) !== 'DELEGATED' },
    { id: 'rd_state', status: 'RMI_ERROR_INPUT', when: (a, w) => Granule(w, a.rd) !== 'RD' },
    { id: 'realm_state', status: 'RMI_ERROR_REALM', when: (_a, w) => ccaOf(w).realm.rmm_state !== 'REALM_NEW' },
    { id: 'ipa_bound', status: 'RMI_ERROR_INPUT', when: (a, w) => !protectedIpa(a, w) },
    ...walkFailures,
    { id: 'src_copy', status: 'RMI_ERROR_INPUT', effect: (a, w) => zeroGranule(w, a.data) },
  ],
  success: mapData,
  target: (a) => a.data,
  grants: (a) => a.ipa,
  describe: (a) => `data 0x${a.data.toString(16)} ipa 0x${a.ipa.toString(16)} src 0x${a.src.toString(16)} flags ${a.flags}`,
});
