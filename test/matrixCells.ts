import { beforeAll, describe, expect, test } from 'vitest';
import { REVISIONS } from '../model/revisions/registry.js';
import type { BackendId } from '../model/scenario/Scenario.js';
import { cellName, whatIfCellsOf } from '../model/whatIf.js';
import { cellsOf } from '../properties/check.js';
import { expectedFor, judgeCell } from '../properties/expectations.js';
import { explore, scenarioSize, type Exploration } from '../properties/explore.js';
import { atLeast, declaredLabel, needsText, scenarioNeeds } from '../properties/reach.js';
import { findingBound } from '../properties/matrix.js';
import { INVARIANTS } from '../properties/registry.js';
import { cellRuns, suiteSeed } from './suite.js';
import { jsonReplacer } from '../model/kernel/u64.js';

/**
 * The expected-verdict matrix for a backend. Each revision is explored once, every invariant
 * watching the same runs; then one test per cell: every signature the cell shows belongs to one
 * of its expected bugs and shrinks within that bug's size bound, every expected bug is found by
 * at least one of its signatures, and a cell that holds reached its coverage minimums.
 */
export function matrixSuite(backend: BackendId): void {
  const seed = suiteSeed();
  const runs = cellRuns(backend);
  const cells = REVISIONS.filter((r) => r.backends.includes(backend)).flatMap((revision) => [undefined, ...whatIfCellsOf(revision)].map((whatIf) => ({ revision, whatIf })));
  for (const { revision, whatIf } of cells) {
    describe(`${backend} × ${cellName(revision.id, whatIf)} (seed ${seed}, ${runs} runs)`, () => {
      let x: Exploration | undefined;
      beforeAll(() => {
        x = explore({ backend, revision, ...(whatIf === undefined ? {} : { whatIf }), invariants: INVARIANTS, runs, seed });
      });
      test('the model never fails', () => {
        expect(x?.modelErrors.map((m) => `run ${m.run}: ${m.error}`)).toEqual([]);
      });
      for (const invariant of INVARIANTS) {
        const e = expectedFor(revision, invariant.id, backend, whatIf).expectation;
        const name = e.verdict === 'holds' ? `${invariant.id} holds` : `${invariant.id} is violated (${e.bugs.map((b) => b.id).join(', ')})`;
        test(name, () => {
          if (x === undefined) throw new Error('exploration did not run');
          const cell = cellsOf(x, backend, revision).find((c) => c.invariant === invariant.id);
          if (cell === undefined) throw new Error(`no cell for ${invariant.id}`);
          const findings = cell.status === 'violated' ? cell.findings : [];
          const j = judgeCell(expectedFor(revision, invariant.id, backend, whatIf), findings, cell.status === 'inconclusive', revision);
          const show = (f: (typeof findings)[number]) => `${f.key} (first in run ${f.firstRun}): ${JSON.stringify(f.counterexample, jsonReplacer)}`;
          expect(j.unexpected.map(show), `signatures the matrix does not expect (seed ${seed})`).toEqual([]);
          expect(j.missing.map((b) => b.id), `expected bugs not found in ${runs} runs (seed ${seed})`).toEqual([]);
          if (cell.status === 'inconclusive') expect(cell.shortfall, 'coverage minimums not reached').toEqual([]);
          for (const { finding, bug } of j.known) {
            // What a bug takes on a real machine: no counterexample takes less than its label says
            // (that the label is reached at all is checked on the corpus, test/corpus.test.ts).
            const needs = scenarioNeeds(finding.counterexample, revision);
            // A default cell runs only machines the revision's kernel accepts.
            if (whatIf === undefined) expect(needs.filter((n) => n.kind === 'what-if'), `${finding.key} in ${revision.id}'s default cell`).toEqual([]);
            if (bug.reach !== undefined) expect(atLeast(bug.reach, needs), `${bug.id} is labelled ${declaredLabel(bug.reach)}, but ${finding.key} takes only: ${needsText(needs)}`).toBe(true);
          }
          for (const { finding, bug } of j.known) {
            const size = scenarioSize(finding.counterexample);
            const bound = findingBound(expectedFor(revision, invariant.id, backend, whatIf).expectation, finding.key, bug, whatIf);
            expect(size.ops, `${finding.key} shrunk to ${JSON.stringify(finding.counterexample, jsonReplacer)}`).toBeLessThanOrEqual(bound.maxOps);
            expect(size.pages, `${finding.key} shrunk to ${JSON.stringify(finding.counterexample, jsonReplacer)}`).toBeLessThanOrEqual(bound.maxPages);
          }
        });
      }
    });
  }
}
