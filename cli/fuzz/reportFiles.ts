import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CampaignFile } from '../../reports/campaign.js';
import { campaignHtml } from '../../reports/campaignHtml.js';
import { campaignJunit } from '../../reports/campaignJunit.js';
import { campaignMarkdown } from '../../reports/campaignMarkdown.js';
import { campaignSummary, type CampaignSummary } from '../../reports/campaignSummary.js';
import { htmlAssets } from './htmlAssets.js';
import { writeAtomic } from './state.js';

/** Writes a campaign's reports beside its campaign.json: summary.json, summary.md, junit.xml, report.html. */
export function writeReports(dir: string, c: CampaignFile): CampaignSummary {
  const summary = campaignSummary(c);
  writeAtomic(join(dir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  writeAtomic(join(dir, 'summary.md'), campaignMarkdown(summary));
  writeAtomic(join(dir, 'junit.xml'), campaignJunit(summary));
  const traces = new Map(summary.newSignatures.flatMap((n) => {
    const file = n.trace === undefined ? undefined : join(dir, n.trace);
    return file !== undefined && existsSync(file) ? [[n.signature, readFileSync(file, 'utf8')] as const] : [];
  }));
  writeAtomic(join(dir, 'report.html'), campaignHtml(summary, traces, htmlAssets()));
  return summary;
}

/** A folder for a fresh report under reports/out/, named for when it started (`-2`... if taken). */
export function freshFolderName(now: Date, prefix: string): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${prefix}-${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}-${p(now.getHours())}${p(now.getMinutes())}${p(now.getSeconds())}`;
}
