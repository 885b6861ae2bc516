import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { loadConcurrent, type ConcurrentModel } from '../../model/concurrent/load.js';
import { revisionsFor } from '../../model/revisions/registry.js';
import { CorpusFileError } from '../../properties/corpus/load.js';
import { loadThreadsCorpus, loadThreadsFile, replayThreadsEntry, THREADS_CORPUS_TARGETS, threadsEntryName, threadsVerdictMismatch } from '../../properties/corpus/threads.js';
import { run } from '../runCli.js';

/**
 * The interleavings corpus (corpus/threads/): each stored scenario, its schedule replayed on
 * every x86 revision of its backend, gets exactly the verdict recorded for it; and every bug the
 * corpus keeps interleavings of has its file. After a deliberate model change:
 * npx tsx scripts/corpus-threads.ts --rerecord (and review the diff).
 */
const DIR = join(import.meta.dirname, '..', '..', 'corpus', 'threads');
const entries = loadThreadsCorpus(DIR);
let m: ConcurrentModel;
beforeAll(async () => {
  m = await loadConcurrent();
}, 120_000);

describe('corpus/threads/', () => {
  test('keeps an interleaving of every target: B2 in both forms, B20 on each injected form, RFC v2\'s WARN past EOF', () => {
    const missing = THREADS_CORPUS_TARGETS.flatMap(({ cell, signatures }) => signatures.filter((s) => {
      const e = entries.find((x) => x.entry.name === threadsEntryName(cell, s));
      const v = e?.entry.verdicts[cell.revision];
      return v?.verdict !== 'found' || !v.signature.startsWith(s) || e?.entry.origin.signature.startsWith(s) !== true;
    }).map((s) => `${threadsEntryName(cell, s)} (${s})`));
    expect(missing).toEqual([]);
    expect(entries.length).toBeGreaterThanOrEqual(10);
  });

  for (const { entry } of entries) {
    test(`${entry.name}: every revision gets its recorded verdict`, () => {
      const problems: string[] = [];
      for (const r of revisionsFor(entry.scenario.backend)) {
        const recorded = entry.verdicts[r.id];
        if (recorded === undefined) {
          problems.push(`${r.id}: no verdict recorded`);
          continue;
        }
        const d = threadsVerdictMismatch(recorded, replayThreadsEntry(m, entry.scenario, r.id));
        if (d !== undefined) problems.push(`${r.id}: ${d}`);
      }
      expect(problems).toEqual([]);
    });
  }

  test('a file that cannot be used names the problem; interleave --scenario takes a stored entry, or exits 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gmemcheck-threads-corpus-'));
    const [first] = entries;
    if (first === undefined) throw new Error('empty corpus');
    const wrongName = join(dir, 'other.json');
    writeFileSync(wrongName, JSON.stringify({ ...first.entry, verdicts: { 'no-such-rev': first.entry.verdicts[first.entry.origin.revision] } }, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v)));
    expect(() => loadThreadsFile(wrongName)).toThrow(CorpusFileError);
    expect(() => loadThreadsFile(wrongName)).toThrow(/name: must match the file name \(other\)/);
    expect(() => loadThreadsFile(wrongName)).toThrow(/verdicts\["no-such-rev"\]: no (snp|tdx) revision is called no-such-rev/);
    const r = await run('interleave', '--scenario', wrongName, '--revision', 'v6.17');
    expect(r.code).toBe(2);
    expect(r.err).toContain('name: must match the file name');
    const ok = await run('interleave', '--scenario', first.file, '--revision', first.entry.origin.revision);
    expect(ok.code).toBe(0);
    expect(ok.out).toContain('(known)');
  });
});
