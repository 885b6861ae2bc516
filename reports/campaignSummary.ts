import { cellName, type WhatIfMode } from '../model/whatIf.js';
import type { CampaignArgs, CampaignFile, ExploreRecord, UnitRecord } from './campaign.js';

/**
 * A campaign's results (summary.json), computed from its campaign.json alone: so a campaign
 * merged from shards has the summary of one unsharded campaign over the same units. Everything
 * but `campaign`, `status` and the times is a function of the units done, whatever the order
 * they finished in.
 */
export const SUMMARY_FORMAT = 'gmemcheck-fuzz-summary/1';

export interface SignatureSummary {
  readonly signature: string;
  readonly status: 'known' | 'new';
  readonly bug?: string;
  /** Units that showed it, runs (of theirs) that did, and the first such unit by index. */
  readonly units: number;
  readonly runs: number;
  readonly firstUnit: number;
  /** Time to first failure: the cell's runs before the first that showed it (a cell's signatures). */
  readonly firstCellRun?: number;
  /** ...and the campaign's CPU time before it, in plan order (every unit of lower index first). */
  readonly firstCpuMs: number;
  /** New: its scenario and trace files, relative to the report folder. */
  readonly file?: string;
  readonly trace?: string;
}

export interface CoverageSummary {
  readonly key: string;
  /** Summed over the cell's units, against one unit's minimum. */
  readonly got: number;
  readonly min: number;
  /** Units whose own runs missed the minimum. */
  readonly unitsShort: number;
  /** Coverage growth: the cell's run (from 0, its units in index order) that first reached it, and the first that met the minimum within one unit. */
  readonly firstRun?: number;
  readonly atMinRun?: number;
}

export interface CellSummary {
  readonly backend: string;
  readonly revision: string;
  readonly whatIf?: string;
  /** `snp/v7.0 [hugepages]`. */
  readonly cell: string;
  readonly units: number;
  readonly runs: number;
  readonly ms: number;
  /** The seeds its units ran under. */
  readonly seeds: readonly number[];
  readonly coverage: readonly CoverageSummary[];
  readonly signatures: readonly SignatureSummary[];
  readonly modelErrors: number;
  /** Units the watchdog ended (a hang, the heap limit). */
  readonly stopped: number;
}

export interface CorpusSummary {
  readonly backend: string;
  readonly revision: string;
  readonly scenarios: number;
  readonly ms: number;
  readonly mismatches: readonly { readonly file: string; readonly problems: readonly string[] }[];
  readonly signatures: readonly SignatureSummary[];
  readonly modelErrors: number;
}

export interface NewSignatureSummary {
  readonly signature: string;
  /** Where it showed: `snp/v7.0 [hugepages]`, or `cca/rme-v9 (corpus replay)`. */
  readonly cells: readonly string[];
  readonly units: number;
  readonly runs: number;
  readonly firstUnit: number;
  readonly firstCpuMs: number;
  readonly message: string;
  readonly reach: string;
  /** The smallest counterexample's size over the units. */
  readonly ops?: number;
  readonly pages?: number;
  readonly file?: string;
  readonly trace?: string;
}

export interface CampaignTotals {
  readonly units: number;
  readonly runs: number;
  /** Time spent in units (across workers), not wall time. */
  readonly ms: number;
  readonly cells: number;
  /** Distinct signatures, and those of them new somewhere. */
  readonly signatures: number;
  readonly known: number;
  readonly new: number;
  readonly modelErrors: number;
  readonly stopped: number;
  readonly corpusScenarios: number;
  readonly corpusMismatches: number;
}

export interface CampaignSummary {
  readonly format: typeof SUMMARY_FORMAT;
  readonly campaign: CampaignArgs & { readonly mergedFrom?: readonly string[] };
  readonly status: 'complete' | 'interrupted';
  readonly wallMs: number;
  readonly totals: CampaignTotals;
  readonly newSignatures: readonly NewSignatureSummary[];
  readonly cells: readonly CellSummary[];
  readonly corpus: readonly CorpusSummary[];
}

interface Acc {
  status: 'known' | 'new';
  bug: string | undefined;
  units: number;
  runs: number;
  firstUnit: number;
  firstCellRun: number | undefined;
  firstCpuMs: number;
}

/** Where a unit sits in the campaign's time: CPU before it (plan order) and, in its cell, runs before it. */
interface UnitAt {
  readonly cpuMs: number;
  readonly cellRuns: number | undefined;
}

