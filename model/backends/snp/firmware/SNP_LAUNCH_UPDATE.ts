import { emit, type World } from '../../../world/World.js';
import { hostPage } from '../../../world/hostMemory.js';
import { hashBytes } from '../../../world/hash.js';
import { PROV_FIRMWARE, PROV_ZERO } from '../../../world/provenance.js';
import { defineFirmwareCommand } from '../../firmwareCommand.js';
import { setRmp, snpOf } from '../access.js';
import { isPreGuest, rmpEntry } from '../state.js';
import {
  KVM_SEV_SNP_PAGE_TYPE_CPUID, KVM_SEV_SNP_PAGE_TYPE_NORMAL, KVM_SEV_SNP_PAGE_TYPE_SECRETS, KVM_SEV_SNP_PAGE_TYPE_ZERO,
  SNP_FW_PAGE_TYPES, snpPageTypeName, type SevDataSnpLaunchUpdate,
} from '../uapi.js';

/**
 * SNP_LAUNCH_UPDATE (SEV-SNP Firmware ABI 56860), conditions in the order AMD's firmware checks
 * them (`amd/AMD-ASPFW:fw/psp_bl_uapps/sev_uapp/src/sev_mcmd.c@3ca6650d`, snp_mcmd_launch_update).
 * Every page type extends the launch digest with its GPA and type; only NORMAL also hashes the
 * contents (VMSA too, not modelled). ZERO pages are zero-filled and SECRETS pages filled by the
 * firmware. A CPUID table that fails the firmware's sanitiser is rewritten in place, unencrypted,
 * and the page is left pre-guest with no digest update.
 */
export function writeFirmwareBytes(w: World, pfn: number, f: (b: number, i: number) => number): void {
  const p = hostPage(w.host, pfn);
  if (p === undefined) return;
  emit(w, { kind: 'mem_write', pfn, offset: 0, len: p.data.length, via: 'firmware' });
  for (let i = 0; i < p.data.length; i++) {
    p.data[i] = f(p.data[i] ?? 0, i) & 0xff;
    p.prov[i] = PROV_FIRMWARE;
  }
}

const isCpuid = (a: SevDataSnpLaunchUpdate): boolean => a.page_type === KVM_SEV_SNP_PAGE_TYPE_CPUID;

export const SNP_LAUNCH_UPDATE = defineFirmwareCommand<SevDataSnpLaunchUpdate, void>({
  name: 'SNP_LAUNCH_UPDATE',
  spec: 'SEV-SNP Firmware ABI 56860 (AMD-ASPFW sev_mcmd.c@3ca6650d)',
  failures: [
    { id: 'page_rmp_state', status: 'SEV_RET_INVALID_PAGE_STATE', when: (a, w) => !isPreGuest(rmpEntry(snpOf(w), a.address)) },
    { id: 'page_type', status: 'SEV_RET_INVALID_PARAM', when: (a) => !SNP_FW_PAGE_TYPES.includes(a.page_type) },
    { id: 'guest_state', status: 'SEV_RET_INVALID_GUEST_STATE', when: (_a, w) => snpOf(w).guest.snp_state !== 'GSTATE_LAUNCH' },
    { id: 'page_owner', status: 'SEV_RET_INVALID_PAGE_OWNER', when: (a, w) => rmpEntry(snpOf(w), a.address).asid !== snpOf(w).guest.asid },
    // Platform conditions: the table's contents are not interpreted by the model.
    { id: 'cpuid_reserved', status: 'SEV_RET_INVALID_PARAM', applies: isCpuid },
    {
      id: 'cpuid_table',
      status: 'SEV_RET_INVALID_PARAM',
      applies: isCpuid,
      effect: (a, w) => writeFirmwareBytes(w, a.address, (b) => b ^ 0x5a),
    },
    { id: 'fw_resource', status: 'SEV_RET_RESOURCE_LIMIT' },
  ],
  success: (a, w) => {
    const s = snpOf(w);
    const e = rmpEntry(s, a.address);
    if (a.page_type === KVM_SEV_SNP_PAGE_TYPE_ZERO) writeFirmwareBytes(w, a.address, () => 0);
    if (a.page_type === KVM_SEV_SNP_PAGE_TYPE_SECRETS) writeFirmwareBytes(w, a.address, (_b, i) => 0xc0 + (i % 16));
    const p = hostPage(w.host, a.address);
    if (a.page_type === KVM_SEV_SNP_PAGE_TYPE_ZERO && p !== undefined) p.prov.fill(PROV_ZERO);
    const contents = a.page_type === KVM_SEV_SNP_PAGE_TYPE_NORMAL && p !== undefined ? hashBytes(p.data) : '';
    const entry = { what: `SNP_LAUNCH_UPDATE ${snpPageTypeName(a.page_type)}`, gpa: e.gpa, contents };
    s.guest.ld.push(entry);
    emit(w, { kind: 'measure', register: 'launch digest', entry });
    setRmp(w, a.address, { ...e, immutable: false, validated: true });
  },
  target: (a, w) => a.address * w.geo.page_size,
  describe: (a) => `address pfn 0x${a.address.toString(16)} page_type ${snpPageTypeName(a.page_type)}`,
});
