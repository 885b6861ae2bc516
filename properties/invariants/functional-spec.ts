import { defineInvariant, type MessageValues, type Reporter } from '../Invariant.js';
import type { BackendModel, PopulateRequest } from '../../model/backends/Backend.js';
import { errnoName } from '../../model/kernel/errno.js';
import { hashBytes } from '../../model/world/hash.js';
import { hostPage } from '../../model/world/hostMemory.js';
import { PROV_GARBAGE } from '../../model/world/provenance.js';
import type { World } from '../../model/world/World.js';
import { predictCall, type GenericPrediction, type PopulateSpec, type Prediction } from '../oracle/index.js';
import type { Generation } from '../oracle/generations.js';
import { folioOf } from '../../model/kernel/services/filemap.js';
import { DOC, type Row } from '../oracle/rows.js';
import { guestAt } from '../oracle/world.js';
import { gfnFolioPfn } from '../views.js';
import { kernelOutcome } from '../../model/scenario/runScenario.js';

/**
 * The functional oracle (properties/oracle/): what MUST happen. Every other invariant forbids
 * something; a revision whose every populate fails, or that answers a documented condition with
 * another errno, passes them all. This one holds each populate ioctl to the executable
 * specification of the uAPI generation its revision implements (oracle/generations.ts), written
 * from the documents (and, where they are silent, the code they cite), never from a revision:
 *
 * - exactly, when no injected fault fired and no firmware refusal the specification cannot
 *   predict occurred: the return value and errno of the deciding row (the check order decides
 *   which wins), the written-back fields, the number of pages populated (every page whose
 *   documented preconditions hold, up to the first that fails, cut at the memslot end where the
 *   generation does that);
 * - relationally otherwise (a fault fired, SNP after LAUNCH_FINISH, host memory nearly gone):
 *   the progress reported is at most the exact count, the errno is one the documents allow for
 *   the ioctl, and the fields agree with the progress;
 * - either way, the pages reported populated are the guest's at their GPA, measured (as many
 *   entries as the firmware ABI gives a page) and uptodate (the code's rule: the fault path
 *   clears a folio that is not), and nothing past them was given to the guest, marked uptodate,
 *   measured or (past the failing page) rewritten.
 *
 * The VM ioctls the documents state a result for (KVM_SET_MEMORY_ATTRIBUTES, KVM_CREATE_GUEST_MEMFD,
 * KVM_SET_USER_MEMORY_REGION2 with a guest_memfd, fallocate(PUNCH_HOLE)) are held to it exactly,
 * when no fault fired. A revision with no built-in id and no `derivedFrom` gets no verdict: which
 * document it implements is unknown. A dead or closed VM answers every ioctl alike: no verdict.
 *
 * A wrong answer (wrongErrno, wrongState) carries the rows that decide the call as its
 * signature's detail (`wrongErrno[S2.2]@snp_launch_update`; rowsDetail()): each documented
 * condition answered wrongly is a bug of its own, and a known one (G3's uaddr 0 on v7.0) does
 * not hide another at the same ioctl. The other messages judge pages, whatever row predicted the call: no detail.
 */
type Msg = 'wrongErrno' | 'populatedCount' | 'writeBack' | 'notPopulated' | 'notMeasured' | 'notUptodate' | 'touchedPastCount' | 'markedPrepared' | 'markedUptodate' | 'unexpectedErrno' | 'wrongState';

/** Pages judged per call at most (the corpus and generators stay far below). */
const MAX_PAGES = 4096;

interface PageBefore {
  readonly guest: boolean;
  readonly contents: string | undefined;
  /** Its folio is uptodate: "prepared", which the old kvm_gmem_populate() refuses with -EEXIST. */
  readonly prepared: boolean;
}