/**
 * Each unit's place in time, from the units alone (so shards merged place them as one run
 * would): the campaign's CPU time spent on units of lower index, and its cell's runs before it.
 */
function unitTimes(units: readonly UnitRecord[]): Map<number, UnitAt> {
  const at = new Map<number, UnitAt>();
  const cellRuns = new Map<string, number>();
  let cpu = 0;
  for (const u of units) {
    const key = u.kind === 'explore' ? cellKey(u) : undefined;
    const before = key === undefined ? undefined : (cellRuns.get(key) ?? 0);
    at.set(u.index, { cpuMs: cpu, cellRuns: before });
    cpu += u.ms;
    if (key !== undefined && u.kind === 'explore') cellRuns.set(key, (before ?? 0) + u.ran);
  }
  return at;
}

/** When within its unit a run happened: its share of the unit's time (runs cost alike on average). */
function cpuAt(u: UnitRecord, at: UnitAt | undefined, run: number): number {
  const n = u.kind === 'explore' ? u.ran : u.scenarios;
  return Math.round((at?.cpuMs ?? 0) + (n > 0 ? u.ms * Math.min(1, (run + 1) / n) : 0));
}

/** Signatures over several units: counts summed, the first unit by index (units come sorted). */
function signaturesOf(units: readonly UnitRecord[], written: CampaignFile['written'], times: ReadonlyMap<number, UnitAt>): SignatureSummary[] {
  const acc = new Map<string, Acc>();
  for (const u of units) {
    const at = times.get(u.index);
    for (const s of u.signatures) {
      const a = acc.get(s.signature);
      if (a === undefined) {
        acc.set(s.signature, {
          status: s.status, bug: s.bug, units: 1, runs: s.runsWithIt, firstUnit: u.index,
          firstCellRun: at?.cellRuns === undefined ? undefined : at.cellRuns + s.firstRun, firstCpuMs: cpuAt(u, at, s.firstRun),
        });
      } else {
        a.units++;
        a.runs += s.runsWithIt;
      }
    }
  }
  return [...acc].map(([signature, a]) => {
    const w = a.status === 'new' ? written[signature] : undefined;
    return {
      signature, status: a.status, ...(a.bug === undefined ? {} : { bug: a.bug }), units: a.units, runs: a.runs, firstUnit: a.firstUnit,
      ...(a.firstCellRun === undefined ? {} : { firstCellRun: a.firstCellRun }), firstCpuMs: a.firstCpuMs,
      ...(w === undefined ? {} : { file: w.scenario, trace: w.trace }),
    };
  }).sort((x, y) => x.firstUnit - y.firstUnit || x.signature.localeCompare(y.signature));
}

function cellKey(u: ExploreRecord): string {
  return campaignCellName(u.backend, u.revision, u.whatIf);
}

