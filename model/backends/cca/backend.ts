import { ENOTTY } from '../../kernel/errno.js';
import { bindKernel } from '../../kernel/bind.js';
import { gmemCommon, type GmemArchHooks } from '../../kernel/guest_memfd.js';
import { kernelServiceGroups } from '../../kernel/Kernel.js';
import { kvmMain } from '../../kernel/kvm_main.js';
import { inPlaceWhatIf } from '../../kernel/inplace_series.js';
import { KVM } from '../../kernel/services/kvmcore.js';
import { u64AtMost } from '../../kernel/u64.js';
import { memslotForGfn, memslotRunEnd } from '../../world/kvmState.js';
import { hashBytes } from '../../world/hash.js';
import type { BackendModel, FwOwnership } from '../Backend.js';
import type { FirmwareCommand } from '../firmwareCommand.js';
import type { World } from '../../world/World.js';
import type { Op } from '../../scenario/Scenario.js';
import { ccaOf } from './access.js';
import { ccaArchHooks, type ArmK } from './rmi.js';
import { RMI_DATA_CREATE } from './rmi/RMI_DATA_CREATE.js';
import { RMI_DATA_DESTROY, RMI_RTT_DATA_UNMAP } from './rmi/RMI_DATA_DESTROY.js';
import { RMI_GRANULE_DELEGATE } from './rmi/RMI_GRANULE_DELEGATE.js';
import { RMI_GRANULE_RANGE_DELEGATE, RMI_GRANULE_RANGE_UNDELEGATE } from './rmi/RMI_GRANULE_RANGE.js';
import { RMI_GRANULE_UNDELEGATE } from './rmi/RMI_GRANULE_UNDELEGATE.js';
import { RMI_REALM_ACTIVATE, RMI_REALM_CREATE, RMI_REALM_DESTROY } from './rmi/RMI_REALM.js';
import { RMI_RTT_CREATE } from './rmi/RMI_RTT_CREATE.js';
import { RMI_RTT_DATA_MAP_INIT } from './rmi/RMI_RTT_DATA_MAP_INIT.js';
import { ccaServices } from './services.js';
import { createCcaState, granuleState } from './state.js';
import { KVM_ARM_RMI_POPULATE_FLAGS_MEASURE, type KvmArmRmiPopulate } from './uapi.js';
import type { UserStructRef } from '../snp/uapi.js';

/** The granules of host page `pfn`, by physical address. */
function granulesOf(w: World, pfn: number): number[] {
  const gs = ccaOf(w).granule_size;
  const out: number[] = [];
  for (let off = 0; off < w.geo.page_size; off += gs) out.push(pfn * w.geo.page_size + off);
  return out;
}

function granuleOwnership(w: World, pa: number): FwOwnership {
  const s = ccaOf(w);
  const state = granuleState(s, pa);
  if (state === 'UNDELEGATED') return { kind: 'host' };
  if (state === 'DATA') {
    for (const [ipa, e] of s.s2tte) if (e.state === 'ASSIGNED' && e.data === pa) return { kind: 'guest', gpa: ipa, state: `DATA granule 0x${pa.toString(16)}` };
    return { kind: 'guest', gpa: 0, state: `unmapped DATA granule 0x${pa.toString(16)}` };
  }
  return { kind: 'firmware', state: `${state} granule 0x${pa.toString(16)}` };
}

/**
 * Arm CCA: a realm populated through the RMM's RMI. The userspace side of the three uAPIs the
 * revisions expose lives here (which ioctl, and how progress is read back); everything the
 * kernel does is the revision's.
 */
