import type { BackendModel } from '../../model/backends/Backend.js';
import { rmeCapSourceIsAlias } from '../../model/backends/cca/backend.js';
import { ccaOf } from '../../model/backends/cca/access.js';
import { KVM_ARM_RMI_POPULATE_FLAGS_MEASURE } from '../../model/backends/cca/uapi.js';
import { gmemGupNpages } from '../../model/geometry.js';
import { EBUSY, EEXIST, EFAULT, EHWPOISON, EINTR, EINVAL, EIO, ENOMEM, ENXIO, EPERM } from '../../model/kernel/errno.js';
import type { Op } from '../../model/scenario/Scenario.js';
import { U64_MAX, u64AtMost } from '../../model/kernel/u64.js';
import { memslotRunEnd } from '../../model/world/kvmState.js';
import type { World } from '../../model/world/World.js';
import { ARM, DOC, GP, type Row } from './rows.js';
import { copyBackFaults, none, rejected, walkPages, type PageCheck, type PopulateSpec, type Prediction } from './spec.js';
import { folioAt, folioPoisoned, gmemFile, hasGmem, isPrivate, notHostOwned, slotAt, userPageOk } from './world.js';

type ArmPopulate = Extract<Op, { kind: 'arm_rmi_populate' }>;

/** `base + size` as the C's u64 arithmetic sees it: whether it wraps past 2^64. */
const rangeWraps = (op: ArmPopulate): boolean => BigInt(op.base) + op.size > U64_MAX;

/** Whether `base + size` (wrapped or not) is page-aligned: 2^64 is a multiple of every page size. */
const endAligned = (op: ArmPopulate, ps: number): boolean => (BigInt(op.base) + op.size) % BigInt(ps) === 0n;

/** `size / PAGE_SIZE` as a number of pages, at most `cap` (no walk goes past the memslots). */
const pagesOf = (op: ArmPopulate, ps: number, cap = Number.MAX_SAFE_INTEGER): number => u64AtMost(op.size / BigInt(ps), cap);

/** RMI refusals the kernel resolves itself: a missing table is created and the call retried. */
const RTT_WALKS = ['RMI_DATA_CREATE:rtt_walk', 'RMI_RTT_DATA_MAP_INIT:rtt_walk', 'RMI_RTT_CREATE:rtte_exists'];

/** A delegate refused because the page is already the realm's (populated, or left delegated). */
const DELEGATE_REFUSED = ['RMI_GRANULE_DELEGATE:gran_state', 'RMI_GRANULE_RANGE_DELEGATE:gran_state'];

const MEM_LOW = 'host memory nearly exhausted: a folio or table allocation may fail';

/**
 * A realm IPA of `gfn` still mapped to a granule that is not its folio's: left by an earlier
 * unmap that failed (a fault plan). The RMI then refuses the map (RN.11, or the v9/v12 WARN
 * path): judged relationally.
 */
function staleMapping(w: World, gfn: number): boolean {
  const s = ccaOf(w);
  const ps = w.geo.page_size;
  const slot = slotAt(w, gfn);
  const folio = slot === undefined ? undefined : folioAt(w, slot, gfn);
  for (let off = 0; off < ps; off += s.granule_size) {
    const e = s.s2tte.get(gfn * ps + off);
    if (e?.state === 'ASSIGNED' && (folio === undefined || e.data !== folio.pfn * ps + off)) return true;
  }
  return false;
}

/** Realm state checks of R12/RN: ACTIVE/DYING -EBUSY, DEAD -ENXIO; NONE and NEW go on. */
function realmState(w: World, row: Row): Prediction | undefined {
  const st = ccaOf(w).kernel.state;
  if (st === 'REALM_STATE_ACTIVE' || st === 'REALM_STATE_DYING') return rejected(row, -EBUSY);
  if (st === 'REALM_STATE_DEAD') return rejected(row, -ENXIO);
  return undefined;
}

function verdictOf(walk: ReturnType<typeof walkPages>, success: readonly Row[], ps: number, convention: 'first-page' | 'bytes' | 'atomic', relational: string | undefined): Prediction {
  const extra = relational === undefined ? {} : { relational };
  const p = walk.passing;
  if (walk.stop === undefined) return { kind: 'verdict', rows: success, ret: [convention === 'bytes' ? p * ps : 0], min: p, max: p, fw: [], ...extra };
  // R9: no progress can be reported, so an error means nothing populated (R9.8).
  if (convention === 'atomic') return { kind: 'verdict', rows: [...walk.stop.rows, ...(p > 0 ? [ARM['R9.8']] : [])], ret: walk.stop.errnos, min: 0, max: 0, fw: walk.stop.fw, ...extra };
  if (p === 0) return { kind: 'verdict', rows: walk.stop.rows, ret: walk.stop.errnos, min: 0, max: 0, fw: walk.stop.fw, ...extra };
  const later = convention === 'bytes' ? ARM['R12.8'] : GP.firstOnly;
  return { kind: 'verdict', rows: [later, ...walk.stop.rows], ret: [convention === 'bytes' ? p * ps : 0], min: p, max: p, fw: [], ...extra };
}

