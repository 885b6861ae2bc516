import { describe, expect, test } from 'vitest';
import { invokeFirmware } from '../../model/backends/firmwareCommand.js';
import { snpOf } from '../../model/backends/snp/access.js';
import { RMPUPDATE } from '../../model/backends/snp/firmware/RMPUPDATE.js';
import { SNP_LAUNCH_FINISH } from '../../model/backends/snp/firmware/SNP_LAUNCH_FINISH.js';
import { SNP_LAUNCH_UPDATE } from '../../model/backends/snp/firmware/SNP_LAUNCH_UPDATE.js';
import { SNP_PAGE_RECLAIM } from '../../model/backends/snp/firmware/SNP_PAGE_RECLAIM.js';
import { snpServices } from '../../model/backends/snp/services.js';
import { RMP_SHARED, SNP_ASID, isPreGuest, rmpEntry, rmpStateName } from '../../model/backends/snp/state.js';
import {
  KVM_SEV_SNP_PAGE_TYPE_CPUID, KVM_SEV_SNP_PAGE_TYPE_NORMAL, KVM_SEV_SNP_PAGE_TYPE_SECRETS, KVM_SEV_SNP_PAGE_TYPE_VMSA, KVM_SEV_SNP_PAGE_TYPE_ZERO,
  PG_LEVEL_4K, SEV_CMD_SNP_PAGE_RECLAIM, SEV_RET_INVALID_ADDRESS,
} from '../../model/backends/snp/uapi.js';
import { EFAULT, EINVAL, EIO } from '../../model/kernel/errno.js';
import { allocPage } from '../../model/kernel/pages.js';
import { hashBytes } from '../../model/world/hash.js';
import { PROV_FIRMWARE, PROV_ZERO } from '../../model/world/provenance.js';
import type { Fault } from '../../model/scenario/Scenario.js';
import { PS, eventsOf, smallWorld } from './fixtures.js';

/** A world with one host page, made pre-guest at `gpa` (as rmp_make_private(.., true) does). */
function preGuest(gpa = 0x400, ...plan: Fault[]) {
  const { w } = smallWorld();
  const snp = snpServices(w);
  const p = allocPage(w, { kind: 'gmem', file: 1, index: 0 });
  if (p === undefined) throw new Error('no page');
  p.data.fill(0x42);
  expect(snp.rmp_make_private(p.pfn, gpa, PG_LEVEL_4K, SNP_ASID, true)).toBe(0);
  w.faults = { plan, seen: new Map() };
  return { w, snp, pfn: p.pfn, p };
}
const update = (address: number, page_type = KVM_SEV_SNP_PAGE_TYPE_NORMAL) => ({ gctx_paddr: 0, address, page_size: PG_LEVEL_4K, page_type });

