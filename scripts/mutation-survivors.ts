/**
 * The mutants a Stryker run left standing, one line each, for triage
 * (`npx tsx scripts/mutation-survivors.ts [reports/mutation/mutation.json]`): file:line:column,
 * status, mutator, the original line and the replacement; then each file's counts and score as
 * reports/mutation-triage.md states them (killed and timed out over all but ignored ones).
 * Copy mutation.json aside after a run: the next run overwrites it.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';

const report = z.object({
  files: z.record(z.string(), z.object({
    source: z.string(),
    mutants: z.array(z.object({
      status: z.string(),
      mutatorName: z.string(),
      replacement: z.string().optional(),
      location: z.object({ start: z.object({ line: z.number(), column: z.number() }) }),
    })),
  })),
});

const path = process.argv[2] ?? 'reports/mutation/mutation.json';
let parsed: z.infer<typeof report>;
try {
  parsed = report.parse(JSON.parse(readFileSync(path, 'utf8')));
} catch (e) {
  console.error(`mutation-survivors: cannot read a Stryker JSON report from ${path}: ${(e as Error).message.split('\n')[0] ?? ''}`);
  process.exit(2);
}

const totals: string[] = [];
for (const [file, f] of Object.entries(parsed.files)) {
  const lines = f.source.split('\n');
  const count = (...s: string[]) => f.mutants.filter((m) => s.includes(m.status)).length;
  for (const m of f.mutants.filter((x) => x.status === 'Survived' || x.status === 'NoCoverage')) {
    const { line, column } = m.location.start;
    console.log(`${file}:${line}:${column} [${m.status}] ${m.mutatorName}: ${(lines[line - 1] ?? '').trim().slice(0, 110)}  =>  ${JSON.stringify((m.replacement ?? '').slice(0, 80))}`);
  }
  const killed = count('Killed', 'Timeout');
  const scored = killed + count('Survived', 'NoCoverage');
  totals.push(`${file}: killed ${killed} (${count('Timeout')} timed out), survived ${count('Survived')}, no coverage ${count('NoCoverage')}, ignored ${count('Ignored')}: ${scored === 0 ? '-' : ((100 * killed) / scored).toFixed(1)} %`);
}
console.log(['', ...totals].join('\n'));
