import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { issuesOf } from '../../model/scenario/schema.js';
import { campaignFileSchema, type CampaignFile } from '../../reports/campaign.js';

/**
 * `campaign.json`, a campaign's state (reports/campaign.ts), written whole after every unit so
 * that whatever stops the process (Ctrl-C, a CI job's time limit, a power cut) leaves the last
 * complete state on disk: `--resume` and `report merge` read it back.
 */
export const CAMPAIGN_FILE = 'campaign.json';

/** A campaign folder that cannot be used (no campaign.json, a broken one): exit status 2. */
export class CampaignStateError extends Error {}

/**
 * Writes a file whole or not at all: the text goes to a temporary file beside it, renamed over
 * the name, so a reader (or a resume after a kill) never sees half of it.
 */
export function writeAtomic(file: string, text: string): void {
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

export function writeCampaign(dir: string, c: CampaignFile): void {
  writeAtomic(join(dir, CAMPAIGN_FILE), `${JSON.stringify(c, null, 1)}\n`);
}

export function readCampaign(dir: string): CampaignFile {
  const file = join(dir, CAMPAIGN_FILE);
  if (!existsSync(file)) throw new CampaignStateError(`${dir}: no ${CAMPAIGN_FILE} here, so no campaign to carry on (give the folder a campaign wrote)`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new CampaignStateError(`${file}: not JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  const parsed = campaignFileSchema.safeParse(json);
  if (!parsed.success) throw new CampaignStateError(`${file}: not a campaign state: ${issuesOf(parsed.error).slice(0, 5).map((p) => `${p.path}: ${p.message}`).join('; ')}`);
  return parsed.data;
}
