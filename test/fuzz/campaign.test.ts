import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { loadCorpusFile } from '../../properties/corpus/load.js';
import { revisionsFor } from '../../model/revisions/registry.js';
import type { CampaignSummary } from '../../reports/campaignSummary.js';
import { run } from '../runCli.js';
import { slugOf } from '../../cli/fuzz/triage.js';

/**
 * Small campaigns end to end: the report files, known signatures counted and nothing written for
 * them, a new signature written once as a corpus entry with its trace, and a revision that hangs
 * reported as a finding, not a stuck campaign.
 */
const REPO = join(import.meta.dirname, '..', '..');
let dir = '';
let saved: string | undefined;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'gmemcheck-fuzz-'));
  saved = process.env.GMEMCHECK_RUN_TIMEOUT_MS;
});
afterEach(() => {
  if (saved === undefined) delete process.env.GMEMCHECK_RUN_TIMEOUT_MS;
  else process.env.GMEMCHECK_RUN_TIMEOUT_MS = saved;
});

function summaryOf(out: string): CampaignSummary {
  return JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as CampaignSummary;
}

/** A TDX module derived from kvm-x86-next whose ioctl handler is `body`. */
function moduleWith(name: string, body: string): string {
  const file = join(dir, name);
  writeFileSync(file, [
    `import { kvm_x86_next, nextFns } from '${REPO}/model/revisions/kvm-x86-next.js';`,
    `import type { Revision } from '${REPO}/model/revisions/Revision.js';`,
    `export default { ...kvm_x86_next, id: 'mine', derivedFrom: 'kvm-x86-next', fns: { ...nextFns, tdx_vcpu_init_mem_region: ${body} } } satisfies Revision;`,
    '',
  ].join('\n'));
  return file;
}

