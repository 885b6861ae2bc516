/**
 * Keeps one stored interleaving per bug `gmemcheck interleave` expects, and every verdict up to date.
 *
 *   npx tsx scripts/corpus-threads.ts [--rerecord] [DIR]   (default: corpus/threads/)
 *
 * For each cell of THREADS_CORPUS_TARGETS (properties/corpus/threads.ts), random mode (properties/interleave.ts, bugs behind bugs) runs under the
 * default seed and then seeds 1..30 until it has found every signature the cell is here for; each
 * shrunk counterexample, with its schedule, is saved under a name made of the cell and the
 * signature, unless a file of that name exists, with the verdict every x86 revision of its
 * backend gets on it replayed. `--rerecord` first rewrites the verdicts of every existing file
 * (after a deliberate change to the model; review the diff).
 */
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConcurrent } from '../model/concurrent/load.js';
import { DEFAULT_SEED } from '../cli/args.js';
import { jsonReplacer } from '../model/kernel/u64.js';
import { exploreRandom, expectedInterleaving } from '../properties/interleave.js';
import { loadThreadsCorpus, recordThreadsVerdicts, THREADS_CORPUS_TARGETS as TARGETS, threadsEntryName as name, type ThreadsEntry } from '../properties/corpus/threads.js';

const { values, positionals } = parseArgs({ options: { rerecord: { type: 'boolean' } }, allowPositionals: true });
const dir = positionals[0] ?? join(import.meta.dirname, '..', 'corpus', 'threads');
const m = await loadConcurrent();

function write(file: string, entry: ThreadsEntry): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(entry, jsonReplacer, 2)}\n`);
  renameSync(tmp, file);
}

if (values.rerecord === true) {
  for (const { file, entry } of loadThreadsCorpus(dir)) write(file, { ...entry, verdicts: recordThreadsVerdicts(m, entry.scenario, entry.origin) });
  console.log(`re-recorded the verdicts of every file in ${dir}`);
}

mkdirSync(dir, { recursive: true });
for (const { cell, signatures } of TARGETS) {
  const todo = signatures.filter((s) => !existsSync(join(dir, `${name(cell, s)}.json`)));
  for (const seed of [DEFAULT_SEED, ...Array.from({ length: 30 }, (_v, i) => i + 1)]) {
    if (todo.length === 0) break;
    const enough = (found: readonly string[]): boolean => todo.every((t) => found.some((f) => f.startsWith(t)));
    const o = exploreRandom(m, cell, { runs: 2000, seed, depth: 3, enough });
    if (o.status !== 'violated') continue;
    for (const t of [...todo]) {
      const c = o.counterexamples.find((x) => x.verdict.signature.startsWith(t));
      if (c === undefined) continue;
      const bug = expectedInterleaving(cell)?.bugs.find((b) => b.signatures.some((s) => c.verdict.signature.startsWith(s)))?.id ?? 'new';
      const origin = { kind: 'found' as const, revision: cell.revision, bug, signature: c.verdict.signature };
      const file = join(dir, `${name(cell, t)}.json`);
      write(file, {
        name: name(cell, t),
        about: `${cell.backend} × ${cell.revision} under in-place semantics (series ${cell.series ?? 'v8'}): ${bug}, ${c.verdict.signature}; found by random mode (seed ${seed}, run ${c.runsToFind}), shrunk to ${c.size.threads} thread(s), ${c.size.ops} operation(s), ${c.size.preemptions} preemption(s)`,
        origin,
        scenario: c.scenario,
        verdicts: recordThreadsVerdicts(m, c.scenario, origin),
      });
      todo.splice(todo.indexOf(t), 1);
      console.log(`saved ${file}`);
    }
  }
  if (todo.length > 0) console.log(`${cell.backend} × ${cell.revision} (${cell.series ?? 'v8'}): not found under 31 seeds: ${todo.join(', ')}`);
}