/**
 * R9: KVM_ENABLE_CAP(KVM_CAP_ARM_RME, POPULATE_REALM) (note §5a). Documented: copies from the
 * shared alias; 0 on success, a negative value on error; the struct is input only. Silent,
 * decided by the v9/v8 code: realm state first (-EPERM), alignment and flags (-EINVAL), then
 * SZ_2M chunks (in the model PAGE_SIZE << PMD_ORDER, the PMD size it scales), each needing a
 * memslot (-EFAULT) that contains it (-EINVAL) and can be private (-EPERM), then per page the
 * alias (faulted in with FOLL_WRITE, -EFAULT) and the RMI (-ENXIO). No private-attribute check.
 */
export const r9Spec: PopulateSpec = {
  gen: 'R9',
  backend: 'cca',
  ioctl: 'KVM_CAP_ARM_RME_POPULATE_REALM',
  doc: DOC.R9,
  errnos: [-EPERM, -EINVAL, -EFAULT, -ENXIO, -ENOMEM, -EIO, -EHWPOISON],
  internalFw: RTT_WALKS,
  predict(op, w, backend): Prediction {
    if (op.kind !== 'arm_rmi_populate') return none('not this ioctl');
    const ps = w.geo.page_size;
    // The v9 uAPI has no source argument: only the shared alias of each page is expressible.
    if (!rmeCapSourceIsAlias(w, op)) return none(`${ARM['R9.src'].id}: ${ARM['R9.src'].result}`);
    if (ccaOf(w).kernel.state !== 'REALM_STATE_NEW') return rejected(ARM['R9.2'], -EPERM);
    if (op.base % ps !== 0 || op.size % BigInt(ps) !== 0n || (op.flags & ~KVM_ARM_RMI_POPULATE_FLAGS_MEASURE) !== 0) return rejected(ARM['R9.3'], -EINVAL);
    if (rangeWraps(op)) return rejected(ARM['R9.4'], -EINVAL);
    if (op.size === 0n) return { kind: 'verdict', rows: [ARM['R9.4']], ret: [0], min: 0, max: 0, fw: [] };
    const chunk = gmemGupNpages(w.geo);
    const gfn0 = op.base / ps;
    // A chunk holding a gfn no memslot holds fails however far the range goes on, so the pages
    // asked for are counted only to the first such gfn.
    const npages = pagesOf(op, ps, memslotRunEnd(w.kvm, gfn0) - gfn0 + 1);
    let done = 0;
    for (let c = 0; c < npages; c += chunk) {
      const cstart = gfn0 + c;
      const cend = gfn0 + Math.min(npages, c + chunk);
      const slot = slotAt(w, cstart);
      const chunkErr = slot === undefined ? -EFAULT : slot.base_gfn + slot.npages < cend ? -EINVAL : !hasGmem(slot) ? -EPERM : 0;
      if (slot === undefined || chunkErr !== 0) return verdictOf({ passing: done, stop: { page: done, rows: [ARM['R9.5']], errnos: [chunkErr], fw: [] } }, [ARM['R9.1']], ps, 'atomic', undefined);
      const alias = (gfn: number) => slot.userspace_addr + (gfn - slot.base_gfn) * ps;
      const checks: PageCheck[] = [
        // populate_region() faults the alias in (FOLL_WRITE) before kvm_gmem_get_pfn().
        { row: ARM['R9.6'], errno: -EFAULT, beforeGetPfn: true, fails: (p) => !userPageOk(w, alias(p.gfn), true) },
        { row: GP.noFile, errno: -EFAULT, fails: (p) => p.slot === undefined || gmemFile(w, p.slot) === undefined },
        { row: GP.hwpoison, errno: -EHWPOISON, fails: (p) => folioPoisoned(w, p.folio) },
        { row: ARM['R9.7'], errno: -ENXIO, fails: (p) => p.pfn !== undefined && notHostOwned(w, p.backend, p.pfn), fw: DELEGATE_REFUSED },
      ];
      const walk = walkPages(w, backend, cstart, cend - cstart, checks);
      const stale = Array.from({ length: cend - cstart }, (_x, i) => cstart + i).some((g) => staleMapping(w, g));
      const relational = stale ? 'an IPA of the range is still mapped (an earlier unmap failed)' : w.freeList.length < 2 * npages + 16 ? MEM_LOW : undefined;
      if (walk.stop !== undefined || relational !== undefined) {
        return verdictOf({ passing: done + walk.passing, ...(walk.stop === undefined ? {} : { stop: walk.stop }) }, [ARM['R9.1']], ps, 'atomic', relational);
      }
      done += walk.passing;
    }
    return verdictOf({ passing: done }, [ARM['R9.1']], ps, 'atomic', undefined);
  },
  reported: (op, ret, _out, ps) => (op.kind === 'arm_rmi_populate' && ret === 0 ? pagesOf(op, ps) : 0),
  mustPopulate: (n, ret) => (ret === 0 ? n : 0),
  fields: () => ({}),
  success: () => 0,
};

