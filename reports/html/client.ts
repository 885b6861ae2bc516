/**
 * report.html's page script: draws the campaign's charts with uPlot (inlined in the page before
 * this script, as the global `uPlot`) from the JSON the page embeds (reportData.ts). Browser
 * code: its own tsconfig (DOM types); cli/fuzz/reportFiles.ts turns it into JavaScript when it
 * writes a report. When every chart is drawn, `<body data-charts-drawn>` says how many, for the
 * headless-browser test (test/fuzz/reportHtml.test.ts) to compare with `data-charts-expected`.
 */
import type UPlot from 'uplot';
import type { ChartCell, REPORT_DATA_ID, ReportData } from './reportData.js';

declare global {
  interface Window {
    uPlot: typeof UPlot;
  }
}

const U = window.uPlot;
// Imports of values would stay imports in the page: the id is written out, and checked against reportData.ts's.
const DATA_ID: typeof REPORT_DATA_ID = 'gmemcheck-report-data';
const COLORS = { runs: '#4c78a8', rate: '#f58518', reached: '#54a24b', met: '#4c78a8', known: '#4c78a8', new: '#e45756' };

/** uPlot's bar and step path builders (optional in its types: the full build has both). */
function builders(): { readonly bars: UPlot.Series.PathBuilder; readonly stepped: UPlot.Series.PathBuilder } {
  const bars = U.paths.bars?.({ size: [0.6, 40] });
  const stepped = U.paths.stepped?.({ align: 1 });
  if (bars === undefined || stepped === undefined) throw new Error('report.html: this uPlot build has no bars or stepped paths');
  return { bars, stepped };
}
const PATHS = builders();

function dataOf(): ReportData {
  const el = document.getElementById(DATA_ID);
  if (el === null) throw new Error(`report.html: no #${DATA_ID} element`);
  return JSON.parse(el.textContent ?? 'null') as ReportData;
}

function widthOf(el: HTMLElement, fallback: number): number {
  return Math.max(240, Math.floor(el.clientWidth || fallback));
}

/**
 * Cumulative count at each x where it rises: a step curve's points, from 0 at x = `start` to
 * `end`. The growth charts' x axes are logarithmic (a campaign's coverage and signatures come in
 * its first minutes and then flatten for hours), so x starts above 0 and no point lies below it.
 */
function steps(xsIn: readonly number[], end: number, start: number): [number[], number[]] {
  const sorted = xsIn.map((v) => Math.max(v, start)).sort((a, b) => a - b);
  const x: number[] = [start];
  const y: number[] = [0];
  sorted.forEach((v, i) => {
    if (x[x.length - 1] === v) y[y.length - 1] = i + 1;
    else {
      x.push(v);
      y.push(i + 1);
    }
  });
  if ((x[x.length - 1] ?? 0) < end) {
    x.push(end);
    y.push(sorted.length);
  }
  return [x, y];
}

/** Several step curves over one x axis: their x values merged, each carried forward. */
function align(curves: readonly [number[], number[]][]): UPlot.AlignedData {
  const xs = [...new Set(curves.flatMap(([x]) => x))].sort((a, b) => a - b);
  const ys = curves.map(([x, y]) => {
    let j = 0;
    return xs.map((v) => {
      while (j + 1 < x.length && (x[j + 1] ?? Infinity) <= v) j++;
      return y[j] ?? 0;
    });
  });
  return [xs, ...ys];
}

