import type { BackendModel } from '../../model/backends/Backend.js';
import { snpOf } from '../../model/backends/snp/access.js';
import { rmpEntry } from '../../model/backends/snp/state.js';
import type { Op } from '../../model/scenario/Scenario.js';
import type { World } from '../../model/world/World.js';
import { KVM_SEV_SNP_PAGE_TYPE_CPUID, KVM_SEV_SNP_PAGE_TYPE_ZERO, SNP_PAGE_TYPES } from '../../model/backends/snp/uapi.js';
import { gmemGupNpages } from '../../model/geometry.js';
import { EAGAIN, EFAULT, EINVAL, EIO } from '../../model/kernel/errno.js';
import { IS_ALIGNED } from '../../model/kernel/ref.js';
import { u64_add, u64_div_long, u64_sub_pages, u64ToGfn } from '../../model/kernel/u64.js';
import { CODE, DOC, GP, SNP, type Row } from './rows.js';
import { copyBackFaults, none, rejected, walkPages, type PageCheck, type PageCtx, type PopulateSpec, type Prediction } from './spec.js';
import { folioPoisoned, gmemFile, hasGmem, isPrivate, notHostOwned, slotAt, userPageOk, userRangeReadable } from './world.js';

/** S1, S2, and S3 (S2 with the in-place series' NULL source: rows S3.1, S3.2). */
export type SnpGen = 'S1' | 'S2' | 'S3';

/**
 * KVM_SEV_SNP_LAUNCH_UPDATE (note §1). Documented: 0 on success with the remaining range written
 * back ("not guaranteed to have processed the entire range"); the GPA range must be PRIVATE in
 * advance; `uaddr` ignored for ZERO. Where the document is silent (every errno but the struct
 * checks) the code decides: every failure of kvm_gmem_populate() on the first page is -EIO with
 * `error` = the firmware status (0 when the firmware did not fail), a failure on a later page is
 * swallowed into partial progress (GP.4), and the struct is written back only on success.
 *
 * Check order (S2, note §1 "Check order"): not SNP -> struct checks (-EINVAL) -> non-ZERO uaddr
 * (S2 only) -> memslot -> kvm_gmem_populate(): file -> per page (GUP, folio, attribute, RMP,
 * firmware). S1 is the same minus the uaddr checks and with `len == 0` reaching the WARN. S3 (the
 * in-place series) drops the NULL-uaddr check: in place the page is loaded as it is, with the
 * module parameter off the callback refuses it (-EIO) after the guest_memfd and attribute checks.
 */
export function snpSpec(gen: SnpGen): PopulateSpec {
  const doc = DOC[gen];
  return {
    gen,
    backend: 'snp',
    ioctl: 'KVM_SEV_SNP_LAUNCH_UPDATE',
    doc,
    errnos: [-EINVAL, -EFAULT, -EIO, -EAGAIN],
    internalFw: [],
    predict(op, w, backend): Prediction {
      if (op.kind !== 'snp_launch_update') return none('not this ioctl');
      // S1.19/S2.10: the params are copied back only after kvm_gmem_populate() succeeded.
      const pred = predictSnp(gen, op, w, backend);
      return op.arg_readonly === true ? copyBackFaults(pred, SNP[gen === 'S1' ? 'S1.19' : 'S2.10'], (ret) => ret === 0) : pred;
    },
    reported: (op, ret, out) => (op.kind === 'snp_launch_update' && ret === 0 ? (out.gfn_start ?? Number(op.gfn_start)) - Number(op.gfn_start) : 0),
    mustPopulate: (n) => n,
    fields(op, n, ret, ps, exact) {
      if (op.kind !== 'snp_launch_update') return {};
      // Written back only on success (sev.c: copy_to_user() after count >= 0). `error` is the
      // firmware status on failure: 0 when the firmware did not fail (note §1 check order (6)).
      if (ret !== 0) return { gfn_start: Number(op.gfn_start), len: Number(op.len), uaddr: op.uaddr, ...(exact ? { error: 0 } : {}) };
      // S3.1: a NULL source is not advanced (v8 22/46: `if (src && type != ZERO)`). The u64
      // fields advance as C's do and are read back as numbers (model/backends/snp/backend.ts).
      return { gfn_start: Number(u64_add(op.gfn_start, BigInt(n))), len: Number(u64_sub_pages(op.len, n, ps)), uaddr: op.type === KVM_SEV_SNP_PAGE_TYPE_ZERO || (gen === 'S3' && op.uaddr === 0) ? op.uaddr : op.uaddr + n * ps, error: 0 };
    },
    success: () => 0,
  };
}

