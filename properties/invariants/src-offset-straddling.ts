import { defineInvariant } from '../Invariant.js';
import type { PopulateRequest } from '../../model/backends/Backend.js';
import { hostPage } from '../../model/world/hostMemory.js';
import { PROV_FIRMWARE, PROV_ZERO, provenanceText } from '../../model/world/provenance.js';
import { gfnFileIndex, gfnFolioPfn, populatesInPlace, readUser, userAddressByPfn, type UserBytes } from '../views.js';
import { kernelOutcome } from '../../model/scenario/runScenario.js';

/**
 * For every source alignment and page count, destination byte b of populated page i comes
 * from exactly source byte `src + i * PAGE_SIZE + b` (ZERO pages are zero, SECRETS pages the
 * firmware's); the kernel reads nothing outside the source buffer; and a write-back (SNP's
 * CPUID table) lands on the source bytes of the page that failed, all of them, and nowhere else.
 * RFC v1's straddling copy (two memcpy()s per page when `src_offset != 0`) is what made this
 * worth checking byte by byte (Yan Zhao's and Ira Weiny's review of 3/3).
 */
interface Pending {
  readonly req: PopulateRequest;
  readonly source: UserBytes;
  /** The whole user memory before the op, by user page address, to find what the op wrote. */
  readonly userBefore: Map<number, { data: Uint8Array; prov: Float64Array }>;
  readonly uaddrOf: Map<number, number>;
  /** Folios removed during the op: page index → pfn (one guest_memfd is punched per call). */
  readonly removed: Map<number, number>;
}

export const srcOffsetStraddling = defineInvariant({
  id: 'src-offset-straddling',
  description: 'Require each populated byte to come from its own source byte, and write-backs to land on the right source bytes',
  cites: [
    'https://lore.kernel.org/all/20251113230759.1562024-4-michael.roth@amd.com/ (RFC v1 3/3, src_offset)',
    'seed thread: Yan Zhao, 2025-11-20, "Why src_offset is not 0 starting from the 2nd page?"',
  ],
  observes: ['mem_read', 'folio'],
  messages: {
    wrongByte: 'gfn {gfn} byte {byte}: destination holds {got}, expected {want}',
    readPastSource: 'kernel read {len} bytes at user 0x{uaddr} (via {via}), outside the source [0x{lo}, 0x{hi})',
    writeBackOutside: 'user byte 0x{uaddr} changed although it is outside the failed page\'s source [0x{lo}, 0x{hi})',
    writeBackWrong: 'write-back of gfn {gfn}: user byte 0x{uaddr} holds {got}, destination byte {byte} holds {want}',
    writeBackPartial: 'write-back of gfn {gfn} rewrote {done} of {total} source bytes',
  },
  create: () => {
    let pending: Pending | undefined;
    return {
      opBegin(_i, op, w, backend) {
        const req = backend.populateRequest(op, w.geo);
        // A page that is its own source is in-place-source's to judge.
        if (req === undefined || populatesInPlace(w, req)) {
          pending = undefined;
          return;
        }
        const userBefore = new Map<number, { data: Uint8Array; prov: Float64Array }>();
        const ps = w.geo.page_size;
        for (const v of w.mm.vmas) v.pfns.forEach((pfn, i) => {
          const p = hostPage(w.host, pfn);
          if (p !== undefined) userBefore.set(v.start + i * ps, { data: p.data.slice(), prov: p.prov.slice() });
        });
        pending = { req, source: readUser(w, req.src, req.src === 0 ? 0 : req.npages * w.geo.page_size), userBefore, uaddrOf: userAddressByPfn(w), removed: new Map() };
      },
      event(e, w, _b, report) {
        // A folio taken out during the call (paolo-v1 punches a failed page out again): its page
        // still holds what the write-back was copied from.
        if (pending !== undefined && e.kind === 'folio' && e.change === 'remove') pending.removed.set(e.index, e.pfn);
        if (pending === undefined || e.kind !== 'mem_read') return;
        const base = pending.uaddrOf.get(e.pfn);
        if (base === undefined || pending.req.src === 0) return;
        const uaddr = base + e.offset;
        const lo = pending.req.src;
        const hi = lo + pending.req.npages * w.geo.page_size;
        if (uaddr < lo || uaddr + e.len > hi) report('readPastSource', { uaddr: uaddr.toString(16), len: e.len, via: e.via, lo: lo.toString(16), hi: hi.toString(16) });
      },
      opEnd(result, w, backend, report) {
        if (pending === undefined) return;
        const { req, source } = pending;
        const ps = w.geo.page_size;
        const kernel = kernelOutcome(result);
        const count = backend.populatedCount(result.op, kernel.ret, kernel.out, ps);
        for (let i = 0; i < count; i++) {
          const gfn = req.gfn_start + i;
          const dst = hostPage(w.host, gfnFolioPfn(w, gfn) ?? 0);
          if (dst === undefined) continue;
          for (let b = 0; b < ps; b++) {
            const want = req.flavour === 'ZERO' ? PROV_ZERO : req.flavour === 'SECRETS' ? PROV_FIRMWARE : source.prov[i * ps + b] ?? Number.NaN;
            const got = dst.prov[b] ?? Number.NaN;
            if (got !== want) {
              report('wrongByte', { gfn, byte: b, got: provenanceText(got), want: Number.isNaN(want) ? 'unmapped source' : provenanceText(want) });
              break;
            }
          }
        }
        // Write-backs: user bytes that changed during the op.
        const f = count;
        const lo = req.src + f * ps;
        const hi = lo + ps;
        const at = gfnFileIndex(w, req.gfn_start + f);
        const dst = hostPage(w.host, gfnFolioPfn(w, req.gfn_start + f) ?? (at === undefined ? undefined : pending.removed.get(at.index)) ?? 0);
        // By user page, as the VMM reads them after the op: a page that maps the shared zero page
        // is no VMM's own (a write there is source-write-permission's zeroPageWritten), and one a
        // write fault gave a copy of it is compared with the zeros it had.
        let done = 0;
        let judged = ps;
        for (const v of w.mm.vmas) for (let i = 0; i < v.pfns.length; i++) {
          const base = v.start + i * ps;
          const pfn = v.pfns[i];
          if (pfn !== undefined && pfn === w.mm.zeroPage) {
            judged -= Math.max(0, Math.min(hi, base + ps) - Math.max(lo, base));
            continue;
          }
          const p = pfn === undefined ? undefined : hostPage(w.host, pfn);
          const before = pending.userBefore.get(base);
          if (p === undefined || before === undefined) continue;
          for (let b = 0; b < ps; b++) {
            const uaddr: number = base + b;
            if (p.prov[b] === before.prov[b] && p.data[b] === before.data[b]) continue;
            if (req.src === 0 || uaddr < lo || uaddr >= hi) {
              report('writeBackOutside', { uaddr: uaddr.toString(16), lo: lo.toString(16), hi: hi.toString(16) });
              return;
            }
            done++;
            const off = uaddr - lo;
            if (dst === undefined || dst.prov[off] !== p.prov[b] || dst.data[off] !== p.data[b]) {
              report('writeBackWrong', { gfn: req.gfn_start + f, uaddr: uaddr.toString(16), byte: off, got: provenanceText(p.prov[b] ?? Number.NaN), want: dst === undefined ? 'no page' : provenanceText(dst.prov[off] ?? Number.NaN) });
              return;
            }
          }
        }
        if (done > 0 && done < judged) report('writeBackPartial', { gfn: req.gfn_start + f, done, total: judged });
      },
    };
  },
});