interface Pending {
  readonly spec: PopulateSpec;
  readonly pred: Extract<Prediction, { kind: 'verdict' }>;
  readonly req: PopulateRequest;
  readonly before: readonly PageBefore[];
  readonly measuredBefore: number;
  /**
   * A page on the free list is still (partly) the firmware's: freed while firmware-owned (G4,
   * G5, G13). Which page a new folio gets is the allocator's choice, so whether a page of this
   * call meets it cannot be predicted.
   */
  readonly reusable: boolean;
}

export const functionalSpec = defineInvariant({
  id: 'functional-spec',
  description: 'Require each populate ioctl, and the VM ioctls around it, to return, write back, populate and measure what its uAPI document says',
  cites: [DOC.S1, DOC.S2, DOC.T1, DOC.T2, DOC.R9, DOC.R12, DOC.RN, DOC.A],
  observes: ['fault', 'fw'],
  messages: {
    wrongErrno: '{ioctl} returned {got}; {row} of {doc} says {want}',
    populatedCount: '{ioctl} reported {got} page(s) populated; {row} of {doc} says {want}',
    writeBack: '{ioctl} wrote back {field}={got}; for {n} page(s) populated, {row} of {doc} says {want}',
    notPopulated: '{ioctl}: gfn {gfn}, page {i} of the {n} reported populated, is not the guest\'s at its GPA ({state}); {row} of {doc}',
    notMeasured: '{ioctl}: gfn {gfn}, page {i} of the {n} reported populated, has {got} measurement entries where the firmware ABI gives {want}; {row} of {doc}',
    notUptodate: '{ioctl}: gfn {gfn}, page {i} of the {n} reported populated, is in a folio not marked uptodate: the next fault on it (kvm_gmem_get_pfn()) clears the page over what was loaded; {row} of {doc} (the code decides: guest_memfd.c)',
    touchedPastCount: '{ioctl}: gfn {gfn}, past the {n} page(s) reported populated, changed: {what}; {row} of {doc}',
    markedPrepared: '{ioctl}: gfn {gfn}, past the {n} page(s) reported populated, was marked prepared (its folio uptodate) without being populated: where prepared folios are refused, populating it gets -EEXIST; {row} of {doc}',
    markedUptodate: '{ioctl}: gfn {gfn}, past the {n} page(s) reported populated, came out uptodate without being populated: the fault path then maps it without clearing it, with whatever the call left there; {row} of {doc} (the code decides: guest_memfd.c)',
    unexpectedErrno: '{ioctl} returned {got} ({why}); {doc} allows only {allowed}',
    wrongState: '{ioctl} returned {ret} but {what}; {row} of {doc}',
  },
  create: (ctx) => {
    let pending: Pending | undefined;
    let generic: GenericPrediction | undefined;
    let faultFired = false;
    let fwFailed: string[] = [];
    let buggedBefore = false;
    // gfns the firmware handed to the guest during this call. A gfn whose new folio reuses a page
    // the firmware never gave back (leaked-page's finding) is the guest's without this call's doing.
    const granted = new Set<number>();
    return {
      opBegin(_i, op, w, backend) {
        pending = undefined;
        generic = undefined;
        faultFired = false;
        fwFailed = [];
        granted.clear();
        buggedBefore = w.kvm.vm_bugged;
        const call = predictCall(op, w, backend, ctx.revision);
        if (call?.kind === 'generic') generic = call.generic;
        if (call?.kind !== 'populate') return;
        const { spec, pred, req } = call;
        const before: PageBefore[] = [];
        // Under the hugepages what-if a call can reach the rest of a huge folio past the pages
        // asked for (B6, B9): those are judged as pages past the count too.
        const reach = req.npages + (w.gmemHugeOrder > 0 ? 2 ** w.gmemHugeOrder : 0);
        for (let i = 0; i < Math.min(reach, MAX_PAGES); i++) before.push(pageState(w, backend, req.gfn_start + i));
        const reusable = w.freeList.some((pfn) => backend.ownership(w, pfn).kind !== 'host');
        pending = { spec, pred, req, before, measuredBefore: backend.measurement(w).length, reusable };
      },
      event(e, w) {
        if (e.kind === 'fault') faultFired = true;
        if (e.kind === 'fw' && e.outcome.kind === 'succeeded' && e.grantGpa !== null) granted.add(Math.floor(e.grantGpa / w.geo.page_size));
        if (e.kind === 'fw' && e.outcome.kind === 'failed' && !e.outcome.forced) fwFailed.push(`${e.cmd}:${e.outcome.condition}`);
      },
      opEnd(result, w, backend, report) {
        if (generic !== undefined) judgeGeneric(generic, result.ret, w, faultFired, report);
        if (pending === undefined) return;
        const { spec } = pending;
        const ps = w.geo.page_size;
        const { op, ret, out } = result;
        // Progress as the kernel reported it: where the copy back faulted (S1.19, S2.10, T.16,
        // RN.12), the struct it failed to write; userspace then keeps the struct it passed.
        const kernel = kernelOutcome(result);
        const n = spec.reported(op, kernel.ret, kernel.out, ps);
        // The outcome the call matched, where the generation's trees allow more than one.
        const pred = alternatives(pending.pred).find((p) => p.ret.includes(ret) && n >= p.min && n <= p.max) ?? pending.pred;
        const rowIds = pred.rows.map(rowName).join(', ');
        const base = { ioctl: spec.ioctl, row: rowIds, doc: spec.doc };
        const unpredicted = fwFailed.filter((f) => !spec.internalFw.includes(f) && !pred.fw.includes(f));
        const why = pred.relational ?? (faultFired ? 'an injected fault fired' : unpredicted.length > 0 ? `the firmware refused ${unpredicted.join(', ')}` : pending.reusable ? 'a free page is still the firmware\'s: a new folio may be it' : undefined);
        let judged = true;
        if (why === undefined) {
          if (!pred.ret.includes(ret)) {
            judged = false;
            if (ret >= 0 && pred.ret.every((x) => x >= 0)) report('populatedCount', { ...base, got: n, want: range(pred.min, pred.max) });
            else report('wrongErrno', { ...base, got: errnoName(ret), want: pred.ret.map(errnoName).join(' or ') }, undefined, rowsDetail(pred.ret.every((x) => x >= 0) ? pred.rows.slice(0, 1) : pred.rows));
          } else if (n < pred.min || n > pred.max) {
            report('populatedCount', { ...base, got: n, want: range(pred.min, pred.max) });
          }
        } else {
          if ((ret < 0 && !spec.errnos.includes(ret)) || (ret >= 0 && ret !== spec.success(n, ps))) {
            report('unexpectedErrno', { ioctl: spec.ioctl, got: errnoName(ret), why, allowed: spec.errnos.map(errnoName).join(', '), doc: spec.doc });
          }
          if (n > pred.max) report('populatedCount', { ...base, got: n, want: `at most ${pred.max}` });
        }
        if (judged) {
          const fields = spec.fields(op, result.lost === undefined ? n : 0, ret, ps, why === undefined);
          for (const [field, want] of Object.entries(fields)) {
            const got = out[field];
            if (got !== want) report('writeBack', { ...base, field, got: got ?? 'nothing', want, n });
          }
        }
        // A KVM_BUG_ON() in the call killed the VM: what it left behind is nobody's progress.
        if (w.kvm.vm_bugged && !buggedBefore) return;
        judgePages(pending, spec.mustPopulate(n, ret), granted, w, backend, base, report);
      },
    };
  },
});

