import { defineFirmwareCommand } from '../../firmwareCommand.js';
import { AddrIsGranuleAligned, Granule, PaIsDelegable, ccaOf } from '../access.js';
import { flagsValid, mapData, protectedIpa, walkFailures, type DataCreateArgs } from './RMI_DATA_CREATE.js';

/**
 * RMI_RTT_DATA_MAP_INIT (RMM 2.0, the slot DATA_CREATE had), in TF-RMM's order
 * (TF-RMM/tf-rmm:runtime/rmi/rtt_map.c@055bd058): flags, source, RD, realm state, IPA, the RTT
 * walk and entry; only then the data granule's state; a failed NS copy leaves it unzeroed.
 */
export const RMI_RTT_DATA_MAP_INIT = defineFirmwareCommand<DataCreateArgs, void>({
  name: 'RMI_RTT_DATA_MAP_INIT',
  spec: 'RMM 2.0 (TF-RMM rtt_map.c@055bd058)',
  failures: [
    { id: 'flags_valid', status: 'RMI_ERROR_INPUT', when: (a) => !flagsValid(a) },
    { id: 'src_pas', status: 'RMI_ERROR_INPUT', when: (a, w) => !PaIsDelegable(w, a.src) || Granule(w, a.src) !== 'UNDELEGATED' },
    { id: 'rd_state', status: 'RMI_ERROR_INPUT', when: (a, w) => Granule(w, a.rd) !== 'RD' },
    { id: 'realm_state', status: 'RMI_ERROR_REALM', when: (_a, w) => ccaOf(w).realm.rmm_state !== 'REALM_NEW' },
    { id: 'ipa_bound', status: 'RMI_ERROR_INPUT', when: (a, w) => !protectedIpa(a, w) },
    ...walkFailures,
    { id: 'data_state', status: 'RMI_ERROR_INPUT', when: (a, w) => !AddrIsGranuleAligned(ccaOf(w), a.data) || Granule(w, a.data) !== 'DELEGATED' },
    { id: 'src_copy', status: 'RMI_ERROR_INPUT' },
  ],
  success: mapData,
  target: (a) => a.data,
  grants: (a) => a.ipa,
  describe: (a) => `data 0x${a.data.toString(16)} ipa 0x${a.ipa.toString(16)} src 0x${a.src.toString(16)} flags ${a.flags}`,
});
