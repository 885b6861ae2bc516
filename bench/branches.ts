/**
 * Branch coverage of the revisions and backends reached by `check` alone (`npm run
 * bench:branches`): the matrix tests run every revision's exploration at the default budget
 * under V8 coverage (no unit test, no hand-built scenario), then this prints each file's branch
 * coverage and every branch left unreached, by line, for triage (reports/branches.md).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const ROOT = join(import.meta.dirname, '..');
const OUT = join(ROOT, 'reports', 'out', 'branches');
const r = spawnSync('npx', [
  'vitest', 'run', 'test/matrix.snp.test.ts', 'test/matrix.tdx.test.ts', 'test/matrix.cca.test.ts',
  '--coverage', '--coverage.include=model/revisions/**', '--coverage.include=model/backends/**',
  '--coverage.exclude=model/revisions/mutants.ts', `--coverage.reportsDirectory=${OUT}`, '--coverage.reporter=json',
  '--coverage.thresholds.lines=0', '--coverage.thresholds.branches=0', '--coverage.thresholds.functions=0', '--coverage.thresholds.statements=0',
], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, NO_COLOR: '1' } });
if (r.status !== 0) console.error(`vitest exited with ${r.status}; coverage is still reported`);

interface FileCov {
  readonly branchMap: Record<string, { readonly loc: { readonly start: { readonly line: number } }; readonly type: string; readonly locations: readonly { readonly start: { readonly line: number } }[] }>;
  readonly b: Record<string, readonly number[]>;
}
const cov = JSON.parse(readFileSync(join(OUT, 'coverage-final.json'), 'utf8')) as Record<string, FileCov>;
const rows: { file: string; covered: number; total: number; unreached: string[] }[] = [];
for (const [path, f] of Object.entries(cov)) {
  const file = relative(ROOT, path);
  let covered = 0;
  let total = 0;
  const unreached: string[] = [];
  for (const [id, counts] of Object.entries(f.b)) {
    counts.forEach((n, i) => {
      total++;
      if (n > 0) covered++;
      else unreached.push(`${file}:${f.branchMap[id]?.locations[i]?.start.line ?? f.branchMap[id]?.loc.start.line ?? '?'} (${f.branchMap[id]?.type ?? '?'} #${i})`);
    });
  }
  rows.push({ file, covered, total, unreached });
}
rows.sort((a, b) => a.file.localeCompare(b.file));
const pct = (c: number, t: number) => (t === 0 ? 100 : (100 * c) / t);
const all = rows.reduce((a, r) => ({ c: a.c + r.covered, t: a.t + r.total }), { c: 0, t: 0 });
const md = [
  '# Branches reached by check alone',
  '',
  `Overall: ${all.c}/${all.t} branches (${pct(all.c, all.t).toFixed(1)} %).`,
  '',
  '| file | branches | % |',
  '|---|---|---|',
  ...rows.map((r) => `| ${r.file} | ${r.covered}/${r.total} | ${pct(r.covered, r.total).toFixed(1)} |`),
  '',
  '## Unreached',
  '',
  ...rows.flatMap((r) => r.unreached.map((u) => `- ${u}`)),
  '',
].join('\n');
mkdirSync(join(ROOT, 'reports'), { recursive: true });
writeFileSync(join(ROOT, 'reports', 'branches.md'), md);
console.log(md.split('\n## Unreached')[0]);