export function campaignSummary(c: CampaignFile): CampaignSummary {
  const units = [...c.units].sort((a, b) => a.index - b.index);
  const times = unitTimes(units);
  const explore = units.flatMap((u) => (u.kind === 'explore' ? [u] : []));
  const corpusUnits = units.flatMap((u) => (u.kind === 'corpus' ? [u] : []));
  const byCell = new Map<string, typeof explore>();
  for (const u of explore) byCell.set(cellKey(u), [...(byCell.get(cellKey(u)) ?? []), u]);
  const cells = [...byCell].map(([cell, us]): CellSummary => {
    const first = us[0];
    const coverage = new Map<string, { got: number; min: number; unitsShort: number; firstRun?: number; atMinRun?: number }>();
    for (const u of us) {
      const offset = times.get(u.index)?.cellRuns ?? 0;
      for (const r of u.coverage) {
        const a = coverage.get(r.key) ?? { got: 0, min: r.min, unitsShort: 0 };
        const firstRun = a.firstRun ?? (r.first === undefined ? undefined : offset + r.first);
        const atMinRun = a.atMinRun ?? (r.atMin === undefined ? undefined : offset + r.atMin);
        coverage.set(r.key, {
          got: a.got + r.got, min: r.min, unitsShort: a.unitsShort + (r.got < r.min ? 1 : 0),
          ...(firstRun === undefined ? {} : { firstRun }), ...(atMinRun === undefined ? {} : { atMinRun }),
        });
      }
    }
    return {
      backend: first?.backend ?? '',
      revision: first?.revision ?? '',
      ...(first?.whatIf === undefined ? {} : { whatIf: first.whatIf }),
      cell,
      units: us.length,
      runs: us.reduce((n, u) => n + u.ran, 0),
      ms: us.reduce((n, u) => n + u.ms, 0),
      seeds: us.map((u) => u.seed),
      coverage: [...coverage].map(([key, a]) => ({ key, ...a })),
      signatures: signaturesOf(us, c.written, times),
      modelErrors: us.reduce((n, u) => n + u.modelErrors.length, 0),
      stopped: us.filter((u) => u.stopped !== undefined).length,
    };
  });
  const corpus = corpusUnits.map((u): CorpusSummary => ({
    backend: u.backend, revision: u.revision, scenarios: u.scenarios, ms: u.ms, mismatches: u.mismatches,
    signatures: signaturesOf([u], c.written, times), modelErrors: u.modelErrors.length,
  }));
  const newSignatures = newOnes(units, c.written, times);
  const all = new Set(units.flatMap((u) => u.signatures.map((s) => s.signature)));
  return {
    format: SUMMARY_FORMAT,
    campaign: { ...c.args, ...(c.mergedFrom === undefined ? {} : { mergedFrom: c.mergedFrom }) },
    status: c.status === 'complete' ? 'complete' : 'interrupted',
    wallMs: c.elapsedMs,
    totals: {
      units: units.length,
      runs: explore.reduce((n, u) => n + u.ran, 0),
      ms: units.reduce((n, u) => n + u.ms, 0),
      cells: cells.length,
      signatures: all.size,
      known: all.size - newSignatures.length,
      new: newSignatures.length,
      modelErrors: units.reduce((n, u) => n + u.modelErrors.length, 0),
      stopped: units.filter((u) => u.stopped !== undefined).length,
      corpusScenarios: corpusUnits.reduce((n, u) => n + u.scenarios, 0),
      corpusMismatches: corpusUnits.reduce((n, u) => n + u.mismatches.length, 0),
    },
    newSignatures,
    cells,
    corpus,
  };
}

/** Every signature new somewhere, once, with each place it showed; first found first. */
function newOnes(units: readonly UnitRecord[], written: CampaignFile['written'], times: ReadonlyMap<number, UnitAt>): NewSignatureSummary[] {
  const acc = new Map<string, { cells: Set<string>; units: number; runs: number; firstUnit: number; firstCpuMs: number; message: string; reach: string; ops: number | undefined; pages: number | undefined }>();
  for (const u of units) {
    const where = u.kind === 'explore' ? cellKey(u) : `${u.backend}/${u.revision} (corpus replay)`;
    for (const s of u.signatures.filter((x) => x.status === 'new')) {
      const a = acc.get(s.signature);
      if (a === undefined) {
        acc.set(s.signature, { cells: new Set([where]), units: 1, runs: s.runsWithIt, firstUnit: u.index, firstCpuMs: cpuAt(u, times.get(u.index), s.firstRun), message: s.message ?? '', reach: s.reach ?? '', ops: s.ops, pages: s.pages });
        continue;
      }
      a.cells.add(where);
      a.units++;
      a.runs += s.runsWithIt;
      // The smallest counterexample a unit shrank it to: fewer operations, then fewer pages.
      if (s.ops !== undefined && (a.ops === undefined || s.ops < a.ops || (s.ops === a.ops && (s.pages ?? 0) < (a.pages ?? 0)))) {
        a.ops = s.ops;
        a.pages = s.pages;
      }
    }
  }
  return [...acc].map(([signature, a]) => {
    const w = written[signature];
    return {
      signature, cells: [...a.cells], units: a.units, runs: a.runs, firstUnit: a.firstUnit, firstCpuMs: a.firstCpuMs, message: a.message, reach: a.reach,
      ...(a.ops === undefined ? {} : { ops: a.ops }), ...(a.pages === undefined ? {} : { pages: a.pages }),
      ...(w === undefined ? {} : { file: w.scenario, trace: w.trace }),
    };
  }).sort((x, y) => x.firstUnit - y.firstUnit || x.signature.localeCompare(y.signature));
}

/** `cca/rme-v12 [4k-guard-lifted]`, as summaries name cells. */
export function campaignCellName(backend: string, revision: string, whatIf: WhatIfMode | undefined): string {
  return `${backend}/${cellName(revision, whatIf)}`;
}
