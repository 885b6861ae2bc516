import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCorpusFile } from '../../properties/corpus/load.js';
import { CAMPAIGN_FORMAT, type CampaignFile, type UnitRecord } from '../../reports/campaign.js';
import { campaignExit, campaignText } from '../../reports/campaignText.js';
import { UsageError } from '../argParse.js';
import { freshFolderName, writeReports } from '../fuzz/reportFiles.js';
import { readCampaign, writeCampaign } from '../fuzz/state.js';
import { writeNew } from '../fuzz/triage.js';
import type { ReportMergeOptions } from '../fuzzArgs.js';
import { REPO_ROOT, shownPath, userPath } from '../revisionModule.js';

/**
 * `gmemcheck report merge DIR...`: the shards of one campaign (`fuzz --shard I/N`, same
 * arguments otherwise) as one campaign: the union of their units, whose report is the report of
 * one unsharded campaign over the same units (reports/campaignSummary.ts reads units alone). The
 * merged folder is itself a campaign: `fuzz --resume` on it runs the units no shard did. Exit
 * status as fuzz's: 0 no new signature, 1 new signature(s) or a model error, 2 bad input.
 */

export interface MergeIo {
  readonly write: (s: string) => void;
  readonly writeErr: (s: string) => void;
}

function withoutShard(c: CampaignFile): string {
  return JSON.stringify({ ...c.args, shard: null });
}

export function runReportMerge(o: ReportMergeOptions, io: MergeIo): number {
  const dirs = o.dirs.map((d) => userPath(d));
  const campaigns = dirs.map((d) => ({ dir: d, c: readCampaign(d) }));
  const first = campaigns[0];
  if (first === undefined) throw new UsageError('report merge needs at least one campaign folder');
  for (const { dir, c } of campaigns.slice(1)) {
    if (withoutShard(c) !== withoutShard(first.c)) throw new UsageError(`${shownPath(dir)} is another campaign than ${shownPath(first.dir)} (its arguments differ beyond --shard): only shards of one campaign merge`);
    if (c.args.shard.count !== first.c.args.shard.count) throw new UsageError(`${shownPath(dir)} is shard ${c.args.shard.index}/${c.args.shard.count}, ${shownPath(first.dir)} ${first.c.args.shard.index}/${first.c.args.shard.count}: shards of one campaign split it the same way`);
  }
  const shardsSeen = new Map<number, string>();
  for (const { dir, c } of campaigns) {
    const other = shardsSeen.get(c.args.shard.index);
    if (other !== undefined) throw new UsageError(`${shownPath(other)} and ${shownPath(dir)} are both shard ${c.args.shard.index}/${c.args.shard.count}: give each shard once`);
    shardsSeen.set(c.args.shard.index, dir);
  }
  const units = new Map<number, { dir: string; u: UnitRecord }>();
  for (const { dir, c } of campaigns) {
    for (const u of c.units) {
      const had = units.get(u.index);
      if (had !== undefined) throw new UsageError(`unit ${u.index} is in both ${shownPath(had.dir)} and ${shownPath(dir)}: a shard given twice?`);
      units.set(u.index, { dir, u });
    }
  }
  const count = first.c.args.shard.count;
  const have = new Set(campaigns.map(({ c }) => c.args.shard.index));
  const missing = Array.from({ length: count }, (_, i) => i + 1).filter((i) => !have.has(i));
  let out = o.out !== undefined ? userPath(o.out) : join(REPO_ROOT, 'reports', 'out', freshFolderName(new Date(), 'fuzz-merged'));
  if (o.out === undefined) for (let n = 2; existsSync(out); n++) out = out.replace(/(-\d+)?$/, `-${n}`);
  if (existsSync(out) && readdirSync(out).length > 0) throw new UsageError(`--out ${o.out ?? out}: exists and is not empty; give a new folder`);
  mkdirSync(out, { recursive: true });
  const merged: CampaignFile = {
    format: CAMPAIGN_FORMAT,
    // The union is the unsharded campaign with these units done.
    args: { ...first.c.args, shard: { index: 1, count: 1 } },
    status: campaigns.every(({ c }) => c.status === 'complete') && missing.length === 0 ? 'complete' : 'interrupted',
    // Shards run side by side: the campaign took as long as the longest.
    elapsedMs: Math.max(...campaigns.map(({ c }) => c.elapsedMs)),
    units: [...units.values()].map((x) => x.u).sort((a, b) => a.index - b.index),
    written: {},
    mergedFrom: dirs.map((d) => shownPath(d)),
  };
  // Each new signature's files from the shard whose unit met it first (by index), as one run would.
  const firstMet = new Map<string, { dir: string; index: number }>();
  for (const { dir, u } of [...units.values()].sort((a, b) => a.u.index - b.u.index)) {
    for (const s of u.signatures) if (s.status === 'new' && !firstMet.has(s.signature)) firstMet.set(s.signature, { dir, index: u.index });
  }
  for (const [signature, { dir }] of firstMet) {
    const holder = [dir, ...dirs.filter((d) => d !== dir)].map((d) => ({ d, w: campaigns.find((x) => x.dir === d)?.c.written[signature] })).find((x) => x.w !== undefined);
    if (holder?.w === undefined) continue;
    const { entry } = loadCorpusFile(join(holder.d, holder.w.scenario));
    writeNew(out, merged.written, { signature, entry, trace: readFileSync(join(holder.d, holder.w.trace), 'utf8') });
  }
  writeCampaign(out, merged);
  const summary = writeReports(out, merged);
  if (missing.length > 0) io.writeErr(`report merge: shard(s) ${missing.map((i) => `${i}/${count}`).join(', ')} not given: the report covers the others\n`);
  io.write(campaignText(summary, shownPath(out)));
  const exit = campaignExit(summary);
  io.write(exit.line);
  return exit.code;
}
