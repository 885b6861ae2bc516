import type { CampaignSummary } from './campaignSummary.js';

/**
 * What `fuzz`, `report merge` and `report write` print at the end (stdout): the totals, each new signature with
 * its scenario file, and where the report is.
 */
export function campaignText(s: CampaignSummary, folder: string): string {
  const t = s.totals;
  const secs = s.wallMs / 1000;
  const rate = secs > 0 ? ` (${(t.runs / secs).toFixed(1)} runs/s)` : '';
  const lines = [
    `${s.status === 'interrupted' ? 'INTERRUPTED: ' : ''}${t.units} units, ${t.runs} runs in ${secs.toFixed(1)} s${rate} over ${t.cells} cells; ${t.signatures} signatures: ${t.known} known, ${t.new} new; corpus: ${t.corpusScenarios} scenario replays, ${t.corpusMismatches} mismatch(es); ${t.modelErrors} model error(s)`,
  ];
  for (const n of s.newSignatures) lines.push(`  NEW ${n.signature} (${n.cells.join(', ')}; ${n.reach}): ${n.file === undefined ? 'not written' : `${folder}/${n.file}`}`);
  for (const c of s.corpus) for (const m of c.mismatches) lines.push(`  MISMATCH corpus/${m.file} on ${c.revision}: ${m.problems.join('; ')}`);
  lines.push(`report: ${folder}/ (report.html, summary.md, summary.json, junit.xml, campaign.json, units.jsonl${t.new > 0 ? ', new/' : ''})`);
  return `${lines.join('\n')}\n`;
}

/** A finished campaign's (or merge's) exit status and its closing line: 1 for a new signature or a model error. */
export function campaignExit(s: CampaignSummary): { readonly code: 0 | 1; readonly line: string } {
  const { new: fresh, modelErrors } = s.totals;
  const code = fresh > 0 || modelErrors > 0 ? 1 : 0;
  return { code, line: `exit ${code}: ${fresh > 0 ? `${fresh} new signature(s)` : modelErrors > 0 ? 'the model failed (a bug in gmemcheck)' : 'no new signature'}\n` };
}