describe('a tiny campaign', () => {
  test('a known-buggy revision: its signatures are counted as known, nothing is written to new/, exit 0; summary.json, summary.md and junit.xml', async () => {
    const out = join(dir, 'known');
    const r = await run('fuzz', '--backend', 'cca', '--revision', 'rme-v9', '--what-if', 'none', '--runs', '60', '--unit-runs', '30', '--workers', '2', '--out', out);
    expect(r.err).not.toContain('new signature');
    expect(r.code).toBe(0);
    expect(r.out).toContain('exit 0: no new signature');
    const s = summaryOf(out);
    expect(s.status).toBe('complete');
    expect(s.totals).toMatchObject({ units: 3, runs: 60, cells: 1, new: 0 });
    expect(s.totals.known).toBeGreaterThan(0);
    const cell = s.cells[0];
    expect(cell).toMatchObject({ cell: 'cca/rme-v9', units: 2, runs: 60, seeds: [20261122, 20261123] });
    expect(cell?.signatures.every((x) => x.status === 'known' && x.bug !== undefined)).toBe(true);
    expect(s.corpus).toHaveLength(1);
    expect(s.corpus[0]).toMatchObject({ revision: 'rme-v9', mismatches: [] });
    expect(existsSync(join(out, 'new'))).toBe(false);
    const md = readFileSync(join(out, 'summary.md'), 'utf8');
    expect(md.indexOf('## New signatures')).toBeLessThan(md.indexOf('## Matrix'));
    expect(md).toContain('| cca/rme-v9 | 2 | 60 |');
    const junit = readFileSync(join(out, 'junit.xml'), 'utf8');
    expect(junit).toContain('<testcase classname="fuzz.cca" name="cca/rme-v9"');
    expect(junit).toContain('failures="0"');
    // Coverage growth: the run that first reached each minimum, and the one that met it.
    expect(cell?.coverage.some((c) => c.firstRun !== undefined && c.atMinRun !== undefined && c.atMinRun >= c.firstRun)).toBe(true);
    // report write: the reports again from the state alone, which it leaves as it was.
    const state = readFileSync(join(out, 'units.jsonl'), 'utf8');
    const before = readFileSync(join(out, 'summary.json'), 'utf8');
    rmSync(join(out, 'summary.json'));
    rmSync(join(out, 'report.html'));
    const w = await run('report', 'write', out);
    expect(w.code).toBe(0);
    expect(readFileSync(join(out, 'summary.json'), 'utf8')).toBe(before);
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain('data-charts-expected="3"');
    expect(readFileSync(join(out, 'units.jsonl'), 'utf8')).toBe(state);
    expect((await run('report', 'write', join(dir, 'none'))).code).toBe(2);
  }, 60_000);

  test('a new signature: written at once as a corpus entry with every revision\'s verdict, and its trace; counted once over the units; exit 1', async () => {
    // An injected bug's consequences outside the invariant it is injected for are in no row of
    // the matrix: kvm-x86-next+double-put frees a source page the host still maps.
    const out = join(dir, 'new');
    const r = await run('fuzz', '--revision', 'kvm-x86-next+double-put', '--backend', 'snp', '--what-if', 'none', '--property', 'no-double-private', '--runs', '20', '--unit-runs', '10', '--out', out);
    expect(r.code).toBe(1);
    const s = summaryOf(out);
    expect(s.totals.new).toBeGreaterThan(0);
    expect(r.out).toContain(`exit 1: ${s.totals.new} new signature(s)`);
    const files = readdirSync(join(out, 'new')).sort();
    expect(files).toHaveLength(2 * s.totals.new);
    for (const n of s.newSignatures) {
      expect(r.err).toContain(`new signature ${n.signature}: ${n.file ?? '?'}`);
      expect(n.file).toBe(`new/${slugOf(n.signature)}.json`);
      const { entry } = loadCorpusFile(join(out, n.file ?? '?'));
      expect(entry.origin).toMatchObject({ kind: 'found', revision: 'kvm-x86-next+double-put', bug: 'new', signature: n.signature });
      expect(Object.keys(entry.verdicts).sort()).toEqual(revisionsFor('snp').map((x) => x.id).sort());
      const trace = readFileSync(join(out, n.trace ?? '?'), 'utf8');
      expect(trace).toContain(n.signature);
      expect(trace).toContain('SNP_LAUNCH_UPDATE');
    }
    // Each once in newSignatures, however many units met it.
    expect(new Set(s.newSignatures.map((n) => n.signature)).size).toBe(s.newSignatures.length);
    expect(s.newSignatures.some((n) => n.units > 1)).toBe(true);
    expect(readFileSync(join(out, 'junit.xml'), 'utf8')).toContain('type="new-signature"');
    expect(readFileSync(join(out, 'summary.md'), 'utf8')).toContain(`| \`${s.newSignatures[0]?.signature ?? '?'}\` |`);
  }, 60_000);

  test('a revision that hangs: the watchdog ends the unit and reports it as a new soft-lockup signature with its trace; the campaign goes on', async () => {
    process.env.GMEMCHECK_RUN_TIMEOUT_MS = '1500';
    const out = join(dir, 'spin');
    const mine = moduleWith('spin.ts', '() => { for (;;) { /* spin */ } }');
    const r = await run('fuzz', '--revision-module', mine, '--backend', 'tdx', '--what-if', 'none', '--property', 'oops', '--runs', '10', '--out', out);
    expect(r.code).toBe(1);
    const s = summaryOf(out);
    expect(s.totals.units).toBe(2);
    expect(s.totals.stopped).toBe(2);
    expect(s.newSignatures.map((n) => n.signature)).toEqual(['soft-lockup/wallClock@tdx_vcpu_init_mem_region']);
    const trace = readFileSync(join(out, s.newSignatures[0]?.trace ?? '?'), 'utf8');
    expect(trace).toContain('watchdog: BUG: soft lockup in tdx_vcpu_init_mem_region');
  }, 90_000);
});
