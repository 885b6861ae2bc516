import { describe, expect, test } from 'vitest';
import { REVISIONS } from '../../model/revisions/registry.js';
import { buildPlan, shardUnits, unitAt, type Plan } from '../../cli/fuzz/plan.js';
import { parseDuration } from '../../cli/fuzz/duration.js';
import type { CampaignArgs } from '../../reports/campaign.js';

/** The campaign's work list: deterministic, round-robin, cut by --runs, split by --shard. */

function args(over: Partial<CampaignArgs> = {}): CampaignArgs {
  return { backends: ['snp', 'tdx', 'cca'], revisions: REVISIONS.map((r) => r.id), whatIf: 'all', properties: ['oops'], seed: 100, shard: { index: 1, count: 1 }, ...over };
}

function plan(over: Partial<CampaignArgs> = {}): Plan {
  const a = args(over);
  return buildPlan(a, REVISIONS.filter((r) => a.revisions.includes(r.id)), new Set(['snp', 'tdx', 'cca']));
}

describe('the plan', () => {
  test('corpus replays first (one per revision and backend), then explorations round-robin over the cells, round k under seed + k', () => {
    const p = plan();
    expect(p.corpus).toHaveLength(REVISIONS.reduce((n, r) => n + r.backends.length, 0));
    expect(p.cells).toHaveLength(63);
    expect(unitAt(p, 0)).toMatchObject({ kind: 'corpus', index: 0, backend: 'snp' });
    const first = unitAt(p, p.corpus.length);
    expect(first).toMatchObject({ kind: 'explore', cell: p.cells[0], k: 0, seed: 100, runs: 300 });
    const secondRound = unitAt(p, p.corpus.length + p.cells.length + 3);
    expect(secondRound).toMatchObject({ kind: 'explore', cell: p.cells[3], k: 1, seed: 101 });
    // The same arguments, the same sequence.
    expect(unitAt(plan(), 123)).toEqual(unitAt(p, 123));
  });

  test('--runs bounds the total: the last unit is cut to fit, and the sequence ends', () => {
    const p = plan({ backends: ['cca'], revisions: ['rme-v9'], whatIf: 'all', runs: 2500 });
    expect(p.cells.map((c) => c.whatIf)).toEqual([undefined, '4k-guard-lifted']);
    const units = shardUnits(p, { index: 1, count: 1 }).flatMap((u) => (u.kind === 'explore' ? [u] : []));
    expect(units.map((u) => u.runs)).toEqual([1000, 1000, 500]);
    expect(units.map((u) => u.seed)).toEqual([100, 100, 101]);
    expect(unitAt(p, p.corpus.length + 3)).toBeUndefined();
  });

  test('--unit-runs sets every unit\'s budget', () => {
    const p = plan({ backends: ['tdx'], revisions: ['v7.0'], whatIf: 'none', runs: 100, unitRuns: 30 });
    expect(shardUnits(p, { index: 1, count: 1 }).map((u) => (u.kind === 'explore' ? u.runs : 'corpus'))).toEqual(['corpus', 30, 30, 30, 10]);
  });

  test.each([1, 2, 3, 4, 7])('%i shards are disjoint and together cover the sequence', (n) => {
    const p = plan({ runs: 40_000 });
    const all = shardUnits(p, { index: 1, count: 1 }).map((u) => u.index);
    const shards = Array.from({ length: n }, (_, i) => shardUnits(p, { index: i + 1, count: n }).map((u) => u.index));
    const union = shards.flat().sort((a, b) => a - b);
    expect(union).toEqual(all);
    expect(new Set(union).size).toBe(union.length);
    for (const [i, s] of shards.entries()) expect(s.every((x) => x % n === i)).toBe(true);
  });

  test('a time-bounded sequence has no end; a shard takes every N-th unit of it', () => {
    const p = plan();
    const s = shardUnits(p, { index: 2, count: 3 }, 200);
    expect(s).toHaveLength(200);
    expect(s.map((u) => u.index)).toEqual(Array.from({ length: 200 }, (_, i) => 1 + 3 * i));
  });
});

describe('--time durations', () => {
  test.each([
    ['90s', 90_000], ['30m', 1_800_000], ['1h', 3_600_000], ['1h30m', 5_400_000], ['45m', 2_700_000],
  ])('%s is %i ms', (text, ms) => {
    expect(parseDuration(text)).toEqual({ ms });
  });

  test.each(['30', '', '1d', 'm', '-5m', '1.5h', '0s', '200h', '30 m'])('%j is refused', (text) => {
    expect(parseDuration(text)).toHaveProperty('error');
  });
});
