import { invokeFirmware } from '../../model/backends/firmwareCommand.js';
import { ccaOf } from '../../model/backends/cca/access.js';
import { RMI_GRANULE_DELEGATE } from '../../model/backends/cca/rmi/RMI_GRANULE_DELEGATE.js';
import { RMI_REALM_CREATE } from '../../model/backends/cca/rmi/RMI_REALM.js';
import { createCcaState } from '../../model/backends/cca/state.js';
import { KVM_ARM_RMI_POPULATE_FLAGS_MEASURE } from '../../model/backends/cca/uapi.js';
import { kernelServices, type KernelServices } from '../../model/kernel/Kernel.js';
import { allocPage } from '../../model/kernel/pages.js';
import type { Fault, Op, Scenario } from '../../model/scenario/Scenario.js';
import type { HostPage, PageOwner } from '../../model/world/hostMemory.js';
import { KVM_MEMORY_ATTRIBUTE_PRIVATE, KVM_MEM_GUEST_MEMFD } from '../../model/world/kvmState.js';
import { createWorld, type World } from '../../model/world/World.js';
import { BASE_GFN, GEO, GMEM, PS, SRC, SLOT_PAGES } from './fixtures.js';

/**
 * Arm CCA fixtures. Firmware level: a bare CCA world (RMM version, granules per 64-byte page,
 * RTT depth) with a realm created and a source page of bytes 0..PS-1. Scenario level: the VMM
 * set-up generators/ops/common.ts produces for CCA (the memslot's shared alias is the source
 * buffer, as rme-v9's uAPI needs) and KVM_ARM_RMI_POPULATE builders.
 */
export interface CcaGeometry {
  readonly granules_per_page: number;
  readonly rtt_depth: number;
}

/** A CCA world as ccaBackend.createState() builds it for `rmm` and `g`. */
export function ccaWorld(rmm: 'v1.0' | 'v2.0', g: CcaGeometry): { w: World; k: KernelServices } {
  const perPage = rmm === 'v2.0' ? 1 : g.granules_per_page;
  const w = createWorld(GEO, createCcaState(rmm, PS / perPage, g.rtt_depth), {}, false);
  return { w, k: kernelServices(w) };
}

function alloc(w: World, owner: PageOwner): HostPage {
  const p = allocPage(w, owner);
  if (p === undefined) throw new Error('out of host pages');
  return p;
}

export interface Realm {
  readonly w: World;
  /** PA of the RD granule. */
  readonly rd: number;
  /** A source page holding bytes 0..PS-1 (provenance 7000 + i). */
  readonly src: HostPage;
  /** A guest_memfd page, all 0x42, not yet delegated. */
  readonly dst: HostPage;
  /** Bytes per granule. */
  readonly gs: number;
}

/**
 * A world with a NEW realm (RD delegated and created), one source and one destination page,
 * and the fault plan `plan` armed after the set-up.
 */
export function realmWorld(rmm: 'v1.0' | 'v2.0', g: Partial<CcaGeometry> = {}, ...plan: Fault[]): Realm {
  const { w } = ccaWorld(rmm, { granules_per_page: g.granules_per_page ?? 1, rtt_depth: g.rtt_depth ?? 3 });
  const rdPage = alloc(w, { kind: 'kernel', what: 'rd' });
  const rd = rdPage.pfn * PS;
  if (invokeFirmware(w, RMI_GRANULE_DELEGATE, { addr: rd }).kind !== 'succeeded') throw new Error('rd delegate');
  if (invokeFirmware(w, RMI_REALM_CREATE, { rd }).kind !== 'succeeded') throw new Error('realm create');
  const src = alloc(w, { kind: 'anon' });
  src.data.forEach((_x, i) => { src.data[i] = i; src.prov[i] = 7000 + i; });
  const dst = alloc(w, { kind: 'gmem', file: 1, index: 0 });
  dst.data.fill(0x42);
  w.log.length = 0;
  w.faults = { plan, seen: new Map() };
  return { w, rd, src, dst, gs: ccaOf(w).granule_size };
}

/** A firmware fault; `unit` aims it at a granule position inside a host page. */
export function fw(cmd: string, condition: string, nth = 1, unit?: number): Fault {
  return unit === undefined ? { kind: 'fw', cmd, condition, nth } : { kind: 'fw', cmd, condition, nth, unit };
}

export interface CcaSetupOptions {
  readonly slotPages?: number;
  /** Set the whole slot PRIVATE (only meaningful where KVM has memory attributes). Default true. */
  readonly private?: boolean;
}

/** The CCA VMM set-up: guest_memfd, memslot whose shared alias is SRC, attributes, the source buffer, realm create. */
export function ccaSetupOps(o: CcaSetupOptions = {}): Op[] {
  const slotPages = o.slotPages ?? SLOT_PAGES;
  const ops: Op[] = [
    { kind: 'create_guest_memfd', size: BigInt((slotPages + 1) * PS), flags: 0n },
    {
      kind: 'set_user_memory_region2', slot: 0, flags: KVM_MEM_GUEST_MEMFD, guest_phys_addr: BASE_GFN * PS,
      memory_size: slotPages * PS, userspace_addr: SRC, guest_memfd: GMEM, guest_memfd_offset: 0n,
    },
  ];
  if (o.private ?? true) ops.push({ kind: 'set_memory_attributes', address: BASE_GFN * PS, size: slotPages * PS, attributes: BigInt(KVM_MEMORY_ATTRIBUTE_PRIVATE), flags: 0n });
  ops.push({ kind: 'mmap', addr: SRC, length: (slotPages + 1) * PS, prot: 'rw', holes: [] });
  ops.push({ kind: 'arm_realm_create', faults: [] });
  return ops;
}

export interface PopulateArgs {
  /** Slot-relative page index of `base`. */
  readonly at?: number;
  readonly npages?: number;
  readonly source_uaddr?: number;
  readonly flags?: number;
  readonly arg_readonly?: boolean;
  readonly faults?: readonly Fault[];
}

/** KVM_ARM_RMI_POPULATE of `npages` pages at slot page `at`, sourced from the slot's alias. */
export function rmiPopulate(a: PopulateArgs = {}): Extract<Op, { kind: 'arm_rmi_populate' }> {
  const at = a.at ?? 0;
  return {
    kind: 'arm_rmi_populate', base: (BASE_GFN + at) * PS, size: BigInt((a.npages ?? 1) * PS), source_uaddr: a.source_uaddr ?? SRC + at * PS,
    flags: a.flags ?? KVM_ARM_RMI_POPULATE_FLAGS_MEASURE, reserved: 0, faults: a.faults ?? [],
    ...(a.arg_readonly === undefined ? {} : { arg_readonly: a.arg_readonly }),
  };
}

export const punchPage = (at: number, faults: readonly Fault[] = []): Op => ({ kind: 'punch_hole', guest_memfd: GMEM, offset: at * PS, len: PS, faults });

/** A CCA scenario; RTT depth 3 (every table exists) unless told, one granule a page. */
export function ccaScenario(ops: readonly Op[], g: Partial<CcaGeometry> = {}): Scenario {
  return { backend: 'cca', geometry: GEO, ops, ub: {}, cca: { granules_per_page: g.granules_per_page ?? 1, rtt_depth: g.rtt_depth ?? 3 } };
}
