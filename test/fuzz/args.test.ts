import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { readCampaign } from '../../cli/fuzz/state.js';
import { run } from '../runCli.js';

/** Bad input to fuzz and report merge: a message naming the problem, exit 2, nothing overwritten. */

const dir = mkdtempSync(join(tmpdir(), 'gmemcheck-fuzz-args-'));

describe('fuzz: bad arguments exit 2 before anything runs', () => {
  test.each([
    [['fuzz', '--nope'], "Unknown option '--nope'"],
    [['fuzz', '--time', '30'], "--time must be a duration such as 90s, 30m, 1h or 1h30m, got '30'"],
    [['fuzz', '--time', '2d'], '--time must be a duration'],
    [['fuzz', '--shard', '3/2'], '--shard 3/2: I must be between 1 and N (2)'],
    [['fuzz', '--shard', '0/2'], '--shard 0/2: I must be between 1 and N (2)'],
    [['fuzz', '--shard', 'half'], "--shard must be I/N (this machine's share of N), e.g. 1/4, got 'half'"],
    [['fuzz', '--runs', '0'], '--runs must be between 1 and 100000000, got 0'],
    [['fuzz', '--workers', 'many'], "--workers must be an integer, got 'many'"],
    [['fuzz', '--backend', 'arm'], "--backend must be snp, tdx, cca or all, got 'arm'"],
    [['fuzz', '--revision', 'v9.9'], "--revision 'v9.9' is not a known revision"],
    [['fuzz', '--backend', 'cca', '--what-if', 'hugepages'], 'no cell of the revisions chosen runs under --what-if hugepages'],
    [['fuzz', '--resume', 'x', '--out', 'y'], '--resume DIR carries on in DIR: give no --out with it'],
    [['report'], 'report needs a subcommand: report merge DIR... or report write DIR'],
    [['report', 'merge'], 'report merge needs the campaign folders to merge'],
    [['report', 'write'], 'report write needs one campaign folder: report write DIR'],
    [['report', 'write', 'a', 'b'], 'report write needs one campaign folder: report write DIR'],
    [['report', 'show'], "unknown report subcommand 'show' (expected merge or write)"],
  ])('%j', async (argv, message) => {
    const r = await run(...argv);
    expect(r.code).toBe(2);
    expect(r.err).toContain(message);
  });
});

describe('fuzz: folders it will not use', () => {
  test('an --out folder that is not empty is refused, and left as it was', async () => {
    const out = join(dir, 'busy');
    mkdirSync(out);
    writeFileSync(join(out, 'mine.txt'), 'keep me');
    const r = await run('fuzz', '--backend', 'cca', '--revision', 'rme-v9', '--runs', '10', '--out', out);
    expect(r.code).toBe(2);
    expect(r.err).toContain('exists and is not empty; give a new folder, or --resume it');
    expect(readFileSync(join(out, 'mine.txt'), 'utf8')).toBe('keep me');
  });

  test('--resume of a folder with no campaign.json is refused', async () => {
    const r = await run('fuzz', '--resume', dir);
    expect(r.code).toBe(2);
    expect(r.err).toContain('no campaign.json here, so no campaign to carry on');
  });

  test('--resume with arguments other than the campaign\'s is refused, and the campaign left as it was', async () => {
    const out = join(dir, 'camp');
    mkdirSync(out);
    const state = {
      format: 'gmemcheck-fuzz-campaign/2', status: 'interrupted', elapsedMs: 10, written: {},
      args: { backends: ['cca'], revisions: ['rme-v9'], whatIf: 'none', properties: ['oops'], seed: 5, runs: 10, shard: { index: 1, count: 1 } },
    };
    const text = JSON.stringify(state);
    writeFileSync(join(out, 'campaign.json'), text);
    writeFileSync(join(out, 'units.jsonl'), '');
    const r = await run('fuzz', '--resume', out, '--seed', '6');
    expect(r.code).toBe(2);
    expect(r.err).toContain('--seed differs from the campaign in');
    expect(r.err).toContain('(6 here, 5 there)');
    expect(readFileSync(join(out, 'campaign.json'), 'utf8')).toBe(text);
    const broken = join(dir, 'broken');
    mkdirSync(broken);
    writeFileSync(join(broken, 'campaign.json'), '{"format": "something else"}');
    const b = await run('fuzz', '--resume', broken);
    expect(b.code).toBe(2);
    expect(b.err).toContain('not a campaign state');
    // A campaign of the first format (units inside campaign.json) is named as such.
    const old = join(dir, 'old');
    mkdirSync(old);
    writeFileSync(join(old, 'campaign.json'), JSON.stringify({ ...state, format: 'gmemcheck-fuzz-campaign/1', units: [] }));
    const o = await run('fuzz', '--resume', old);
    expect(o.code).toBe(2);
    expect(o.err).toContain('a campaign of format 1, before the units journal, cannot be resumed or merged');
  });

  test('the units journal: a last line a kill cut short is a unit not done; a damaged line is refused, and nothing is rewritten', () => {
    const out = join(dir, 'journal');
    mkdirSync(out);
    const header = {
      format: 'gmemcheck-fuzz-campaign/2', status: 'running', elapsedMs: 10, written: {},
      args: { backends: ['cca'], revisions: ['rme-v9'], whatIf: 'none', properties: ['oops'], seed: 5, runs: 10, shard: { index: 1, count: 1 } },
    };
    writeFileSync(join(out, 'campaign.json'), JSON.stringify(header));
    const unit = (index: number): string => JSON.stringify({ kind: 'corpus', index, backend: 'cca', revision: 'rme-v9', ms: 1, scenarios: 0, mismatches: [], signatures: [], modelErrors: [] });
    writeFileSync(join(out, 'units.jsonl'), `${unit(1)}\n${unit(0)}\n${unit(2).slice(0, 30)}`);
    expect(readCampaign(out).units.map((u) => u.index)).toEqual([0, 1]);
    const damaged = `${unit(0)}\n{"kind": "corpus"}\n`;
    writeFileSync(join(out, 'units.jsonl'), damaged);
    expect(() => readCampaign(out)).toThrow(/units\.jsonl line 2: not a unit record/);
    expect(readFileSync(join(out, 'units.jsonl'), 'utf8')).toBe(damaged);
  });

  test('report merge refuses folders of different campaigns', async () => {
    const mk = (name: string, seed: number, index: number): string => {
      const d = join(dir, name);
      mkdirSync(d);
      writeFileSync(join(d, 'campaign.json'), JSON.stringify({
        format: 'gmemcheck-fuzz-campaign/2', status: 'complete', elapsedMs: 10, written: {},
        args: { backends: ['cca'], revisions: ['rme-v9'], whatIf: 'none', properties: ['oops'], seed, runs: 10, shard: { index, count: 2 } },
      }));
      writeFileSync(join(d, 'units.jsonl'), '');
      return d;
    };
    const r = await run('report', 'merge', mk('a', 1, 1), mk('b', 2, 2), '--out', join(dir, 'merged'));
    expect(r.code).toBe(2);
    expect(r.err).toContain('its arguments differ beyond --shard): only shards of one campaign merge');
    const twice = await run('report', 'merge', mk('c', 1, 1), mk('d', 1, 1), '--out', join(dir, 'merged2'));
    expect(twice.code).toBe(2);
    expect(twice.err).toContain('are both shard 1/2: give each shard once');
  });
});