describe('RMPUPDATE', () => {
  test('makes a shared page pre-guest, granting its GPA', () => {
    const { w, pfn } = preGuest(0x440);
    expect(rmpEntry(snpOf(w), pfn)).toEqual({ assigned: true, asid: SNP_ASID, gpa: 0x440, immutable: true, validated: false });
    expect(eventsOf(w, 'fw')[0]).toMatchObject({ cmd: 'RMPUPDATE', pfn, grantGpa: 0x440 });
    expect(eventsOf(w, 'fw_state')[0]).toMatchObject({ what: 'rmp', before: 'hypervisor', after: 'pre-guest (asid 1 gpa 0x440)' });
  });

  test('an immutable entry cannot be changed (FAIL_PERMISSION), seen as -EFAULT', () => {
    const { w, snp, pfn } = preGuest();
    expect(snp.rmp_make_shared(pfn, PG_LEVEL_4K)).toBe(-EFAULT);
    expect(eventsOf(w, 'fw')[1]?.outcome).toEqual({ kind: 'failed', condition: 'rmp_immutable', status: 'FAIL_PERMISSION', forced: false, index: 0 });
    expect(isPreGuest(rmpEntry(snpOf(w), pfn))).toBe(true);
  });

  test('to shared: the entry is the hypervisor\'s again (a shared entry is stored as none: setRmp())', () => {
    const { w } = smallWorld();
    const snp = snpServices(w);
    const p = allocPage(w, { kind: 'gmem', file: 1, index: 0 });
    if (p === undefined) throw new Error('no page');
    expect(snp.rmp_make_private(p.pfn, 0x400, PG_LEVEL_4K, SNP_ASID, false)).toBe(0);
    expect(snp.rmp_make_shared(p.pfn, PG_LEVEL_4K)).toBe(0);
    expect(rmpEntry(snpOf(w), p.pfn)).toEqual(RMP_SHARED);
    expect(snpOf(w).rmp.has(p.pfn)).toBe(false);
  });

  test('the immutable check beats a forced rmp_inuse', () => {
    const { w, pfn } = preGuest(0x400, { kind: 'fw', cmd: 'RMPUPDATE', condition: 'rmp_inuse', nth: 1 });
    expect(invokeFirmware(w, RMPUPDATE, { pfn, next: RMP_SHARED })).toMatchObject({ condition: 'rmp_immutable' });
  });

  test('a forced rmp_inuse, or a non-page, is -EFAULT', () => {
    const { w } = smallWorld();
    const snp = snpServices(w);
    w.faults = { plan: [{ kind: 'fw', cmd: 'RMPUPDATE', condition: 'rmp_inuse', nth: 1 }], seen: new Map() };
    expect(snp.rmp_make_private(0x100, 0, PG_LEVEL_4K, SNP_ASID, false)).toBe(-EFAULT);
    expect(snp.rmp_make_private(0x5, 0, PG_LEVEL_4K, SNP_ASID, false)).toBe(-EFAULT);
    expect(snp.snp_lookup_rmpentry(0x5)).toEqual({ ret: -EINVAL, assigned: false, level: 0 });
    expect(snpOf(w).rmp.size).toBe(0);
  });
});

describe('SNP_PAGE_RECLAIM', () => {
  test('takes a pre-guest page to guest-invalid; it stays assigned', () => {
    const { w, pfn } = preGuest();
    expect(invokeFirmware(w, SNP_PAGE_RECLAIM, { paddr: pfn }).kind).toBe('succeeded');
    expect(rmpStateName(rmpEntry(snpOf(w), pfn))).toBe('guest-invalid (asid 1 gpa 0x400)');
  });

  test('is a no-op success on an entry that is not immutable', () => {
    const { w } = smallWorld();
    expect(invokeFirmware(w, SNP_PAGE_RECLAIM, { paddr: 0x100 }).kind).toBe('succeeded');
    expect(eventsOf(w, 'fw_state')).toEqual([]);
  });

  test('a forced page_address failure: -EIO with SEV_RET_INVALID_ADDRESS in the error', () => {
    const { w, snp, pfn } = preGuest(0x400, { kind: 'fw', cmd: 'SNP_PAGE_RECLAIM', condition: 'page_address', nth: 1 });
    const error = { value: 0 };
    expect(snp.sev_do_cmd(SEV_CMD_SNP_PAGE_RECLAIM, { cmd: SEV_CMD_SNP_PAGE_RECLAIM, data: { paddr: pfn } }, error)).toBe(-EIO);
    expect(error.value).toBe(SEV_RET_INVALID_ADDRESS);
    expect(isPreGuest(rmpEntry(snpOf(w), pfn))).toBe(true);
  });
});