/** Runs per cell (points) and runs per CPU-second (bars), one x position per cell. */
function throughput(el: HTMLElement, cells: readonly ChartCell[]): UPlot {
  const names = cells.map((c) => c.name);
  const opts: UPlot.Options = {
    width: widthOf(el, 1000),
    height: 380,
    scales: { x: { time: false, range: [-0.5, cells.length - 0.5] }, rate: { range: (_u, _min, max) => [0, Math.max(1, max) * 1.1] }, runs: { range: (_u, _min, max) => [0, Math.max(1, max) * 1.1] } },
    axes: [
      { values: (_u, splits) => splits.map((i) => names[i] ?? ''), incrs: [1], space: 12, rotate: -60, size: 200, gap: 2 },
      { scale: 'rate', label: 'runs per CPU-second', stroke: COLORS.rate },
      { scale: 'runs', label: 'runs', side: 1, grid: { show: false }, stroke: COLORS.runs },
    ],
    series: [
      { label: 'cell', value: (_u, i: number | null) => (i === null ? '' : (names[i] ?? '')) },
      { label: 'runs/s', scale: 'rate', stroke: COLORS.rate, fill: `${COLORS.rate}99`, paths: PATHS.bars, points: { show: false } },
      { label: 'runs', scale: 'runs', stroke: COLORS.runs, width: 0, points: { show: true, size: 7, fill: COLORS.runs } },
    ],
  };
  const data: UPlot.AlignedData = [
    cells.map((_c, i) => i),
    cells.map((c) => (c.ms > 0 ? Math.round((c.runs / c.ms) * 1000) : 0)),
    cells.map((c) => c.runs),
  ];
  return new U(opts, data, el);
}

/** Distinct signatures met against the campaign's CPU time (syzkaller's "crashes over time"). */
function signaturesOverTime(el: HTMLElement, d: ReportData): UPlot {
  const sec = (ms: number): number => Math.round(ms) / 1000;
  const start = 0.01;
  const end = Math.max(start, sec(d.cpuMs));
  const data = align([
    steps(d.signatures.map((s) => sec(s.firstCpuMs)), end, start),
    steps(d.signatures.flatMap((s) => (s.newCpuMs === undefined ? [] : [sec(s.newCpuMs)])), end, start),
  ]);
  const stepped = PATHS.stepped;
  return new U({
    width: widthOf(el, 1000),
    height: 260,
    scales: { x: { time: false, distr: 3, log: 10 }, y: { range: (_u, _min, max) => [0, Math.max(1, max) * 1.05] }, fresh: { range: (_u, _min, max) => [0, Math.max(1, max) * 1.05] } },
    axes: [
      { label: 'campaign CPU seconds (units in plan order, log scale)' },
      { label: 'distinct signatures', stroke: COLORS.known },
      { scale: 'fresh', label: 'new', side: 1, grid: { show: false }, stroke: COLORS.new },
    ],
    series: [
      { label: 'CPU s' },
      { label: 'all', stroke: COLORS.known, width: 2, paths: stepped, points: { show: false } },
      { label: 'new', scale: 'fresh', stroke: COLORS.new, width: 2, paths: stepped, points: { show: false } },
    ],
  }, data, el);
}

/** One cell's coverage growth: minimums reached at all, and met, against the cell's runs. */
function coverageGrowth(el: HTMLElement, c: ChartCell): UPlot {
  const reached = c.coverage.flatMap((r) => (r.firstRun === undefined ? [] : [r.firstRun + 1]));
  const met = c.coverage.flatMap((r) => (r.atMinRun === undefined ? [] : [r.atMinRun + 1]));
  const data = align([steps(reached, Math.max(1, c.runs), 1), steps(met, Math.max(1, c.runs), 1)]);
  const stepped = PATHS.stepped;
  return new U({
    width: widthOf(el, 420),
    height: 200,
    title: c.name,
    scales: { x: { time: false, distr: 3, log: 10 }, y: { range: [0, Math.max(1, c.coverage.length)] } },
    axes: [{ label: 'runs (log scale)', size: 40 }, { size: 40 }],
    series: [
      { label: 'run' },
      { label: 'reached', stroke: COLORS.reached, width: 2, paths: stepped, points: { show: false } },
      { label: 'met', stroke: COLORS.met, width: 2, paths: stepped, points: { show: false } },
    ],
  }, data, el);
}

function draw(): void {
  const d = dataOf();
  let drawn = 0;
  const run = (id: string, f: (el: HTMLElement) => UPlot): void => {
    const el = document.getElementById(id);
    if (el === null) return;
    f(el);
    el.dataset['drawn'] = '1';
    drawn++;
  };
  run('chart-throughput', (el) => throughput(el, d.cells));
  run('chart-signatures', (el) => signaturesOverTime(el, d));
  d.cells.forEach((c, i) => run(`chart-coverage-${i}`, (el) => coverageGrowth(el, c)));
  document.body.dataset['chartsDrawn'] = String(drawn);
}

draw();
