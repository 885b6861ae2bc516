import type { BackendModel } from '../../model/backends/Backend.js';
import { tdxOf } from '../../model/backends/tdx/access.js';
import { KVM_TDX_MEASURE_MEMORY_REGION, TDX_SHARED_BIT_U64 } from '../../model/backends/tdx/uapi.js';
import { u64AtMost, u64_add, u64_shl, u64_sub } from '../../model/kernel/u64.js';
import { EBUSY, EEXIST, EFAULT, EHWPOISON, EINTR, EINVAL, EIO, ENOMEM, EOPNOTSUPP } from '../../model/kernel/errno.js';
import type { World } from '../../model/world/World.js';
import { DOC, GP, TDX } from './rows.js';
import { copyBackFaults, none, rejected, walkPages, type PageCheck, type PopulateSpec, type Prediction, type Walk } from './spec.js';
import { folioAt, folioPoisoned, gmemFile, hasGmem, isPrivate, slotAt, userPageOk } from './world.js';

/** T1, T2, and T3 (T2 with the in-place series' NULL source: rows T3.1, T3.2). */
export type TdxGen = 'T1' | 'T2' | 'T3';

/**
 * KVM_TDX_INIT_MEM_REGION (note §3). Documented: initialize `nr_pages` private pages from
 * `source_addr`, measured with KVM_TDX_MEASURE_MEMORY_REGION; the range must be private; T2 adds
 * that `source_addr` must be PAGE_SIZE-aligned. Silent, decided by the code: the handler calls
 * kvm_gmem_populate() one page at a time (so a page past the memslot is an error, not a
 * truncation), returns the first page error as it is, and writes the region back on every exit,
 * error or not: `source_addr`/`gpa` advanced and `nr_pages` decreased by the pages done.
 *
 * Check order (note §3, newest code): state -> flags -> alignment/zero/overflow/shared GPA/NULL
 * source (all -EINVAL) -> per page: memslot (kvm_gmem_populate -EINVAL), file, GUP of the
 * source (-EFAULT), attribute (-EINVAL), S-EPT present (-EIO), PAGE.ADD, MR.EXTEND. T1 (old
 * tree, GUP in the callback after the gmem checks; RFC v1 GUPs first) also finds a prepared
 * folio (-EEXIST) before the attribute. T3 (the in-place series) has no NULL-source check up
 * front: with the module parameter on the page is added from itself, with it off the callback
 * answers -EOPNOTSUPP after the guest_memfd and attribute checks.
 */
export function tdxSpec(gen: TdxGen): PopulateSpec {
  return {
    gen,
    backend: 'tdx',
    ioctl: 'KVM_TDX_INIT_MEM_REGION',
    doc: DOC[gen],
    errnos: [-EINVAL, -EFAULT, -EINTR, -EIO, -EBUSY, -ENOMEM, -EOPNOTSUPP, -EHWPOISON, ...(gen === 'T1' ? [-EEXIST] : [])],
    internalFw: [],
    predict(op, w, backend): Prediction {
      if (op.kind !== 'tdx_init_mem_region') return none('not this ioctl');
      const ps = w.geo.page_size;
      const t = tdxOf(w);
      // Every check before the region's own ones answers -EINVAL, so their order (which moved
      // in v6.19, T.4) decides nothing here.
      if ((op.hw_error ?? 0) !== 0) return rejected(TDX['T.4'], -EINVAL);
      // The vCPU whose fd the call comes through (Scenario.vcpus): each is initialized on its own.
      if (t.vcpus[op.vcpu ?? 0]?.state !== 'VCPU_TD_STATE_INITIALIZED') return rejected(TDX['T.10'], -EINVAL);
      if (!t.kvm_tdx.hkid_assigned) return rejected(TDX['T.11'], -EINVAL);
      if (t.kvm_tdx.state === 'TD_STATE_RUNNABLE') return rejected(TDX['T.9'], -EINVAL);
      if ((op.flags & ~KVM_TDX_MEASURE_MEMORY_REGION) !== 0) return rejected(TDX['T.3'], -EINVAL);
      if (op.source_addr % ps !== 0) return rejected(TDX['T.6'], -EINVAL);
      // T.7 as the C computes it, in u64: `nr_pages << PAGE_SHIFT` drops its top bits, so from
      // nr_pages 2^52 on the size is taken modulo 2^64 (2^52 pages: size 0, refused; 2^52 + 1:
      // size one page, accepted, and the loop walks on until a page fails). The document says
      // "wraps" and no more; the spec follows the code (CODE.tdxNew).
      const gpa = BigInt(op.gpa);
      const end = u64_add(gpa, u64_shl(BigInt(op.nr_pages), Math.log2(ps)));
      const shared = (x: bigint) => (x & TDX_SHARED_BIT_U64) !== 0n;
      if (op.gpa % ps !== 0 || op.nr_pages <= 0 || end <= gpa || shared(gpa) || shared(u64_sub(end, 1n))) return rejected(TDX['T.7'], -EINVAL);
      // T.8, T2: the newest tree rejects it up front; v7.0 finds no source page only in the
      // callback, after kvm_gmem_populate()'s own checks have passed: a gfn outside every
      // guest_memfd slot is -EINVAL there too, a closed guest_memfd -EFAULT, a poisoned first
      // page -EHWPOISON (GP.5) (CODE.gmemNew).
      if (gen === 'T2' && op.source_addr === 0) {
        const slot = slotAt(w, op.gpa / ps);
        const poisoned = hasGmem(slot) && folioPoisoned(w, folioAt(w, slot, op.gpa / ps));
        return rejected(TDX['T.8'], -EINVAL, -EOPNOTSUPP, -EFAULT, ...(poisoned ? [-EHWPOISON] : []));
      }
      // T.16: the region is written back on every exit of the page loop, whatever the result.
      // A wrapped count walks on until a page fails (past every slot at the latest).
      const walked = tdxOutcome(gen, w, backend, op.gpa / ps, u64AtMost(op.nr_pages, Number.MAX_SAFE_INTEGER), op.source_addr);
      return op.arg_readonly === true ? copyBackFaults(walked, TDX['T.16'], () => true) : walked;
    },
    reported: (op, _ret, out, ps) => (op.kind === 'tdx_init_mem_region' ? Math.floor(((out.gpa ?? op.gpa) - op.gpa) / ps) : 0),
    mustPopulate: (n) => n,
    fields(op, n, _ret, ps) {
      if (op.kind !== 'tdx_init_mem_region') return {};
      // T3.1: a NULL source stays NULL (v8 23/46).
      return { source_addr: gen === 'T3' && op.source_addr === 0 ? 0 : op.source_addr + n * ps, gpa: op.gpa + n * ps, nr_pages: Number(op.nr_pages - BigInt(n)) };
    },
    success: () => 0,
  };
}