describe('SNP_LAUNCH_UPDATE conditions, in the firmware\'s order', () => {
  test('page_rmp_state: the target must be pre-guest (and this beats an invalid type)', () => {
    const { w } = smallWorld();
    expect(invokeFirmware(w, SNP_LAUNCH_UPDATE, update(0x100, 9))).toEqual({ kind: 'failed', condition: 'page_rmp_state', status: 'SEV_RET_INVALID_PAGE_STATE', index: 0 });
  });

  test('page_type: unknown types are refused on a pre-guest page; VMSA (KVM\'s own, never the uAPI\'s) is accepted', () => {
    const { w, pfn } = preGuest();
    expect(invokeFirmware(w, SNP_LAUNCH_UPDATE, update(pfn, 7))).toMatchObject({ condition: 'page_type', status: 'SEV_RET_INVALID_PARAM' });
    expect(invokeFirmware(w, SNP_LAUNCH_UPDATE, update(pfn, KVM_SEV_SNP_PAGE_TYPE_VMSA)).kind).toBe('succeeded');
  });

  test('guest_state: refused once SNP_LAUNCH_FINISH ran', () => {
    const { w, pfn } = preGuest();
    expect(invokeFirmware(w, SNP_LAUNCH_FINISH, {}).kind).toBe('succeeded');
    expect(snpOf(w).guest.snp_state).toBe('GSTATE_RUNNING');
    expect(invokeFirmware(w, SNP_LAUNCH_UPDATE, update(pfn))).toMatchObject({ condition: 'guest_state', status: 'SEV_RET_INVALID_GUEST_STATE' });
    expect(invokeFirmware(w, SNP_LAUNCH_FINISH, {})).toMatchObject({ condition: 'guest_state', status: 'SEV_RET_INVALID_GUEST_STATE' });
    expect(eventsOf(w, 'fw').filter((e) => e.cmd === 'SNP_LAUNCH_FINISH').map((e) => e.outcome.kind)).toEqual(['succeeded', 'failed']);
  });

  test('page_rmp_state: a guest-invalid page (assigned, neither immutable nor validated) is not pre-guest', () => {
    const { w } = smallWorld();
    const p = allocPage(w, { kind: 'gmem', file: 1, index: 0 });
    if (p === undefined) throw new Error('no page');
    expect(snpServices(w).rmp_make_private(p.pfn, 0x400, PG_LEVEL_4K, SNP_ASID, false)).toBe(0);
    expect(invokeFirmware(w, SNP_LAUNCH_UPDATE, update(p.pfn))).toMatchObject({ condition: 'page_rmp_state', status: 'SEV_RET_INVALID_PAGE_STATE' });
  });

  test('page_owner: the RMP ASID must be the guest\'s', () => {
    const { w } = smallWorld();
    const snp = snpServices(w);
    snp.rmp_make_private(0x100, 0, PG_LEVEL_4K, SNP_ASID + 1, true);
    expect(invokeFirmware(w, SNP_LAUNCH_UPDATE, update(0x100))).toMatchObject({ condition: 'page_owner', status: 'SEV_RET_INVALID_PAGE_OWNER' });
  });

  test('a spec condition beats a forced fw_resource that comes after it', () => {
    const { w } = smallWorld();
    w.faults = { plan: [{ kind: 'fw', cmd: 'SNP_LAUNCH_UPDATE', condition: 'fw_resource', nth: 1 }], seen: new Map() };
    expect(invokeFirmware(w, SNP_LAUNCH_UPDATE, update(0x100))).toMatchObject({ condition: 'page_rmp_state' });
  });

  test('cpuid_table applies to CPUID pages only; there it rewrites the page and leaves it pre-guest', () => {
    const cpuid: Fault = { kind: 'fw', cmd: 'SNP_LAUNCH_UPDATE', condition: 'cpuid_table', nth: 1 };
    const normal = preGuest(0x400, cpuid);
    expect(invokeFirmware(normal.w, SNP_LAUNCH_UPDATE, update(normal.pfn)).kind).toBe('succeeded');
    const { w, pfn, p } = preGuest(0x400, cpuid);
    expect(invokeFirmware(w, SNP_LAUNCH_UPDATE, update(pfn, KVM_SEV_SNP_PAGE_TYPE_CPUID))).toMatchObject({ condition: 'cpuid_table', status: 'SEV_RET_INVALID_PARAM' });
    expect(new Set(p.data)).toEqual(new Set([0x42 ^ 0x5a]));
    expect(new Set(p.prov)).toEqual(new Set([PROV_FIRMWARE]));
    expect(isPreGuest(rmpEntry(snpOf(w), pfn))).toBe(true);
    expect(snpOf(w).guest.ld).toEqual([]);
  });

  test('cpuid_reserved fails without touching the page', () => {
    const { w, pfn, p } = preGuest(0x400, { kind: 'fw', cmd: 'SNP_LAUNCH_UPDATE', condition: 'cpuid_reserved', nth: 1 });
    expect(invokeFirmware(w, SNP_LAUNCH_UPDATE, update(pfn, KVM_SEV_SNP_PAGE_TYPE_CPUID))).toMatchObject({ condition: 'cpuid_reserved' });
    expect(new Set(p.data)).toEqual(new Set([0x42]));
  });
});