type Report = (messageId: Msg, values: MessageValues) => void;

function alternatives(p: Pending['pred']): Pending['pred'][] {
  return p.or === undefined ? [p] : [p, ...alternatives(p.or)];
}

/** Generations whose populate refuses a prepared folio (-EEXIST). */
const PREPARING: readonly Generation[] = ['S1', 'T1', 'R12'];
/**
 * Generations whose populate no longer refuses an uptodate folio, where uptodate means only
 * "cleared" to the fault path (kvm_gmem_get_pfn() clears a folio that is not): the v7.0
 * guest_memfd.c (torvalds 01f492e1) and the newest kvm-x86 and Arm trees built on it.
 */
const CLEARING: readonly Generation[] = ['S2', 'T2', 'RN'];
/**
 * The in-place series (S3/T3): v8 21/46's __kvm_gmem_get_pfn() clears the first page of a folio
 * that is not uptodate (the whole folio at order 0, every merged kernel's) and marks the folio
 * before the callback runs, so a failed call leaves the page uptodate by design, holding zeros or
 * what the callback copied in. Never stale memory, which the next fault (the guest's, or the
 * VMM's through its guest_memfd mapping) would map uncleared. v7's lookup clears nothing (B17):
 * its populate must leave a failed page not uptodate, as v7.0's does, and a page it leaves
 * uptodate holding stale memory shows it did not. Under the hugepages what-if the rest of a huge
 * folio is stale and uptodate on v8 too: G23's, tolerated there.
 */
