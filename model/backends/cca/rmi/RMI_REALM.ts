import { emit } from '../../../world/World.js';
import { defineFirmwareCommand } from '../../firmwareCommand.js';
import { Granule, ccaOf, setGranule } from '../access.js';

/**
 * The realm's life: RMI_REALM_CREATE (a DELEGATED granule becomes the RD; the realm is NEW),
 * RMI_REALM_ACTIVATE (tb_rmi_realm_activate.c@807dda8e: rd_state, then realm_state NEW), and
 * RMI_REALM_DESTROY, which here also destroys the realm's RTTs (RMI_RTT_DESTROY each) and
 * leaves the RD and RTT granules DELEGATED for the kernel to undelegate; it needs no live DATA.
 */
export interface RealmArgs {
  readonly rd: number;
}

export const RMI_REALM_CREATE = defineFirmwareCommand<RealmArgs, void>({
  name: 'RMI_REALM_CREATE',
  spec: 'RMM 1.0',
  failures: [{ id: 'rd_state', status: 'RMI_ERROR_INPUT', when: (a, w) => Granule(w, a.rd) !== 'DELEGATED' }],
  success: (a, w) => {
    const s = ccaOf(w);
    setGranule(w, a.rd, 'RD');
    s.realm.rd = a.rd;
    s.realm.rmm_state = 'REALM_NEW';
    emit(w, { kind: 'fw_state', what: 'realm', key: 'state', before: 'NONE', after: 'REALM_NEW' });
  },
  target: (a) => a.rd,
  describe: (a) => `rd 0x${a.rd.toString(16)}`,
});

export const RMI_REALM_ACTIVATE = defineFirmwareCommand<RealmArgs, void>({
  name: 'RMI_REALM_ACTIVATE',
  spec: 'RMM 1.0 (tb_rmi_realm_activate.c@807dda8e)',
  failures: [
    { id: 'rd_state', status: 'RMI_ERROR_INPUT', when: (a, w) => Granule(w, a.rd) !== 'RD' },
    { id: 'realm_state', status: 'RMI_ERROR_REALM', when: (_a, w) => ccaOf(w).realm.rmm_state !== 'REALM_NEW' },
  ],
  success: (_a, w) => {
    ccaOf(w).realm.rmm_state = 'REALM_ACTIVE';
    emit(w, { kind: 'fw_state', what: 'realm', key: 'state', before: 'REALM_NEW', after: 'REALM_ACTIVE' });
  },
  describe: (a) => `rd 0x${a.rd.toString(16)}`,
});

export const RMI_REALM_DESTROY = defineFirmwareCommand<RealmArgs, void>({
  name: 'RMI_REALM_DESTROY',
  spec: 'RMM 1.0 (with RMI_RTT_DESTROY of every table)',
  failures: [
    { id: 'rd_state', status: 'RMI_ERROR_INPUT', when: (a, w) => Granule(w, a.rd) !== 'RD' },
    { id: 'realm_live', status: 'RMI_ERROR_REALM', when: (_a, w) => [...ccaOf(w).s2tte.values()].some((e) => e.state === 'ASSIGNED') },
  ],
  success: (a, w) => {
    const s = ccaOf(w);
    for (const [pa, st] of [...s.granules]) if (st === 'RTT') setGranule(w, pa, 'DELEGATED');
    s.rtts.clear();
    setGranule(w, a.rd, 'DELEGATED');
    s.realm.rd = 0;
    s.realm.rmm_state = 'NONE';
  },
  target: (a) => a.rd,
  describe: (a) => `rd 0x${a.rd.toString(16)}`,
});
