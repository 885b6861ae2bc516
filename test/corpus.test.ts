import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { revisionsFor } from '../model/revisions/registry.js';
import { judgeScenario, verdictMismatch } from '../properties/corpus/judge.js';
import { loadCorpus } from '../properties/corpus/load.js';
import { BUGS, type KnownBug } from '../properties/bugs.js';
import { bugForSignature, expectation, expectedSignatures } from '../properties/matrix.js';
import { cellName, scenarioWhatIf, whatIfCellsOf } from '../model/whatIf.js';
import { agreesWith, atLeast, declaredLabel, needsText, scenarioNeeds, type Need } from '../properties/reach.js';
import { INVARIANTS } from '../properties/registry.js';
import { signatureMatches } from '../properties/signature.js';

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
        for (const whatIf of [undefined, ...whatIfCellsOf(r)]) {
          for (const inv of INVARIANTS) {
            const e = expectation(inv.id, backend, r.id, whatIf);
            if (e.verdict !== 'violated') continue;
            for (const key of expectedSignatures(e, inv.id, backend)) if (![...have].some((k) => signatureMatches(key, k))) missing.push(`${backend}/${cellName(r.id, whatIf)} ${key}`);
          }
        }
      }
    }
    // After adding a signature to properties/bugs.ts: npx tsx scripts/corpus-signatures.ts
    expect(missing).toEqual([]);
  });

  test("each known bug's label (what it takes) is what its easiest corpus scenario takes, and none takes less", () => {
    const problems: string[] = [];
    for (const bug of Object.values<KnownBug>(BUGS)) {
      const reach = bug.reach;
      if (reach === undefined) continue;
      // Every corpus scenario that shows one of the bug's signatures on a revision whose row names
      // the bug, credited to it as a check would credit it (a signature two bugs share goes to the
      // one whose label the scenario meets).
      const shown: { at: string; needs: Need[] }[] = [];
      for (const { entry } of entries) {
        for (const r of revisionsFor(entry.scenario.backend)) {
          const v = entry.verdicts[r.id];
          if (v?.verdict !== 'violated') continue;
          const mode = scenarioWhatIf(entry.scenario, r);
          const needs = scenarioNeeds(entry.scenario, r);
          const keys = (v.signatures ?? []).filter((k) => bugForSignature(expectation(k.split('/')[0] ?? '', entry.scenario.backend, r.id, mode), k, { mode, needs })?.id === bug.id);
          if (keys.length > 0) shown.push({ at: `${entry.name} on ${r.id} (${keys.join(', ')})`, needs });
        }
      }
      if (shown.length === 0) problems.push(`${bug.id}: no corpus scenario shows it`);
      else if (!shown.some((x) => agreesWith(reach, x.needs))) problems.push(`${bug.id} is labelled ${declaredLabel(reach)}, but its corpus scenarios take: ${shown.map((x) => `${x.at}: ${needsText(x.needs)}`).join('; ')}`);
      for (const x of shown) if (!atLeast(reach, x.needs)) problems.push(`${bug.id} is labelled ${declaredLabel(reach)}, but ${x.at} takes only ${needsText(x.needs)}`);
    }
    // A wrong label: fix it in properties/bugs.ts; a missing witness: npx tsx scripts/corpus-signatures.ts
    expect(problems).toEqual([]);
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