/** The page walk of R12 and RN: kvm_gmem_populate() over the start memslot, truncated at its end. */
function gmemPopulateWalk(gen: 'R12' | 'RN', op: ArmPopulate, w: World, backend: BackendModel): Prediction {
  const ps = w.geo.page_size;
  const gfn0 = op.base / ps;
  const slot = slotAt(w, gfn0);
  if (!hasGmem(slot)) return rejected(GP.noGmem, -EINVAL);
  if (gmemFile(w, slot) === undefined) return rejected(GP.noFile, -EFAULT);
  const asked = pagesOf(op, ps);
  const span = Math.min(asked, slot.base_gfn + slot.npages - gfn0);
  const src = (i: number) => op.source_uaddr + i * ps;
  const poisoned: PageCheck = { row: GP.hwpoison, errno: -EHWPOISON, fails: (p) => folioPoisoned(w, p.folio) };
  const populated: PageCheck = { row: ARM[gen === 'R12' ? 'R12.rmi' : 'RN.10'], errno: -ENXIO, fails: (p) => p.pfn !== undefined && notHostOwned(w, p.backend, p.pfn), fw: DELEGATE_REFUSED };
  const checks: PageCheck[] = gen === 'R12'
    // Old kvm_gmem_populate(): prepared, attribute, then the callback's get_user_pages() and RMI.
    ? [
        poisoned,
        { row: ARM['R12.7'], errno: -EEXIST, fails: (p) => p.folio?.uptodate === true },
        { row: ARM['R12.7'], errno: -EINVAL, fails: (p) => !isPrivate(w, p.gfn) },
        { row: ARM['R12.src'], errno: -EFAULT, fails: (p) => !userPageOk(w, src(p.i), false) },
        populated,
      ]
    // Newest kvm_gmem_populate(): GUP (no FOLL_WRITE), attribute, then the RMI.
    : [
        { row: ARM['RN.src'], errno: -EFAULT, beforeGetPfn: true, fails: (p) => !userPageOk(w, src(p.i), false) },
        poisoned,
        { row: ARM['RN.2'], errno: -EINVAL, fails: (p) => !isPrivate(w, p.gfn) },
        populated,
      ];
  const walk = walkPages(w, backend, gfn0, span, checks);
  const stale = Array.from({ length: span }, (_x, i) => gfn0 + i).some((g) => staleMapping(w, g));
  const relational = stale ? `${ARM['RN.11'].id}: an IPA of the range is still mapped (an earlier unmap failed)` : w.freeList.length < 2 * span + 16 ? MEM_LOW : undefined;
  const success = span < asked ? [ARM[gen === 'R12' ? 'R12.1' : 'RN.1'], GP.slotEnd] : [ARM[gen === 'R12' ? 'R12.1' : 'RN.1']];
  return verdictOf(walk, success, ps, gen === 'R12' ? 'bytes' : 'first-page', relational);
}

/**
 * R12: KVM_ARM_RMI_POPULATE as v12 documents it (note §5b): "Returns: number of bytes
 * populated", may populate less than asked, fields are input only; silent cases decided by
 * v12 20/46 over the old kvm_gmem_populate(): struct checks (-EINVAL, no wrap or source
 * alignment check), realm state (R12.2), size 0 reaches the WARN (-EINVAL), then per page
 * prepared (-EEXIST), attribute (-EINVAL), GUP (-EFAULT), RMI (-ENXIO).
 */