/** The documented result of a call, as if its params were writable. */
function predictSnp(gen: SnpGen, op: Extract<Op, { kind: 'snp_launch_update' }>, w: World, backend: BackendModel): Prediction {
  const r = (s1: keyof typeof SNP, s2: keyof typeof SNP = s1): Row => SNP[gen === 'S1' ? s1 : s2];
  const ps = w.geo.page_size;
  const s = snpOf(w);
  if (!s.kernel.snp_context) return rejected(SNP['S1.17'], -EINVAL);
  if (gen !== 'S1' && op.len === 0n) return rejected(SNP['S2.3'], -EINVAL);
  if (!IS_ALIGNED(op.len, ps)) return rejected(SNP['S1.7'], -EINVAL);
  if (op.flags !== 0) return rejected(SNP['S1.6'], -EINVAL);
  if (!(SNP_PAGE_TYPES as readonly number[]).includes(op.type)) return rejected(SNP['S1.5'], -EINVAL);
  const zero = op.type === KVM_SEV_SNP_PAGE_TYPE_ZERO;
  if (gen === 'S2' && !zero && op.uaddr === 0) return rejected(SNP['S2.2'], -EINVAL);
  if (gen !== 'S1' && !zero && op.uaddr % ps !== 0) return rejected(SNP['S2.1'], -EINVAL);
  // A gfn_start past every slot (a fuzzer's near 2^64) finds none: u64ToGfn() keeps it past them.
  const gfn0 = u64ToGfn(op.gfn_start);
  const slot = slotAt(w, gfn0);
  if (!hasGmem(slot)) return rejected(r('S1.11', 'S2.5'), -EINVAL);
  // kvm_gmem_populate() takes the file before its (empty) loop: a zero length on a slot whose
  // guest_memfd is gone is -EFAULT there, -EIO here, where no up-front check refuses it.
  if (op.len === 0n) return gmemFile(w, slot) === undefined ? rejected(SNP['S1.8'], -EINVAL, -EIO) : rejected(SNP['S1.8'], -EINVAL, 0);
  if (gmemFile(w, slot) === undefined) return rejected(GP.noFile, -EIO);
  if (gen === 'S1' && !zero && op.uaddr === 0) return rejected(SNP['S1.10'], -EIO);
  // "len": a u64 byte count; pages asked past the slot's end are not populated (S1.3).
  const asked = u64_div_long(op.len, ps);
  const span = Math.min(asked, slot.base_gfn + slot.npages - gfn0);
  const cpuid = op.type === KVM_SEV_SNP_PAGE_TYPE_CPUID;
  const src = (i: number) => op.uaddr + i * ps;
  const poisoned: PageCheck = { row: GP.hwpoison, errno: -EIO, fails: (p) => folioPoisoned(w, p.folio) };
  // S3: no source to pin; without in-place conversion the callback refuses the first page (S3.2).
  const inPlaceSrc = gen === 'S3' && !zero && op.uaddr === 0;
  const checks: PageCheck[] = inPlaceSrc
    ? [
        poisoned,
        { row: SNP['S1.2'], errno: -EIO, fails: (p) => !isPrivate(w, p.gfn) },
        { row: SNP['S3.2'], errno: -EIO, fails: () => w.gmemInPlace === undefined },
        { row: SNP['S2.6'], errno: -EIO, fails: (p) => p.pfn !== undefined && notHostOwned(w, p.backend, p.pfn) },
      ]
    : gen !== 'S1'
    ? [
        { row: SNP['S2.8'], errno: -EIO, beforeGetPfn: true, fails: (p) => !zero && cpuid && userPageOk(w, src(p.i), false) && !userPageOk(w, src(p.i), true) },
        { row: SNP['S2.7'], errno: -EIO, beforeGetPfn: true, fails: (p) => !zero && !userPageOk(w, src(p.i), false) },
        poisoned,
        { row: SNP['S1.2'], errno: -EIO, fails: (p) => !isPrivate(w, p.gfn) },
        { row: SNP['S2.6'], errno: -EIO, fails: (p) => p.pfn !== undefined && notHostOwned(w, p.backend, p.pfn) },
      ]
    : [
        poisoned,
        { row: SNP['S1.12'], errno: -EIO, fails: (p) => p.folio?.uptodate === true && !preparedOnly(w, p) },
        { row: SNP['S1.2'], errno: -EIO, fails: (p) => !isPrivate(w, p.gfn) },
        { row: SNP['S1.12'], errno: -EIO, fails: (p) => p.pfn !== undefined && notHostOwned(w, p.backend, p.pfn) && !preparedOnly(w, p) },
        { row: SNP['S1.13'], errno: -EIO, fails: (p) => !zero && !userRangeReadable(w, src(p.i), ps) },
      ];
  const pred = snpOutcome(gen, w, backend, checks, gfn0, span, asked, zero || inPlaceSrc ? undefined : op.uaddr);
  return inPlaceSrc && pred.kind === 'verdict' && pred.ret.includes(0) ? { ...pred, rows: [SNP['S3.1'], ...pred.rows] } : pred;
}