function tdxOutcome(gen: TdxGen, w: World, backend: BackendModel, gfn0: number, nr: number, source: number): Prediction {
  const ps = w.geo.page_size;
  const t = tdxOf(w);
  const src = (i: number) => source + i * ps;
  const noSlot: PageCheck = { row: TDX['T.gp'], errno: -EINVAL, beforeGetPfn: true, fails: (p) => !hasGmem(p.slot) };
  const noFile: PageCheck = { row: GP.noFile, errno: -EFAULT, beforeGetPfn: true, fails: (p) => hasGmem(p.slot) && gmemFile(w, p.slot) === undefined };
  // T.8 on T1: no document says what source_addr 0 does; the old tree's GUP of address 0 fails
  // (-EFAULT), and the NULL-source check Yan Zhao asked of RFC v1 and v7.0 adopted answers
  // -EOPNOTSUPP (CODE.tdxV70, kernel-facts B30): a T1 patch may do either.
  // T3: no source to pin; without in-place conversion the callback refuses the page (T3.2),
  // after the guest_memfd and attribute checks.
  const inPlaceSrc = gen === 'T3' && source === 0;
  const noSource: PageCheck = { row: TDX['T3.2'], errno: -EOPNOTSUPP, fails: () => w.gmemInPlace === undefined };
  const gup: PageCheck = source === 0
    ? { row: TDX['T.8'], errno: -EFAULT, alsoErrnos: gen === 'T1' ? [-EOPNOTSUPP] : [], beforeGetPfn: true, fails: () => true }
    : { row: TDX['T.src'], errno: -EFAULT, beforeGetPfn: true, fails: (p) => !userPageOk(w, src(p.i), false) };
  const poisoned: PageCheck = { row: GP.hwpoison, errno: -EHWPOISON, fails: (p) => folioPoisoned(w, p.folio) };
  const prepared: PageCheck = { row: TDX['T.13'], errno: -EEXIST, fails: (p) => p.folio?.uptodate === true };
  const notPrivate: PageCheck = { row: TDX['T.5'], errno: -EINVAL, fails: (p) => !isPrivate(w, p.gfn) };
  const mapped: PageCheck = {
    row: TDX['T.13'], errno: -EIO,
    fails: (p) => t.mirror.has(p.gfn) || t.module.sept.has(p.gfn),
    fw: ['TDH.MEM.PAGE.ADD:sept_entry_state'],
  };
  const walk = inPlaceSrc
    ? walkPages(w, backend, gfn0, nr, [noSlot, noFile, poisoned, notPrivate, noSource, mapped])
    : gen !== 'T1'
    ? walkPages(w, backend, gfn0, nr, [noSlot, noFile, gup, poisoned, notPrivate, mapped])
    // T1: the old tree GUPs in the callback, after the gmem checks (CODE.tdxOld); RFC v1 pins
    // before the invalidate lock, before them (CODE.rfc), and tracks no preparation (CODE.rfcPrep):
    // a prepared folio the old tree refuses (-EEXIST) RFC v1 adds again once a conversion took
    // it out of the S-EPT, so each answer is T1's (walk.alt; found by a fuzz campaign, seed
    // 20261130 on rfc-v1: populate, private -> shared -> private, populate again).
    : walkPages(w, backend, gfn0, nr, [noSlot, noFile, poisoned, prepared, notPrivate, gup, mapped], [noSlot, noFile, gup, poisoned, notPrivate, mapped]);
  const relational = w.freeList.length < nr + 8 ? 'host memory nearly exhausted: a folio allocation may fail' : undefined;
  const extra = relational === undefined ? {} : { relational };
  const verdictOf = (x: Walk): Extract<Prediction, { kind: 'verdict' }> => {
    const or = x.alt === undefined ? {} : { or: verdictOf(x.alt) };
    return x.stop !== undefined
      ? { kind: 'verdict', rows: x.stop.rows, ret: x.stop.errnos, min: x.passing, max: x.passing, fw: x.stop.fw, ...extra, ...or }
      : { kind: 'verdict', rows: inPlaceSrc ? [TDX['T3.1'], TDX['T.1']] : [TDX['T.1']], ret: [0], min: nr, max: nr, fw: [], ...extra, ...or };
  };
  return verdictOf(walk);
}