export const r12Spec: PopulateSpec = {
  gen: 'R12',
  backend: 'cca',
  ioctl: 'KVM_ARM_RMI_POPULATE',
  doc: DOC.R12,
  errnos: [-EPERM, -EINVAL, -EEXIST, -EBUSY, -ENXIO, -EFAULT, -ENOMEM, -EINTR, -EIO, -EHWPOISON],
  internalFw: RTT_WALKS,
  predict(op, w, backend): Prediction {
    if (op.kind !== 'arm_rmi_populate') return none('not this ioctl');
    const ps = w.geo.page_size;
    // No wrap test: a wrapping, aligned range goes on to the walk, cut at the memslot's end.
    if (op.reserved !== 0 || (op.flags & ~KVM_ARM_RMI_POPULATE_FLAGS_MEASURE) !== 0 || op.base % ps !== 0 || !endAligned(op, ps)) return rejected(ARM['R12.4'], -EINVAL);
    const state = realmState(w, ARM['R12.2']);
    if (state !== undefined) return state;
    if (op.size === 0n) return rejected(ARM['R12.5'], -EINVAL);
    return gmemPopulateWalk('R12', op, w, backend);
  },
  reported: (op, ret, _out, ps) => (op.kind === 'arm_rmi_populate' && ret > 0 ? Math.floor(ret / ps) : 0),
  mustPopulate: (n) => n,
  fields: () => ({}),
  success: (n, ps) => n * ps,
};

/**
 * RN: KVM_ARM_RMI_POPULATE in the newest stored tree (note §5d): 0, with base/size/source_uaddr
 * updated when the range was not all populated; PRIVATE required; source_uaddr a valid,
 * page-aligned pointer; only before any vCPU ran. Check order: struct (-EINVAL) -> realm state
 * (-EBUSY/-ENXIO; created if NONE) -> protected IPA range (-EINVAL) -> size 0 (0) ->
 * kvm_gmem_populate() (GUP, attribute, RMI -ENXIO) -> fields written back on success only.
 */
export const rnSpec: PopulateSpec = {
  gen: 'RN',
  backend: 'cca',
  ioctl: 'KVM_ARM_RMI_POPULATE',
  doc: DOC.RN,
  errnos: [-EINVAL, -EBUSY, -ENXIO, -EIO, -EFAULT, -ENOMEM, -EINTR, -EHWPOISON],
  internalFw: RTT_WALKS,
  predict(op, w, backend): Prediction {
    if (op.kind !== 'arm_rmi_populate') return none('not this ioctl');
    // RN.12: the struct is copied back after every kvm_arm_rmi_populate(), whatever it returned.
    const pred = predictRn(op, w, backend);
    return op.arg_readonly === true ? copyBackFaults(pred, ARM['RN.12'], () => true) : pred;
  },
  reported: (op, ret, out, ps) => (op.kind === 'arm_rmi_populate' && ret === 0 ? Math.floor(((out.base ?? op.base) - op.base) / ps) : 0),
  mustPopulate: (n) => n,
  fields(op, n, ret, ps) {
    if (op.kind !== 'arm_rmi_populate') return {};
    // Out fields are numbers (a size past 2^53 prints rounded, as the backend writes it).
    if (ret !== 0) return { base: op.base, size: Number(op.size), source_uaddr: op.source_uaddr };
    return { base: op.base + n * ps, size: Number(op.size - BigInt(n * ps)), source_uaddr: op.source_uaddr + n * ps };
  },
  success: () => 0,
};

/** RN's documented result of a call, as if its struct were writable. */
function predictRn(op: ArmPopulate, w: World, backend: BackendModel): Prediction {
  const ps = w.geo.page_size;
  if (op.reserved !== 0 || (op.flags & ~KVM_ARM_RMI_POPULATE_FLAGS_MEASURE) !== 0 || rangeWraps(op) || op.base % ps !== 0 || !endAligned(op, ps)) return rejected(ARM['RN.4'], -EINVAL);
  if (op.source_uaddr === 0 || op.source_uaddr % ps !== 0) return rejected(ARM['RN.3'], -EINVAL);
  const state = realmState(w, ARM['RN.5']);
  if (state !== undefined) return state;
  const limit = 2 ** (ccaOf(w).kernel.ia_bits - 1);
  if (op.base >= limit || BigInt(op.base) + op.size > BigInt(limit)) return rejected(ARM['RN.7'], -EINVAL);
  if (op.size === 0n) return { kind: 'verdict', rows: [ARM['RN.8']], ret: [0], min: 0, max: 0, fw: [] };
  return gmemPopulateWalk('RN', op, w, backend);
}