const CLEARED_IN_LOOKUP: readonly Generation[] = ['S3', 'T3'];

/** A row as messages name it: its id, and where the document is silent, the code that decides. */
function rowName(r: Row): string {
  return r.code === undefined || !r.result.startsWith('silent') ? r.id : `${r.id} (silent there; the code decides: ${(r.code.split(' ')[0] ?? r.code).replace(/[;,]$/, '')})`;
}

function range(min: number, max: number): string {
  return min === max ? String(max) : `${min} to ${max}`;
}

function pageState(w: World, backend: BackendModel, gfn: number): PageBefore {
  const pfn = gfnFolioPfn(w, gfn);
  const p = pfn === undefined ? undefined : hostPage(w.host, pfn);
  const prepared = pfn !== undefined && folioOf(w, pfn)?.folio.uptodate === true;
  return { guest: pfn !== undefined && backend.ownership(w, pfn).kind === 'guest', contents: p === undefined ? undefined : hashBytes(p.data), prepared };
}

/**
 * Whether any byte of the page is stale by its ghost provenance: never written since boot. A
 * freed page keeps its last owner's tags, so a reused page's old bytes are not seen here.
 */
function holdsStale(w: World, pfn: number): boolean {
  return hostPage(w.host, pfn)?.prov.some((t) => t === PROV_GARBAGE) === true;
}

