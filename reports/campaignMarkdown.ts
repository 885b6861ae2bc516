import type { CampaignSummary, CellSummary, SignatureSummary } from './campaignSummary.js';

/**
 * summary.md: what a reviewer reads first after a campaign. New signatures on top (each with its
 * scenario and trace files and when it was first met, in campaign CPU time), then one line per cell: what ran and what it showed, then the
 * corpus replay. Times are wall or unit time in seconds.
 */

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

function bugsOf(signatures: readonly SignatureSummary[]): string {
  const known = [...new Set(signatures.filter((s) => s.status === 'known').map((s) => s.bug ?? '?'))];
  return known.length === 0 ? '-' : known.join(' ');
}

function coverageOf(c: CellSummary): string {
  const reached = c.coverage.filter((r) => r.unitsShort === 0).length;
  return `${reached}/${c.coverage.length}`;
}

export function campaignMarkdown(s: CampaignSummary): string {
  const a = s.campaign;
  const t = s.totals;
  const what = a.revisionModule === undefined ? (a.revisions.join(', ') || '-') : `${a.revisionModule.file} (${a.revisionModule.id})`;
  const bounds = [a.runs === undefined ? undefined : `${a.runs} runs`, a.timeMs === undefined ? undefined : `${seconds(a.timeMs)} wall`].filter((x) => x !== undefined).join(', ');
  const lines = [
    '# gmemcheck fuzz campaign',
    '',
    `${s.status === 'interrupted' ? '**Interrupted**: the units done so far; `--resume` carries on. ' : ''}Seed ${a.seed}; backends ${a.backends.join(', ')}; revisions ${what}; what-if ${a.whatIf}; properties ${a.properties.length}; bounded by ${bounds}; shard ${a.shard.index}/${a.shard.count}${a.mergedFrom === undefined ? '' : ` (merged from ${a.mergedFrom.length} folders)`}.`,
    '',
    `${t.units} units, ${t.runs} runs in ${seconds(s.wallMs)} wall (${seconds(t.ms)} in units); ${t.signatures} distinct signatures: ${t.known} known, **${t.new} new**; ${t.modelErrors} model error(s); corpus: ${t.corpusScenarios} scenario replays, ${t.corpusMismatches} mismatch(es).`,
    '',
    '## New signatures',
    '',
  ];
  if (s.newSignatures.length === 0) lines.push('None: every signature met is in the matrix or the corpus.');
  else {
    lines.push('| signature | where | first after (CPU) | units | runs | size (ops/pages) | takes | scenario | trace |', '|---|---|---|---|---|---|---|---|---|');
    for (const n of s.newSignatures) {
      const size = n.ops === undefined ? 'not shrunk' : `${n.ops}/${n.pages ?? 0}`;
      lines.push(`| \`${n.signature}\` | ${cell(n.cells.join(', '))} | ${seconds(n.firstCpuMs)} | ${n.units} | ${n.runs} | ${size} | ${cell(n.reach)} | ${n.file === undefined ? '-' : `[${n.file}](${n.file})`} | ${n.trace === undefined ? '-' : `[trace](${n.trace})`} |`);
    }
  }
  lines.push('', '## Matrix', '', '| cell | units | runs | time | known bugs | new | coverage minimums (every unit) | model errors |', '|---|---|---|---|---|---|---|---|');
  for (const c of s.cells) {
    const fresh = c.signatures.filter((x) => x.status === 'new').length;
    lines.push(`| ${cell(c.cell)} | ${c.units} | ${c.runs} | ${seconds(c.ms)} | ${bugsOf(c.signatures)} | ${fresh === 0 ? '0' : `**${fresh}**`} | ${coverageOf(c)} | ${c.modelErrors}${c.stopped > 0 ? ` (${c.stopped} stopped by the watchdog)` : ''} |`);
  }
  if (s.corpus.length > 0) {
    lines.push('', '## Corpus replay', '', '| revision | scenarios | known bugs | new | mismatches |', '|---|---|---|---|---|');
    for (const c of s.corpus) {
      const fresh = c.signatures.filter((x) => x.status === 'new').length;
      lines.push(`| ${c.backend}/${c.revision} | ${c.scenarios} | ${bugsOf(c.signatures)} | ${fresh} | ${c.mismatches.length === 0 ? '0' : c.mismatches.map((m) => `${m.file}: ${cell(m.problems.join('; '))}`).join('<br>')} |`);
    }
  }
  lines.push('');
  return lines.join('\n');
}