export const ccaBackend: BackendModel = {
  id: 'cca',
  title: 'Arm CCA (KVM_ARM_RMI_POPULATE; rme-v9: KVM_CAP_ARM_RME POPULATE_REALM)',
  createState(scenario, revision) {
    const rmm = revision.arm?.rmm ?? 'v2.0';
    const perPage = rmm === 'v2.0' ? 1 : scenario.cca?.granules_per_page ?? 1;
    return createCcaState(rmm, scenario.geometry.page_size / perPage, scenario.cca?.rtt_depth ?? 0);
  },
  boot(w, revision) {
    w.kvm.private_tracking = revision.arm?.privateTracking ?? 'vm-attributes';
    const groups = kernelServiceGroups(w);
    const k = bindKernel<ArmK & GmemArchHooks>(w, [...groups, ccaServices(w, groups[0].get_user_pages_fast)], [gmemCommon, kvmMain, ccaArchHooks, revision.fns, ...inPlaceWhatIf(w)]);
    const uapi = revision.arm?.uapi ?? 'rmi-populate-writeback';
    const ps = w.geo.page_size;
    return {
      k,
      // kvm_arch_destroy_vm() -> kvm_destroy_realm(): guest_memfd pins the VM until every file
      // is released, so by now each release has unmapped its private range.
      destroyVm: () => k.kvm_destroy_realm(KVM),
      runOp(op) {
        if (op.kind === 'arm_realm_create') return { ret: k.realm_create_ioctl(KVM), out: {} };
        if (op.kind === 'arm_realm_activate') return { ret: k.kvm_activate_realm(KVM), out: {} };
        if (op.kind !== 'arm_rmi_populate') return undefined;
        if (uapi === 'rme-cap' && !rmeCapSourceIsAlias(w, op)) return { ret: -ENOTTY, out: { reported: 0 } };
        const value: KvmArmRmiPopulate = { base: op.base, size: op.size, source_uaddr: op.source_uaddr, flags: op.flags, reserved: op.reserved };
        const data: UserStructRef<KvmArmRmiPopulate> = { tag: 'kvm_arm_rmi_populate', value, readOnly: op.arg_readonly === true };
        const ret = k.realm_populate_ioctl(KVM, data);
        const fields = (after: KvmArmRmiPopulate) => ({ base: after.base, size: Number(after.size), source_uaddr: after.source_uaddr, reported: Math.floor((after.base - op.base) / ps) });
        switch (uapi) {
          // Neither copies the struct back: a read-only one changes nothing.
          case 'rme-cap': return { ret, out: { reported: ret === 0 ? u64AtMost(op.size / BigInt(ps), Number.MAX_SAFE_INTEGER) : 0 } };
          case 'rmi-populate-bytes': return { ret, out: { reported: ret > 0 ? Math.floor(ret / ps) : 0 } };
          // The ioctl copies the struct back after every kvm_arm_rmi_populate(), and a failed copy
          // replaces its result with -EFAULT. That result is not kept; in the RN tree the fields
          // move only when it is 0 (rmi.c@845841b2), so moved fields stand for a 0.
          case 'rmi-populate-writeback': {
            const lost = data.lost;
            return { ret, out: fields(data.value), ...(lost === undefined ? {} : { lost: { ret: lost.base !== op.base ? 0 : ret, out: fields(lost) } }) };
          }
        }
      },
    };
  },
  firmware: [
    RMI_GRANULE_DELEGATE, RMI_GRANULE_UNDELEGATE, RMI_DATA_CREATE, RMI_DATA_DESTROY, RMI_RTT_CREATE,
    RMI_REALM_CREATE, RMI_REALM_ACTIVATE, RMI_REALM_DESTROY,
    RMI_GRANULE_RANGE_DELEGATE, RMI_GRANULE_RANGE_UNDELEGATE, RMI_RTT_DATA_MAP_INIT, RMI_RTT_DATA_UNMAP,
  ] as readonly FirmwareCommand<never, unknown>[],
  ops: ['arm_rmi_populate', 'arm_realm_create', 'arm_realm_activate'],
  populateRequest(op, { page_size: ps, nr_host_pages }) {
    if (op.kind !== 'arm_rmi_populate') return undefined;
    return {
      gfn_start: Math.floor(op.base / ps),
      npages: u64AtMost(op.size / BigInt(ps), nr_host_pages),
      src: op.source_uaddr,
      flavour: (op.flags & KVM_ARM_RMI_POPULATE_FLAGS_MEASURE) !== 0 ? 'measured' : 'unmeasured',
      may_write_source: false,
    };
  },
  populatedCount: (op, _ret, out) => (op.kind === 'arm_rmi_populate' ? (out.reported ?? 0) : 0),
  ownership(w, pfn) {
    const units = granulesOf(w, pfn).map((pa) => granuleOwnership(w, pa));
    return units.find((u) => u.kind === 'guest') ?? units.find((u) => u.kind === 'firmware') ?? { kind: 'host' };
  },
  ownershipAt: (w, pa) => granuleOwnership(w, pa - (pa % ccaOf(w).granule_size)),
  measurement: (w) => ccaOf(w).realm.rim,
  expectedMeasurement(req, gfn, source, w) {
    const gs = ccaOf(w).granule_size;
    const measured = req.flavour === 'measured';
    const out = [];
    for (let off = 0; off < w.geo.page_size; off += gs) {
      out.push({ what: `DATA ${measured ? 'MEASURE' : 'NO_MEASURE'}`, gpa: gfn * w.geo.page_size + off, contents: measured ? hashBytes(source.subarray(off, off + gs)) : '' });
    }
    return out;
  },
  leakedByDesign: () => [],
};


/**
 * rme-v9's uAPI has no source argument: each page's source is its memslot's shared mapping. A
 * scenario whose `source_uaddr` is not that alias for every page of the range (one that runs
 * into a second memslot mapped elsewhere) is not one this uAPI can send.
 */
export function rmeCapSourceIsAlias(w: World, op: Extract<Op, { kind: 'arm_rmi_populate' }>): boolean {
  const ps = w.geo.page_size;
  // A page no memslot holds has no alias, and the v9 walk stops at the first one: a size near
  // 2^64 is compared only so far.
  const gfn0 = Math.floor(op.base / ps);
  const pages = u64AtMost((op.size + BigInt(ps - 1)) / BigInt(ps), memslotRunEnd(w.kvm, gfn0) - gfn0);
  for (let i = 0; i < pages; i++) {
    const gfn = Math.floor(op.base / ps) + i;
    const slot = memslotForGfn(w.kvm, gfn);
    if (slot !== undefined && op.source_uaddr + i * ps !== slot.userspace_addr + (gfn - slot.base_gfn) * ps) return false;
  }
  return true;
}
