import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { revisionsFor } from '../model/revisions/registry.js';
import { judgeScenario, verdictMismatch } from '../properties/corpus/judge.js';
import { loadCorpus } from '../properties/corpus/load.js';
import { expectation, expectedSignatures } from '../properties/matrix.js';
import { INVARIANTS } from '../properties/registry.js';

/**
 * The regression corpus: every scenario replayed on every revision of its backend, each getting
 * exactly the verdict recorded for it; and the corpus covers every violated cell of the matrix.
 */
const CORPUS = join(import.meta.dirname, '..', 'corpus');
const entries = loadCorpus(CORPUS);

describe('corpus/', () => {
  test('has entries for every backend, found and boundary', () => {
    for (const backend of ['snp', 'tdx', 'cca'] as const) {
      const mine = entries.filter((e) => e.entry.scenario.backend === backend);
      expect(mine.some((e) => e.entry.origin.kind === 'found'), backend).toBe(true);
      expect(mine.some((e) => e.entry.origin.kind === 'boundary'), backend).toBe(true);
    }
  });

  test('every signature the matrix expects on a cell has a scenario that records it', () => {
    const missing: string[] = [];
    for (const backend of ['snp', 'tdx', 'cca'] as const) {
      for (const r of revisionsFor(backend)) {
        const have = new Set(entries.flatMap(({ entry }) => {
          const v = entry.verdicts[r.id];
          return entry.scenario.backend === backend && v?.verdict === 'violated' ? (v.signatures ?? []) : [];
        }));
        for (const inv of INVARIANTS) {
          const e = expectation(inv.id, backend, r.id);
          if (e.verdict !== 'violated') continue;
          for (const key of expectedSignatures(e, inv.id)) if (!have.has(key)) missing.push(`${backend}/${r.id} ${key}`);
        }
      }
    }
    // After adding a signature to properties/bugs.ts: npx tsx scripts/corpus-signatures.ts
    expect(missing).toEqual([]);
  });

  for (const { file, entry } of entries) {
    test(`${entry.name}: every revision gets its recorded verdict`, () => {
      const problems: string[] = [];
      for (const r of revisionsFor(entry.scenario.backend)) {
        const recorded = entry.verdicts[r.id];
        if (recorded === undefined) {
          problems.push(`${r.id}: no verdict recorded in ${file}`);
          continue;
        }
        for (const m of verdictMismatch(recorded, judgeScenario(entry.scenario, r))) problems.push(`${r.id}: ${m}`);
      }
      expect(problems).toEqual([]);
    });
  }
});
