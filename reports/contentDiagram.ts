import type { PopulateRequest } from '../model/backends/Backend.js';
import type { Revision } from '../model/revisions/Revision.js';
import { kernelOutcome, runScenario } from '../model/scenario/runScenario.js';
import type { Scenario } from '../model/scenario/Scenario.js';
import { hostPage } from '../model/world/hostMemory.js';
import { PROV_FIRMWARE, PROV_ZERO, decodeProvenance, provenanceText } from '../model/world/provenance.js';
import { findVma } from '../model/world/userspaceMm.js';
import { gfnFolioPfn, readUser } from '../properties/views.js';

/** Messages about where bytes went: the ones a content diagram explains. */
export const CONTENT_MESSAGES: readonly string[] = ['wrongByte', 'readPastSource', 'mismatch', 'writeBackWrong', 'writeBackOutside', 'writeBackPartial'];

interface Captured {
  readonly req: PopulateRequest;
  readonly want: Float64Array;
  readonly sourcePages: string[];
  pages: { gfn: number; pfn: number | undefined; got: Float64Array | undefined }[];
  count: number;
}

/**
 * Which bytes of a populate went where: for each destination page, the source byte each of its
 * bytes came from (by provenance), against the one it should have come from, as a one-character
 * map (`.` right, `X` wrong, `?` no source) and as runs of consecutive bytes.
 */
export function contentDiagram(scenario: Scenario, revision: Revision, opIndex: number, maxPages = 4): string | undefined {
  let cap: Captured | undefined;
  const ps = scenario.geometry.page_size;
  runScenario(scenario, revision, {
    observers: [{
      opBegin(index, op, w, backend) {
        const req = backend.populateRequest(op, scenario.geometry);
        if (index !== opIndex || req === undefined) return;
        const n = Math.min(req.npages, maxPages);
        const src = readUser(w, req.src, req.src === 0 ? 0 : n * ps);
        const want = new Float64Array(n * ps);
        for (let b = 0; b < n * ps; b++) {
          want[b] = req.flavour === 'ZERO' ? PROV_ZERO : req.flavour === 'SECRETS' ? PROV_FIRMWARE : (src.present[b] === 1 ? (src.prov[b] ?? Number.NaN) : Number.NaN);
        }
        const sourcePages: string[] = [];
        if (req.src !== 0) {
          for (let a = req.src - (req.src % ps); a < req.src + n * ps; a += ps) {
            const vma = findVma(w.mm, a);
            const pfn = vma?.pfns[Math.floor((a - vma.start) / ps)];
            sourcePages.push(`0x${a.toString(16)} ${pfn === undefined ? '[hole]' : `[pfn 0x${pfn.toString(16)}]`}`);
          }
        }
        cap = { req, want, sourcePages, pages: [], count: 0 };
      },
      opEnd(result, w, backend) {
        if (result.index !== opIndex || cap === undefined) return;
        const done = kernelOutcome(result);
        cap.count = backend.populatedCount(result.op, done.ret, done.out, ps);
        for (let i = 0; i < Math.min(cap.req.npages, maxPages); i++) {
          const gfn = cap.req.gfn_start + i;
          const pfn = gfnFolioPfn(w, gfn);
          const page = pfn === undefined ? undefined : hostPage(w.host, pfn);
          cap.pages.push({ gfn, pfn, got: page?.prov.slice() });
        }
      },
    }],
    stop: () => cap !== undefined && cap.pages.length > 0,
  });
  if (cap === undefined) return undefined;
  const { req, want, sourcePages, pages, count } = cap;
  const lines = [
    `content of operation #${opIndex}: source 0x${req.src.toString(16)} (offset ${req.src % ps} into its page), ${req.npages} page(s) of ${ps} bytes, ${count} reported populated`,
    `  source pages: ${sourcePages.length === 0 ? '(none: no source)' : sourcePages.join('  ')}`,
  ];
  pages.forEach((p, i) => {
    const head = `  gfn ${p.gfn} <- ${p.pfn === undefined ? 'no folio' : `pfn 0x${p.pfn.toString(16)}`}${i < count ? '' : ' (not reported)'}`;
    if (p.got === undefined) {
      lines.push(head);
      return;
    }
    const got = p.got;
    const cells = Array.from({ length: ps }, (_x, b) => {
      const w = want[i * ps + b] ?? Number.NaN;
      return Number.isNaN(w) ? '?' : got[b] === w ? '.' : 'X';
    });
    lines.push(`${head}  |${cells.join('')}|`);
    for (const run of runs(got, want.subarray(i * ps, (i + 1) * ps))) lines.push(`      ${run}`);
  });
  if (req.npages > maxPages) lines.push(`  ... ${req.npages - maxPages} more page(s) not shown`);
  return lines.join('\n');
}

/** Consecutive bytes that came from consecutive sources, as `bytes a-b from X, want Y`. */
function runs(got: Float64Array, want: Float64Array): string[] {
  const out: string[] = [];
  const next = (tag: number): number => (decodeProvenance(tag).kind === 'user' ? tag + 256 : tag);
  let start = 0;
  for (let b = 1; b <= got.length; b++) {
    const g = got[b] ?? Number.NaN;
    const w = want[b] ?? Number.NaN;
    const pg = got[b - 1] ?? Number.NaN;
    const pw = want[b - 1] ?? Number.NaN;
    const same = b < got.length && g === next(pg) && (w === next(pw) || (Number.isNaN(w) && Number.isNaN(pw))) && (g === w) === (pg === pw);
    if (same) continue;
    const g0 = got[start] ?? Number.NaN;
    const w0 = want[start] ?? Number.NaN;
    const span = b - 1 === start ? `byte  ${start}` : `bytes ${start}-${b - 1}`;
    const ok = g0 === w0;
    const more = (tag: number) => (b - 1 > start && decodeProvenance(tag).kind === 'user' ? '..' : '');
    out.push(`${span.padEnd(12)} from ${provenanceText(g0)}${more(g0)}  ${ok ? 'ok' : `WRONG, want ${Number.isNaN(w0) ? 'a source byte (none mapped)' : `${provenanceText(w0)}${more(w0)}`}`}`);
    start = b;
  }
  return out;
}
