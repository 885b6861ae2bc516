import { describe, expect, test } from 'vitest';
import { REVISIONS } from '../model/revisions/registry.js';
import type { BackendId } from '../model/scenario/Scenario.js';
import { checkCell, scenarioSize } from '../properties/check.js';
import { coverageShortfall } from '../properties/coverageRequirements.js';
import { bugForMessage, expectation } from '../properties/matrix.js';
import { INVARIANTS } from '../properties/registry.js';
import { cellRuns, suiteSeed } from './suite.js';

/**
 * One test per cell of the expected-verdict matrix for a backend: a cell expected to hold must
 * survive its runs and reach its coverage minimums; a cell expected to be violated must be
 * found within the budget, with the known bug's message, and shrink to the bug's size bound.
 */
export function matrixSuite(backend: BackendId): void {
  const seed = suiteSeed();
  const runs = cellRuns(backend);
  for (const revision of REVISIONS.filter((r) => r.backends.includes(backend))) {
    describe(`${backend} × ${revision.id} (seed ${seed})`, () => {
      for (const invariant of INVARIANTS) {
        const exp = expectation(invariant.id, backend, revision.id);
        const name = exp.verdict === 'holds' ? `${invariant.id} holds` : `${invariant.id} is violated (${exp.bugs.map((b) => b.id).join(' or ')})`;
        test(name, () => {
          const out = checkCell({ backend, revision, invariant, runs, seed });
          if (out.status === 'error') throw new Error(`model error (seed ${out.seed}, path ${out.path}): ${out.error}`);
          if (exp.verdict === 'holds') {
            const found = out.status === 'violated' ? out.violations.map((v) => v.message).join('\n') : '';
            expect(out.status, `unexpected violation (seed ${seed}):\n${found}\n${JSON.stringify(out.status === 'violated' ? out.counterexample : null)}`).toBe('holds');
            if (out.status === 'holds') expect(coverageShortfall(backend, revision, out.coverage), 'coverage minimums not reached').toEqual([]);
            return;
          }
          expect(out.status, `${exp.bug.id} not found in ${runs} runs (seed ${seed})`).toBe('violated');
          if (out.status !== 'violated') return;
          const bug = bugForMessage(exp, out.violations[0]?.messageId);
          expect(bug, `${out.violations[0]?.messageId} is not a message of ${exp.bugs.map((b) => b.id).join(', ')}`).toBeDefined();
          if (bug === undefined) return;
          const size = scenarioSize(out.counterexample);
          expect(size.ops, `shrunk to ${JSON.stringify(out.counterexample)}`).toBeLessThanOrEqual(bug.maxOps);
          expect(size.pages, `shrunk to ${JSON.stringify(out.counterexample)}`).toBeLessThanOrEqual(bug.maxPages);
        });
      }
    });
  }
}
