import { cellName } from '../model/whatIf.js';
import type { CellReport, ExplorationReport, FindingReport } from './checkReport.js';
import { formatTrace } from './trace.js';
import { jsonReplacer } from '../model/kernel/u64.js';

/**
 * A check as the text a reviewer reads: per revision and backend, one line per known bug (its
 * full trace with --verbose), a full block for anything new, then a summary that fits a screen.
 */

export interface TextOptions {
  /** Full traces for known bugs too. */
  readonly verbose: boolean;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export function findingBlock(f: FindingReport, cell: CellReport, indent: string): string[] {
  const head = f.status === 'known'
    ? `✗ ${f.signature}: ${f.bug?.id ?? '?'}${cell.inheritedFrom === undefined ? '' : ` (as in ${cell.inheritedFrom})`} — ${f.bug?.title ?? ''} (${f.bug?.link ?? ''})`
    : `✗ NEW ${f.signature}: not expected by the matrix${cell.expected === 'holds' && cell.inheritedFrom !== undefined ? ` (${cell.inheritedFrom} holds here: a regression)` : ''}`;
  return [
    `${indent}${head}`,
    `${indent}  [${f.invariant}/${f.messageId}] at operation #${f.opIndex}: ${f.message}`,
    `${indent}  takes${f.unshrunk === undefined ? '' : ' (at most: the scenario is not shrunk)'}: ${f.reach.needs}${f.bug?.reach === undefined ? '' : ` — ${f.bug.id} is labelled ${f.bug.reach.label}: ${f.bug.reach.how}`}`,
    `${indent}  first in run ${f.firstRun} (${f.runsWithIt} run(s) showed it); ${f.unshrunk === undefined ? `minimized in ${plural(f.shrinks, 'step')} to` : `not shrunk (${f.unshrunk}):`} ${plural(f.operations, 'operation')}, ${f.pages} page(s)`,
    `${indent}  replay: ${f.replay}`,
    `${indent}  trace:`,
    ...formatTrace(f.trace).split('\n').map((l) => `${indent}    ${l}`),
    ...(f.diagram ?? []).map((l) => `${indent}  ${l}`),
    `${indent}  scenario: ${JSON.stringify(f.scenario, jsonReplacer)}`,
  ];
}

/** Wide enough for every label but a what-if mode's. */
const REACH_WIDTH = 'firmware failure'.length;

function findingLine(f: FindingReport, cell: CellReport, indent: string): string {
  return `${indent}✓ ${(f.bug?.id ?? '?').padEnd(15)} ${f.reach.label.padEnd(REACH_WIDTH)} ${f.signature} (${plural(f.operations, 'op')}, ${f.pages} page(s)${cell.inheritedFrom === undefined ? '' : `, as in ${cell.inheritedFrom}`})`;
}

/** The verdict of one exploration in a word. */
export function explorationVerdict(x: ExplorationReport): 'as expected' | 'fixed' | 'DIFFERS' | 'MODEL ERROR' {
  if (x.modelErrors.length > 0) return 'MODEL ERROR';
  if (x.cells.some((c) => c.verdict === 'differs')) return 'DIFFERS';
  return x.cells.some((c) => c.verdict === 'fixed') ? 'fixed' : 'as expected';
}

export function explorationText(x: ExplorationReport, o: TextOptions): string {
  const name = `${x.backend} × ${cellName(x.revision.module ?? x.revision.id, x.whatIf)}`;
  const signatures = x.cells.flatMap((c) => c.findings);
  const reached = x.coverage.filter((c) => c.got >= c.min).length;
  // No timings: the same seed prints the same text, so two runs' logs diff cleanly.
  const lines = [`${name} (${x.runs} runs): ${explorationVerdict(x)} — ${plural(signatures.length, 'signature')}, coverage ${reached}/${x.coverage.length} minimums reached`];
  for (const cell of x.cells) {
    for (const f of cell.findings) {
      if (f.status === 'new' || o.verbose) lines.push(...findingBlock(f, cell, '  '));
      else lines.push(findingLine(f, cell, '  '));
    }
    for (const id of cell.missing) lines.push(`  ✗ MISSING ${id}: expected on ${cell.property}, not found in ${x.runs} runs`);
    for (const id of cell.fixed) lines.push(`  ✓ FIXED ${id} on ${cell.property}: ${cell.inheritedFrom ?? '?'} has it here, this revision does not`);
  }
  const inconclusive = x.cells.filter((c) => c.status === 'inconclusive');
  if (inconclusive.length > 0) {
    const short = x.coverage.filter((c) => c.got < c.min).map((c) => `${c.key} ${c.got}/${c.min}`);
    lines.push(`  ? INCONCLUSIVE: ${plural(inconclusive.length, 'cell')} hold (${inconclusive.map((c) => c.property).join(', ')}) but the runs missed coverage minimums: ${short.join(', ')}`);
  }
  for (const e of x.modelErrors.slice(0, 3)) {
    lines.push(`  ! MODEL ERROR (a bug in gmemcheck, not a finding) in run ${e.run}: ${e.error.split('\n').slice(0, 4).join('\n      ')}`, `    scenario: ${JSON.stringify(e.scenario, jsonReplacer)}`);
  }
  if (x.modelErrors.length > 3) lines.push(`  ! ... ${x.modelErrors.length - 3} more runs hit model errors`);
  return lines.join('\n');
}

export interface CheckTotals {
  readonly cells: number;
  readonly held: number;
  readonly violated: number;
  readonly inconclusive: number;
  readonly known: number;
  readonly fresh: number;
  readonly missing: number;
  readonly fixed: number;
  readonly modelErrors: number;
  readonly differs: number;
}

export function totals(xs: readonly ExplorationReport[]): CheckTotals {
  const cells = xs.flatMap((x) => x.cells);
  const findings = cells.flatMap((c) => c.findings);
  return {
    cells: cells.length,
    held: cells.filter((c) => c.status === 'holds').length,
    violated: cells.filter((c) => c.status === 'violated').length,
    inconclusive: cells.filter((c) => c.status === 'inconclusive').length,
    known: findings.filter((f) => f.status === 'known').length,
    fresh: findings.filter((f) => f.status === 'new').length,
    missing: cells.reduce((n, c) => n + c.missing.length, 0),
    fixed: cells.reduce((n, c) => n + c.fixed.length, 0),
    modelErrors: xs.reduce((n, x) => n + x.modelErrors.length, 0),
    differs: cells.filter((c) => c.verdict === 'differs').length,
  };
}

/** One line per exploration and the totals: what a reader sees at the end of a long check. */
export function summaryText(xs: readonly ExplorationReport[], header: string, interrupted: boolean): string {
  const t = totals(xs);
  const lines = [`summary (${header})${interrupted ? ': INTERRUPTED, the explorations done so far' : ''}:`];
  const width = Math.max(12, ...xs.map((x) => `${x.backend}/${cellName(x.revision.module ?? x.revision.id, x.whatIf)}`.length)) + 2;
  for (const x of xs) {
    const cells = x.cells;
    const bugs = [...new Set(cells.flatMap((c) => c.findings.filter((f) => f.status === 'known').map((f) => f.bug?.id ?? '?')))];
    const fresh = cells.flatMap((c) => c.findings.filter((f) => f.status === 'new').map((f) => f.signature));
    const missing = cells.flatMap((c) => c.missing.map((id) => `${id} (${c.property})`));
    const parts = [
      ...(bugs.length > 0 ? [bugs.join(' ')] : ['every property holds']),
      ...(fresh.length > 0 ? [`new: ${fresh.join(', ')}`] : []),
      ...(missing.length > 0 ? [`missing: ${missing.join(', ')}`] : []),
      ...(cells.some((c) => c.fixed.length > 0) ? [`fixed: ${[...new Set(cells.flatMap((c) => c.fixed))].join(' ')}`] : []),
      ...(cells.some((c) => c.status === 'inconclusive') ? ['inconclusive (coverage)'] : []),
    ];
    lines.push(`  ${`${x.backend}/${cellName(x.revision.module ?? x.revision.id, x.whatIf)}`.padEnd(width)} ${explorationVerdict(x).padEnd(12)} ${parts.join('; ')}`);
  }
  lines.push(`${plural(t.cells, 'cell')}: ${t.held} hold, ${t.violated} violated (${plural(t.known + t.fresh, 'signature')}: ${t.known} known, ${t.fresh} new), ${t.inconclusive} inconclusive, ${t.missing} expected bug(s) missing, ${t.fixed} fixed, ${t.modelErrors} model error(s)`);
  return lines.join('\n');
}