describe('SNP_LAUNCH_UPDATE success', () => {
  test('NORMAL: the digest gets GPA, type and the contents\' hash; the page becomes guest-valid', () => {
    const { w, pfn, p } = preGuest(0x480);
    expect(invokeFirmware(w, SNP_LAUNCH_UPDATE, update(pfn)).kind).toBe('succeeded');
    expect(snpOf(w).guest.ld).toEqual([{ what: 'SNP_LAUNCH_UPDATE NORMAL', gpa: 0x480, contents: hashBytes(p.data) }]);
    expect(rmpEntry(snpOf(w), pfn)).toEqual({ assigned: true, asid: SNP_ASID, gpa: 0x480, immutable: false, validated: true });
    expect(eventsOf(w, 'measure')).toHaveLength(1);
  });

  test('the command\'s event names the page it acts on (the invariants read it), as SNP_PAGE_RECLAIM\'s does', () => {
    const { w, pfn } = preGuest();
    invokeFirmware(w, SNP_LAUNCH_UPDATE, update(pfn));
    invokeFirmware(w, SNP_PAGE_RECLAIM, { paddr: pfn });
    expect(eventsOf(w, 'fw').slice(1).map((e) => [e.cmd, e.pfn, e.addr])).toEqual([['SNP_LAUNCH_UPDATE', pfn, pfn * PS], ['SNP_PAGE_RECLAIM', pfn, pfn * PS]]);
  });

  test('ZERO: zero-filled by the firmware, GPA measured without contents', () => {
    const { w, pfn, p } = preGuest();
    invokeFirmware(w, SNP_LAUNCH_UPDATE, update(pfn, KVM_SEV_SNP_PAGE_TYPE_ZERO));
    expect(new Set(p.data)).toEqual(new Set([0]));
    expect(new Set(p.prov)).toEqual(new Set([PROV_ZERO]));
    expect(snpOf(w).guest.ld[0]?.contents).toBe('');
  });

  test('SECRETS: filled by the firmware', () => {
    const { w, pfn, p } = preGuest();
    invokeFirmware(w, SNP_LAUNCH_UPDATE, update(pfn, KVM_SEV_SNP_PAGE_TYPE_SECRETS));
    expect([...p.data.subarray(0, 18)]).toEqual(Array.from({ length: 18 }, (_x, i) => 0xc0 + (i % 16)));
    expect(p.prov[PS - 1]).toBe(PROV_FIRMWARE);
    expect(eventsOf(w, 'mem_write').at(-1)).toEqual({ kind: 'mem_write', pfn, offset: 0, len: PS, via: 'firmware' });
  });
});

describe('SNP kernel services', () => {
  test('snp_leak_pages() records the pages, takes no reference', () => {
    const { w, snp, pfn, p } = preGuest();
    snp.snp_leak_pages(pfn, 2);
    expect(snpOf(w).kernel.leaked).toEqual([pfn, pfn + 1]);
    expect(p.refcount).toBe(1);
    expect(eventsOf(w, 'page_leak').map((e) => [e.by, e.pfn])).toEqual([['snp_leak_pages', pfn], ['snp_leak_pages', pfn + 1]]);
  });

  test('the guest context, ASID and backend checks', () => {
    const { w, snp } = preGuest();
    expect([snp.sev_get_asid(null), snp.sev_snp_context(null), snp.sev_snp_guest(null)]).toEqual([SNP_ASID, true, true]);
    expect(() => snpOf(smallWorld('tdx').w)).toThrow('SEV-SNP service used on a tdx machine');
    expect(snpServices(w).snp_lookup_rmpentry(0x100)).toEqual({ ret: 0, assigned: true, level: 1 });
  });
});
