import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { convertWorkflowTemplate, NoOperationTraceWriter, parseWorkflow } from '@actions/workflow-parser';
import { describe, expect, test } from 'vitest';
import type { CampaignSummary } from '../../reports/campaignSummary.js';
import { interpolate, loadWorkflow, runJob, type Job } from './localRunner.js';

/**
 * The nightly workflow. GitHub is out of reach here, so it is checked two ways: GitHub's own
 * workflow parser (the one its Actions tooling validates with) against the workflow schema, and a
 * run of its jobs on this machine (test/fuzz/localRunner.ts), expressions and all, with one change:
 * each shard's campaign is a few units long instead of 45 minutes.
 */
const REPO = join(import.meta.dirname, '..', '..');
const FILE = join(REPO, '.github', 'workflows', 'nightly.yml');
const TIME_BOX = '--time 45m';
const SHORT = '--runs 160 --unit-runs 40';

function job(name: string): Job {
  const j = loadWorkflow(FILE).jobs[name];
  if (j === undefined) throw new Error(`nightly.yml has no job ${name}`);
  return j;
}

function summaryAt(dir: string): CampaignSummary {
  return JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as CampaignSummary;
}

describe('.github/workflows/nightly.yml', () => {
  test('is a valid workflow to GitHub\'s parser: no schema or expression errors, jobs seed → fuzz → merge', async () => {
    const parsed = parseWorkflow({ name: 'nightly.yml', content: readFileSync(FILE, 'utf8') }, new NoOperationTraceWriter());
    expect(parsed.context.errors.getErrors().map((e) => e.message)).toEqual([]);
    if (parsed.value === undefined) throw new Error('nothing parsed');
    const template = await convertWorkflowTemplate(parsed.context, parsed.value);
    expect(template.errors ?? []).toEqual([]);
    expect(template.jobs.map((j) => [j.id.value, (j.needs ?? []).map((n) => n.value)])).toEqual([['seed', []], ['fuzz', ['seed']], ['merge', ['fuzz']]]);
    expect(template.events.schedule?.length).toBe(1);
  });

  test('a seed input reaches the shell as data: a number passes, anything else stops the job (exit 2), none gives the date', () => {
    const root = mkdtempSync(join(tmpdir(), 'gmemcheck-nightly-seed-'));
    const seedOf = (input: string, name: string) => runJob({ repo: REPO, root, name, job: job('seed'), context: { inputs: { seed: input } } });
    expect(seedOf('7', 'given').outputs.seed).toBe('7');
    expect(seedOf('', 'dated').outputs.seed).toMatch(/^20\d{6}$/);
    const bad = seedOf('1"; touch pwned; echo "', 'injected');
    expect(bad.steps[0]?.status).toBe(2);
    expect(bad.steps[0]?.stderr).toContain('seed must be a non-negative integer');
  });

  test('runs here as on GitHub: every shard of the matrix, then the merge into one complete report', { timeout: 240_000 }, () => {
    const root = mkdtempSync(join(tmpdir(), 'gmemcheck-nightly-'));
    const seed = runJob({ repo: REPO, root, name: 'seed', job: job('seed'), context: { inputs: { seed: '7' } } });
    expect(seed.outputs.seed).toBe('7');
    const fuzz = job('fuzz');
    const shards = fuzz.strategy?.matrix.shard ?? [];
    expect(shards.length).toBeGreaterThan(1);
    // Shorten each campaign, and nothing else: the command must still hold the time box once.
    const steps = fuzz.steps.map((s) => {
      if (s.run?.includes('gmemcheck fuzz') !== true) return s;
      expect(s.run.split(TIME_BOX).length).toBe(2);
      return { ...s, run: s.run.replace(TIME_BOX, SHORT) };
    });
    const shardSummaries = shards.map((shard) => {
      const r = runJob({ repo: REPO, root, name: `fuzz-${String(shard)}`, job: { ...fuzz, steps }, context: { needs: { seed: { outputs: seed.outputs } }, matrix: { shard } } });
      for (const s of r.steps) expect(s.status, `${s.label}: ${s.stderr}`).toBe(0);
      const summary = summaryAt(join(r.workspace, 'fuzz-out'));
      expect(summary.campaign).toMatchObject({ seed: 7, shard: { index: Number(shard), count: shards.length } });
      return summary;
    });
    const merge = runJob({ repo: REPO, root, name: 'merge', job: job('merge'), context: {} });
    for (const s of merge.steps) expect(s.status, `${s.label}: ${s.stderr}`).toBe(0);
    // Every shard was handed over: the merge names no missing one.
    expect(merge.steps.map((s) => s.stderr).join('')).not.toContain('not given');
    const merged = summaryAt(join(merge.workspace, 'fuzz-report'));
    expect(merged.status).toBe('complete');
    expect(merged.totals.units).toBe(shardSummaries.reduce((n, s) => n + s.totals.units, 0));
    expect(merged.totals.runs).toBe(160);
    expect(merge.summary).toBe(readFileSync(join(merge.workspace, 'fuzz-report', 'summary.md'), 'utf8'));
  });

  test('the local runner evaluates expressions as GitHub does (format, contexts, missing values)', () => {
    expect(interpolate("x ${{ format('{0}/{1}', matrix.shard, 4) }} y", { matrix: { shard: 3 } })).toBe('x 3/4 y');
    expect(interpolate('${{ inputs.seed }}', { inputs: {} })).toBe('');
  });
});
