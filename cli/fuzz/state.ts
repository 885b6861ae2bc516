import { appendFileSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { issuesOf } from '../../model/scenario/schema.js';
import { campaignHeaderSchema, unitRecordSchema, type CampaignFile, type UnitRecord } from '../../reports/campaign.js';

/**
 * A campaign's state on disk (reports/campaign.ts): `campaign.json`, the header (arguments,
 * status, time, the new signatures' files), rewritten whole after every unit, and `units.jsonl`,
 * one line per unit done, appended. Whatever stops the process (Ctrl-C, a CI job's time limit, a
 * power cut) leaves every unit finished before it on disk: `--resume` and `report merge` read it
 * back. Appending keeps a unit's cost constant: a night's campaign has tens of thousands of
 * units, and rewriting them all after each one grew quadratically (a 1-minute campaign already
 * wrote 0.3 MB per unit).
 */
export const CAMPAIGN_FILE = 'campaign.json';
export const UNITS_FILE = 'units.jsonl';

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

function unitLine(u: UnitRecord): string {
  return `${JSON.stringify(u)}\n`;
}

/** The header alone: after every unit (its time, a new signature's files) and at the end. */
export function writeCampaignHeader(dir: string, c: CampaignFile): void {
  const header: Omit<CampaignFile, 'units'> & { units?: unknown } = { ...c };
  delete header.units;
  writeAtomic(join(dir, CAMPAIGN_FILE), `${JSON.stringify(header, null, 1)}\n`);
}

/** Header and every unit, each file whole: a fresh campaign, a merge, a resume's clean start. */
export function writeCampaign(dir: string, c: CampaignFile): void {
  writeAtomic(join(dir, UNITS_FILE), c.units.map(unitLine).join(''));
  writeCampaignHeader(dir, c);
}

/** One unit done: its line goes on the journal's end (a single write of a whole line). */
export function appendUnit(dir: string, u: UnitRecord): void {
  appendFileSync(join(dir, UNITS_FILE), unitLine(u));
}

function parseJson(file: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new CampaignStateError(`${file}: not JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/**
 * The journal's units, by index. A last line without its newline is a write the process did not
 * finish (killed mid-append): that unit was not done and a resume runs it again. Any other line
 * that is not a unit record is damage to report, not to skip.
 */
function readUnits(dir: string): UnitRecord[] {
  const file = join(dir, UNITS_FILE);
  if (!existsSync(file)) throw new CampaignStateError(`${dir}: campaign.json but no ${UNITS_FILE}: not a whole campaign folder`);
  const lines = readFileSync(file, 'utf8').split('\n');
  // The text after the last newline: '' when the journal ends cleanly, else an unfinished write.
  lines.pop();
  const units = new Map<number, UnitRecord>();
  lines.forEach((line, i) => {
    const parsed = unitRecordSchema.safeParse(parseJson(`${file} line ${i + 1}`, line));
    if (!parsed.success) throw new CampaignStateError(`${file} line ${i + 1}: not a unit record: ${issuesOf(parsed.error).slice(0, 5).map((p) => `${p.path}: ${p.message}`).join('; ')}`);
    if (!units.has(parsed.data.index)) units.set(parsed.data.index, parsed.data);
  });
  return [...units.values()].sort((a, b) => a.index - b.index);
}

export function readCampaign(dir: string): CampaignFile {
  const file = join(dir, CAMPAIGN_FILE);
  if (!existsSync(file)) throw new CampaignStateError(`${dir}: no ${CAMPAIGN_FILE} here, so no campaign to carry on (give the folder a campaign wrote)`);
  const parsed = campaignHeaderSchema.safeParse(parseJson(file, readFileSync(file, 'utf8')));
  if (!parsed.success) throw new CampaignStateError(`${file}: not a campaign state: ${issuesOf(parsed.error).slice(0, 5).map((p) => `${p.path}: ${p.message}`).join('; ')}`);
  return { ...parsed.data, units: readUnits(dir) };
}
