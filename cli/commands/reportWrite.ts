import { writeReports } from '../fuzz/reportFiles.js';
import { readCampaign } from '../fuzz/state.js';
import { campaignExit, campaignText } from '../../reports/campaignText.js';
import { shownPath, userPath } from '../revisionModule.js';
import type { MergeIo } from './reportMerge.js';

/**
 * `gmemcheck report write DIR`: a campaign folder's reports (summary.json, summary.md,
 * junit.xml, report.html) written again from its state, campaign.json and units.jsonl, which it
 * only reads: for a folder a campaign left without them (a job killed outright), or made by an
 * older gmemcheck. Exit status as fuzz's: 0 no new signature, 1 new ones or a model error, 2 a
 * folder that holds no campaign.
 */
export function runReportWrite(o: { readonly dir: string }, io: MergeIo): number {
  const dir = userPath(o.dir);
  const summary = writeReports(dir, readCampaign(dir));
  io.write(campaignText(summary, shownPath(dir)));
  const exit = campaignExit(summary);
  io.write(exit.line);
  return exit.code;
}
