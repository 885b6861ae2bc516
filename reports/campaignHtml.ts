import type { CampaignSummary, CellSummary, CoverageSummary, SignatureSummary } from './campaignSummary.js';
import { REPORT_DATA_ID, type ReportData } from './html/reportData.js';

/**
 * report.html: the campaign in one self-contained page (no network: the chart library, its
 * style and the page script are inlined). Tables and traces are written here, so the page reads
 * without scripts; the charts (html/client.ts) are drawn in the browser from the figures
 * embedded as JSON: throughput per cell, distinct signatures over the campaign's time, and each
 * cell's coverage growth (syzkaller shows coverage growth the same way: where the curve goes
 * flat, more runs of the same generators stop paying).
 */

/** What the page inlines: uPlot's script and style, and the page script as JavaScript. */
export interface HtmlAssets {
  readonly uplotJs: string;
  readonly uplotCss: string;
  readonly clientJs: string;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Text inside a <script> element: nothing in it may close the element. */
function scriptText(s: string): string {
  return s.replace(/<\/(script)/gi, '<\\/$1');
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function rate(runs: number, ms: number): string {
  return ms > 0 ? String(Math.round((runs / ms) * 1000)) : '-';
}

/** The run after which a cell's coverage stopped growing: the last minimum first reached or met. */
export function flattenedAt(c: Pick<CellSummary, 'coverage'>): number | undefined {
  const runs = c.coverage.flatMap((r) => [r.firstRun, r.atMinRun]).filter((x): x is number => x !== undefined);
  return runs.length === 0 ? undefined : Math.max(...runs) + 1;
}

interface DistinctSignature {
  readonly signature: string;
  /** New where any cell has it new. */
  readonly status: 'known' | 'new';
  readonly firstCpuMs: number;
  /** The cell (or corpus replay) that met it first, its runs before it there, its bug there. */
  readonly where: string;
  readonly firstCellRun?: number;
  readonly bug?: string;
  readonly units: number;
  readonly runs: number;
}

/** Every distinct signature once, at the earliest time any cell or corpus replay met it. */
function distinctSignatures(s: CampaignSummary): DistinctSignature[] {
  const all = new Map<string, DistinctSignature>();
  const add = (where: string, sig: SignatureSummary): void => {
    const had = all.get(sig.signature);
    const units = (had?.units ?? 0) + sig.units;
    const runs = (had?.runs ?? 0) + sig.runs;
    const status = had?.status === 'new' || sig.status === 'new' ? 'new' : 'known';
    if (had === undefined || sig.firstCpuMs < had.firstCpuMs) {
      all.set(sig.signature, {
        signature: sig.signature, status, firstCpuMs: sig.firstCpuMs, where, units, runs,
        ...(sig.firstCellRun === undefined ? {} : { firstCellRun: sig.firstCellRun }), ...(sig.bug === undefined ? {} : { bug: sig.bug }),
      });
    } else all.set(sig.signature, { ...had, units, runs, status });
  };
  for (const c of s.cells) for (const sig of c.signatures) add(c.cell, sig);
  for (const c of s.corpus) for (const sig of c.signatures) add(`${c.backend}/${c.revision} (corpus replay)`, sig);
  return [...all.values()].sort((a, b) => a.firstCpuMs - b.firstCpuMs || a.signature.localeCompare(b.signature));
}

export function reportData(s: CampaignSummary): ReportData {
  return {
    cells: s.cells.map((c) => ({
      name: c.cell, runs: c.runs, ms: c.ms,
      coverage: c.coverage.map((r) => ({ key: r.key, ...(r.firstRun === undefined ? {} : { firstRun: r.firstRun }), ...(r.atMinRun === undefined ? {} : { atMinRun: r.atMinRun }) })),
    })),
    signatures: distinctSignatures(s).map((x) => {
      const fresh = s.newSignatures.find((n) => n.signature === x.signature);
      return { signature: x.signature, firstCpuMs: x.firstCpuMs, ...(fresh === undefined ? {} : { newCpuMs: fresh.firstCpuMs }) };
    }),
    cpuMs: s.totals.ms,
  };
}

function table(head: readonly string[], rows: readonly (readonly string[])[], cls = ''): string {
  return `<table${cls === '' ? '' : ` class="${cls}"`}><thead><tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr></thead><tbody>\n${rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('\n')}\n</tbody></table>`;
}

function coverageRow(r: CoverageSummary): string[] {
  const short = r.unitsShort > 0;
  return [`<code>${esc(r.key)}</code>`, String(r.got), String(r.min), short ? `<span class="bad">${r.unitsShort}</span>` : '0', r.firstRun === undefined ? 'never' : String(r.firstRun + 1), r.atMinRun === undefined ? 'never' : String(r.atMinRun + 1)];
}

function newSection(s: CampaignSummary, traces: ReadonlyMap<string, string>): string {
  if (s.newSignatures.length === 0) return '<p class="good">None: every signature met is in the matrix or the corpus.</p>';
  return s.newSignatures.map((n) => {
    const trace = traces.get(n.signature);
    const files = [n.file === undefined ? undefined : `<a href="${esc(n.file)}">scenario</a>`, n.trace === undefined ? undefined : `<a href="${esc(n.trace)}">trace</a>`].filter((x) => x !== undefined).join(' · ');
    return [
      `<article class="finding"><h3><code>${esc(n.signature)}</code></h3>`,
      `<p>${esc(n.message)}</p>`,
      `<p><b>takes:</b> ${esc(n.reach)} · <b>where:</b> ${esc(n.cells.join(', '))} · <b>units:</b> ${n.units} · <b>runs with it:</b> ${n.runs} · <b>size:</b> ${n.ops === undefined ? 'not shrunk' : `${n.ops} ops, ${n.pages ?? 0} page(s)`} · <b>first after:</b> ${seconds(n.firstCpuMs)} CPU${files === '' ? '' : ` · ${files}`}</p>`,
      trace === undefined ? '' : `<details open><summary>trace and source/destination diagram</summary><pre>${esc(trace)}</pre></details>`,
      '</article>',
    ].join('\n');
  }).join('\n');
}

const STYLE = `
body { font: 14px/1.45 system-ui, sans-serif; margin: 1.5em auto; max-width: 1200px; padding: 0 1em; color: #222; }
h1 { font-size: 1.5em; } h2 { margin-top: 2em; border-bottom: 1px solid #ccc; } h3 { font-size: 1em; margin: 0.3em 0; }
table { border-collapse: collapse; margin: 0.5em 0; } th, td { border: 1px solid #ddd; padding: 2px 6px; text-align: left; vertical-align: top; }
th { background: #f3f3f3; } td.num, th.num { text-align: right; } code { font-size: 0.95em; }
pre { background: #f7f7f7; padding: 0.6em; overflow-x: auto; font-size: 12px; line-height: 1.3; }
.bad { color: #b00020; font-weight: bold; } .good { color: #1b7a1b; } .note { color: #555; }
.finding { border-left: 4px solid #e45756; padding-left: 0.8em; margin: 1em 0; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(420px, 1fr)); gap: 1em; }
.chart { min-height: 120px; } .cov details { margin: 0.2em 0 0.8em; }
`;

/** The whole page. `traces`: each new signature's trace file's text, by signature. */
export function campaignHtml(s: CampaignSummary, traces: ReadonlyMap<string, string>, assets: HtmlAssets): string {
  const a = s.campaign;
  const t = s.totals;
  const what = a.revisionModule === undefined ? (a.revisions.join(', ') || '-') : `${a.revisionModule.file} (${a.revisionModule.id})`;
  const bounds = [a.runs === undefined ? undefined : `${a.runs} runs`, a.timeMs === undefined ? undefined : `${seconds(a.timeMs)} wall`].filter((x) => x !== undefined).join(', ');
  const sigs = distinctSignatures(s);
  const charts = 2 + s.cells.length;
  const sigRows = sigs.map((x) => [
    `<code>${esc(x.signature)}</code>`, x.status === 'new' ? '<span class="bad">new</span>' : `known${x.bug === undefined ? '' : ` (${esc(x.bug)})`}`, esc(x.where),
    x.firstCellRun === undefined ? '-' : String(x.firstCellRun + 1), seconds(x.firstCpuMs), String(x.units), String(x.runs),
  ]);
  const cellRows = s.cells.map((c) => {
    const met = c.coverage.filter((r) => r.unitsShort === 0).length;
    const fresh = c.signatures.filter((x) => x.status === 'new').length;
    return [
      esc(c.cell), String(c.units), String(c.runs), seconds(c.ms), rate(c.runs, c.ms),
      `${met}/${c.coverage.length}`, String(c.signatures.length - fresh), fresh > 0 ? `<span class="bad">${fresh}</span>` : '0',
      c.modelErrors > 0 ? `<span class="bad">${c.modelErrors}</span>` : '0', c.stopped > 0 ? `<span class="bad">${c.stopped}</span>` : '0',
    ];
  });
  const coverage = s.cells.map((c, i) => {
    const flat = flattenedAt(c);
    return [
      '<div class="cov">',
      `<div class="chart" id="chart-coverage-${i}"></div>`,
      `<p class="note">${c.coverage.length} minimums; ${flat === undefined ? 'none reached' : `flat after run ${flat} of ${c.runs}`}.</p>`,
      `<details><summary>${esc(c.cell)}: each minimum</summary>${table(['key', 'got', 'min (per unit)', 'units short', 'first reached (run)', 'met (run)'], c.coverage.map(coverageRow))}</details>`,
      '</div>',
    ].join('\n');
  }).join('\n');
  const corpusRows = s.corpus.map((c) => [
    esc(`${c.backend}/${c.revision}`), String(c.scenarios), seconds(c.ms), String(c.signatures.filter((x) => x.status === 'known').length),
    String(c.signatures.filter((x) => x.status === 'new').length), c.mismatches.length === 0 ? '0' : `<span class="bad">${c.mismatches.map((m) => esc(`${m.file}: ${m.problems.join('; ')}`)).join('<br>')}</span>`,
  ]);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>gmemcheck fuzz campaign, seed ${a.seed}${s.status === 'interrupted' ? ' (interrupted)' : ''}</title>
<style>${assets.uplotCss}</style>
<style>${STYLE}</style>
</head>
<body data-charts-expected="${charts}">
<h1>gmemcheck fuzz campaign</h1>
${s.status === 'interrupted' ? '<p class="bad">Interrupted: the units done so far; <code>--resume</code> carries on.</p>' : ''}
<p>Seed ${a.seed}; backends ${esc(a.backends.join(', '))}; revisions ${esc(what)}; what-if ${esc(a.whatIf)}; ${a.properties.length} properties; bounded by ${esc(bounds)}; shard ${a.shard.index}/${a.shard.count}${a.mergedFrom === undefined ? '' : ` (merged from ${a.mergedFrom.length} folders)`}.</p>
<p>${t.units} units, ${t.runs} runs in ${seconds(s.wallMs)} wall (${seconds(t.ms)} CPU in units, ${rate(t.runs, s.wallMs)} runs/s wall); ${t.signatures} distinct signatures: ${t.known} known, <b class="${t.new > 0 ? 'bad' : 'good'}">${t.new} new</b>; ${t.modelErrors} model error(s); corpus: ${t.corpusScenarios} scenario replays, ${t.corpusMismatches} mismatch(es).</p>

<h2>New signatures</h2>
${newSection(s, traces)}

<h2>Signatures over time</h2>
<p class="note">Times are the campaign's CPU time with its units in plan order (each unit's runs spread evenly over its time), so a sharded campaign merged places them as one run would.</p>
<div class="chart" id="chart-signatures"></div>
${table(['signature', 'status', 'first met in', 'time to first failure (cell runs)', '(campaign CPU)', 'units', 'runs with it'], sigRows)}

<h2>Throughput</h2>
<div class="chart" id="chart-throughput"></div>
${table(['cell', 'units', 'runs', 'CPU', 'runs/s', 'coverage minimums met in every unit', 'known', 'new', 'model errors', 'stopped'], cellRows)}

<h2>Coverage growth</h2>
<p class="note">Per cell, against its runs (its units in plan order): the coverage minimums (properties/coverageRequirements.ts: firmware failure conditions, source offsets, page counts at the boundaries, fault points) reached at least once, and met within one unit. Every property watches the same runs, so one curve serves them all.</p>
<div class="grid">
${coverage}
</div>
${s.corpus.length === 0 ? '' : `<h2>Corpus replay</h2>\n${table(['revision', 'scenarios', 'CPU', 'known', 'new', 'mismatches'], corpusRows)}`}
<script type="application/json" id="${REPORT_DATA_ID}">${JSON.stringify(reportData(s)).replace(/</g, '\\u003c')}</script>
<script>${scriptText(assets.uplotJs)}</script>
<script type="module">${scriptText(assets.clientJs)}</script>
</body></html>
`;
}
