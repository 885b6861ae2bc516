import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { parseCommand } from '../../cli/args.js';
import { runFuzz } from '../../cli/commands/fuzz.js';
import type { CampaignSummary } from '../../reports/campaignSummary.js';
import { run } from '../runCli.js';

/**
 * Nothing is lost and nothing depends on how the work was split: a campaign interrupted and
 * resumed, and a campaign run as two shards and merged, each end with the summary of one
 * uninterrupted, unsharded campaign over the same seeds.
 */
const dir = mkdtempSync(join(tmpdir(), 'gmemcheck-fuzz-resume-'));
// kvm-x86-next+double-put has new signatures (consequences outside its injected invariant), so
// the comparison covers new/ files too; five exploration units and a corpus replay.
const CAMPAIGN = ['--revision', 'kvm-x86-next+double-put', '--backend', 'snp', '--what-if', 'none', '--property', 'no-double-private', '--runs', '50', '--unit-runs', '10'];

function summaryOf(out: string): CampaignSummary {
  return JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as CampaignSummary;
}

/** What must agree: everything but the arguments' echo, the status and the times (`ms`, `…Ms`). */
function results(s: CampaignSummary): unknown {
  return JSON.parse(JSON.stringify({ ...s, campaign: null, status: null }, (k, v: unknown) => (k === 'ms' || k.endsWith('Ms') ? null : v)));
}

let reference: CampaignSummary;
beforeAll(async () => {
  const out = join(dir, 'whole');
  expect((await run('fuzz', ...CAMPAIGN, '--out', out)).code).toBe(1);
  reference = summaryOf(out);
  expect(reference.totals).toMatchObject({ units: 6, runs: 50 });
}, 60_000);

describe('interrupted, then resumed', () => {
  test('an interrupt leaves a complete report of the units done (exit 130); --resume finishes the rest, as one uninterrupted run', async () => {
    const out = join(dir, 'interrupted');
    const command = parseCommand(['fuzz', ...CAMPAIGN, '--workers', '1', '--out', out]);
    if (command.kind !== 'fuzz') throw new Error('not a fuzz command');
    const controller = new AbortController();
    let out1 = '';
    let err1 = '';
    // Stop once two units are done, as Ctrl-C would: the one running is abandoned.
    const code = await runFuzz(command.options, {
      write: (s) => (out1 += s),
      writeErr: (s) => {
        err1 += s;
        if (err1.includes('2 units done')) controller.abort();
      },
      tty: false,
      progressEveryMs: 20,
      signal: controller.signal,
    });
    expect(code).toBe(130);
    expect(out1).toContain(`carry on with: npx gmemcheck fuzz --resume`);
    const partial = summaryOf(out);
    expect(partial.status).toBe('interrupted');
    expect(partial.totals.units).toBeGreaterThanOrEqual(2);
    expect(partial.totals.units).toBeLessThan(reference.totals.units);
    // Every new signature met so far is on disk.
    for (const n of partial.newSignatures) expect(existsSync(join(out, n.file ?? '?'))).toBe(true);
    expect(readFileSync(join(out, 'summary.md'), 'utf8')).toContain('**Interrupted**');

    const resumed = await run('fuzz', '--resume', out);
    expect(resumed.code).toBe(1);
    expect(resumed.err).toContain(`resuming (${partial.totals.units} units done)`);
    const whole = summaryOf(out);
    expect(whole.status).toBe('complete');
    expect(results(whole)).toEqual(results(reference));
  }, 60_000);
});

describe('sharded, then merged', () => {
  test('two shards cover disjoint units; report merge makes the summary of one unsharded run', async () => {
    const a = join(dir, 'shard1');
    const b = join(dir, 'shard2');
    expect([1, 0]).toContain((await run('fuzz', ...CAMPAIGN, '--shard', '1/2', '--out', a)).code);
    expect([1, 0]).toContain((await run('fuzz', ...CAMPAIGN, '--shard', '2/2', '--out', b)).code);
    const sa = summaryOf(a);
    const sb = summaryOf(b);
    expect(sa.totals.units + sb.totals.units).toBe(reference.totals.units);
    expect(sa.totals.units).toBeGreaterThan(0);
    expect(sb.totals.units).toBeGreaterThan(0);
    const merged = join(dir, 'merged');
    const m = await run('report', 'merge', a, b, '--out', merged);
    expect(m.code).toBe(1);
    const s = summaryOf(merged);
    expect(s.status).toBe('complete');
    expect(s.campaign.mergedFrom).toHaveLength(2);
    expect(results(s)).toEqual(results(reference));
    for (const n of s.newSignatures) {
      expect(existsSync(join(merged, n.file ?? '?'))).toBe(true);
      expect(existsSync(join(merged, n.trace ?? '?'))).toBe(true);
    }
  }, 60_000);
});