/**
 * A page that is "already populated" (S1.12) is one an earlier LAUNCH_UPDATE loaded. Every S1
 * tree but paolo-v1 marks a folio uptodate only once it was, and makes a page RMP-private only to
 * load it. paolo-v1's fallocate() clears a folio, marks it uptodate and prepares it
 * (sev_gmem_prepare(): RMP-private to the guest at its GPA, neither validated nor immutable)
 * with nothing loaded: a page the VMM pre-allocated, which the document never says populate may
 * refuse. Sean Christopherson called the refusal "unnecessarily restrictive and wrong"
 * (https://lore.kernel.org/all/ZmeOxAtwfTsDCi1x@google.com/); v6.11 moved preparation out of
 * fallocate() for it (torvalds/linux b85524314a3d). The guest fault path prepares the same way
 * in every tree, and a page it prepared counts as populated there (v6.11 refuses its uptodate
 * folio): the model runs no guest fault, so this state means fallocate() here.
 */
function preparedOnly(w: World, p: PageCtx): boolean {
  if (p.pfn === undefined) return false;
  const e = rmpEntry(snpOf(w), p.pfn);
  return e.assigned && !e.validated && !e.immutable && e.asid === snpOf(w).guest.asid && e.gpa === p.gfn * w.geo.page_size;
}

function snpOutcome(gen: SnpGen, w: World, backend: BackendModel, checks: readonly PageCheck[], gfn0: number, span: number, asked: number, src: number | undefined): Prediction {
  const ps = w.geo.page_size;
  const walk = walkPages(w, backend, gfn0, span, checks);
  const relational =
    snpOf(w).guest.snp_state !== 'GSTATE_LAUNCH' ? `${SNP['S1.18'].id}: ${SNP['S1.18'].result}`
    // RFC v1 pins the whole first chunk before any page; v6.11 copies page by page: with a
    // source hole in the range, the two S1 codes populate different counts (CODE.rfc, CODE.gmemOld).
    : gen === 'S1' && src !== undefined && !userRangeReadable(w, src, span * ps) ? `${SNP['S1.13'].id} in an S1 range: ${CODE.rfc} fails the call where ${CODE.gmemOld} populates up to the hole`
    : w.freeList.length < span + 8 ? 'host memory nearly exhausted: a folio allocation may fail'
    : undefined;
  const extra = relational === undefined ? {} : { relational };
  if (walk.passing === 0 && walk.stop !== undefined) return { kind: 'verdict', rows: walk.stop.rows, ret: [-EIO], min: 0, max: 0, fw: walk.stop.fw, ...extra };
  const p = walk.passing;
  const rows: Row[] = walk.stop !== undefined ? [SNP[gen === 'S1' ? 'S1.20' : 'S2.9'], ...walk.stop.rows] : span < asked ? [SNP['S1.3'], GP.slotEnd] : [SNP['S1.1']];
  // S1.3: a success may process fewer pages; RFC v1 (S1) does at most GMEM_GUP_NPAGES a call.
  const min = gen === 'S1' ? Math.min(p, gmemGupNpages(w.geo)) : p;
  return { kind: 'verdict', rows, ret: [0], min, max: p, fw: [], ...extra };
}