/** Pages [0, m) populated and measured; past them nothing given (by this call), measured, or (past the failing page) rewritten. */
function judgePages(p: Pending, m: number, granted: ReadonlySet<number>, w: World, backend: BackendModel, base: MessageValues, report: Report): void {
  const ps = w.geo.page_size;
  const added = backend.measurement(w).slice(p.measuredBefore);
  const entries = new Map<number, number>();
  for (const e of added) entries.set(Math.floor(e.gpa / ps), (entries.get(Math.floor(e.gpa / ps)) ?? 0) + 1);
  const seen = new Set<Msg>();
  const once = (id: Msg, values: MessageValues) => {
    if (seen.has(id)) return;
    seen.add(id);
    report(id, values);
  };
  const zeros = new Uint8Array(ps);
  for (let i = 0; i < p.before.length; i++) {
    const gfn = p.req.gfn_start + i;
    const pfn = gfnFolioPfn(w, gfn);
    const got = entries.get(gfn) ?? 0;
    if (i < m) {
      if (pfn === undefined || !guestAt(w, backend, pfn, gfn)) {
        const o = pfn === undefined ? undefined : backend.ownership(w, pfn);
        once('notPopulated', { ...base, gfn, i, n: m, state: o === undefined ? 'no folio' : o.kind === 'host' ? 'host-owned' : o.state });
        continue;
      }
      const want = backend.expectedMeasurement(p.req, gfn, zeros, w).length;
      if (got !== want) once('notMeasured', { ...base, gfn, i, n: m, got, want });
      // The documents are silent; every guest_memfd.c generation decides it: the guest fault
      // path clears a folio that is not uptodate before it maps it (kvm_gmem_prepare_folio()
      // until v6.19, kvm_gmem_get_pfn() in v7.0, __kvm_gmem_get_pfn() in the in-place v8), so a
      // loaded page must come out uptodate, or the guest's first touch wipes it (on SNP a host
      // write into a page the RMP gives the guest).
      else if (folioOf(w, pfn)?.folio.uptodate !== true) once('notUptodate', { ...base, gfn, i, n: m });
      continue;
    }
    const was = p.before[i];
    const now = pageState(w, backend, gfn);
    if (now.guest && was?.guest !== true && granted.has(gfn)) once('touchedPastCount', { ...base, gfn, n: m, what: 'given to the guest' });
    else if (!now.guest && was?.guest === true) once('touchedPastCount', { ...base, gfn, n: m, what: 'taken from the guest' });
    else if (got > 0) once('touchedPastCount', { ...base, gfn, n: m, what: `${got} measurement entr${got === 1 ? 'y' : 'ies'}` });
    // Where preparation is tracked (S1, T1, R12: the old kvm_gmem_populate() marks a folio
    // uptodate only after its callback succeeded), a page this call did not populate must not
    // come out prepared: a retry of it would get -EEXIST for a page nothing was put in.
    else if (PREPARING.includes(p.spec.gen) && now.prepared && was?.prepared === false) once('markedPrepared', { ...base, gfn, n: m });
    // There a page a failed call leaves marked uptodate is mapped as it is by the next fault:
    // the source bytes copied in before the firmware refused them, never measured.
    else if (CLEARING.includes(p.spec.gen) && now.prepared && was?.prepared === false) once('markedUptodate', { ...base, gfn, n: m });
    else if (CLEARED_IN_LOOKUP.includes(p.spec.gen) && now.prepared && was?.prepared === false && pfn !== undefined && holdsStale(w, pfn)) once('markedUptodate', { ...base, gfn, n: m });
    else if (i > m && was?.contents !== undefined && now.contents !== was.contents) once('touchedPastCount', { ...base, gfn, n: m, what: 'contents' });
  }
}

/**
 * The signature detail of a wrong answer: the rows that decide the call. One bug answers one
 * documented condition wrongly; another condition answered wrongly at the same ioctl is another
 * bug, and must not hide behind the first. Where the documents promise a success (S1.1, a cut
 * S1.3, a partial S1.20), that row alone: the promise broken is the success, whichever
 * condition stops the partial one (with it, each such condition made a signature of its own,
 * each needing its own set-up to shrink to). Where they promise an error, every row that
 * decides it (`T.13+T.8`: conditions the trees of a generation check in either order).
 */
function rowsDetail(rows: readonly Row[]): string {
  return rows.map((r) => r.id).join('+');
}

function judgeGeneric(g: GenericPrediction, ret: number, w: World, faultFired: boolean, report: Reporter<Msg>): void {
  const base = { ioctl: g.ioctl, row: rowName(g.row), doc: g.row.doc };
  const ok = g.ret === 'fd' ? ret > 0 : g.ret.includes(ret);
  // Under an injected fault a call may fail honestly (`underFault`); one that still reports
  // success owes the documented state all the same.
  if (!ok && faultFired && g.underFault?.includes(ret) === true) return;
  if (!ok) {
    report('wrongErrno', { ...base, got: errnoName(ret), want: g.ret === 'fd' ? 'a new file descriptor' : g.ret.map(errnoName).join(' or ') }, undefined, rowsDetail([g.row]));
    return;
  }
  if ((faultFired && g.underFault === undefined) || g.after === undefined) return;
  const what = g.after(w);
  if (what !== undefined) report('wrongState', { ...base, ret: errnoName(ret), what }, undefined, rowsDetail([g.row]));
}

