import { describe, expect, test } from 'vitest';
import { MUTANTS } from '../model/revisions/mutants.js';
import { REVISIONS } from '../model/revisions/registry.js';
import { whatIfCellsOf } from '../model/whatIf.js';
import { explore, scenarioSize } from '../properties/explore.js';
import { breaksKey } from '../properties/expectations.js';
import { expectation } from '../properties/matrix.js';
import { signatureMatches } from '../properties/signature.js';
import { INVARIANTS, invariantById } from '../properties/registry.js';
import { cellRuns, suiteSeed } from './suite.js';

/**
 * Teeth: every invariant is broken by at least one real revision (the matrix) or injected bug
 * (model/revisions/mutants.ts), and each injected bug is caught, with its message, and shrunk.
 */
describe(`injected bugs are caught (seed ${suiteSeed()})`, () => {
  for (const m of MUTANTS) {
    for (const backend of m.backends) {
      test(`${m.id} on ${backend} breaks ${m.breaks.invariant} (${m.breaks.messageId}${m.breaks.detail === undefined ? '' : `[${m.breaks.detail}]`})`, () => {
        const invariant = invariantById(m.breaks.invariant);
        if (invariant === undefined) throw new Error(`unknown invariant ${m.breaks.invariant}`);
        const wanted = breaksKey(m);
        const x = explore({ backend, revision: m, ...(m.whatIf === undefined ? {} : { whatIf: m.whatIf }), invariants: [invariant], runs: cellRuns(backend), seed: suiteSeed(), wanted: (k) => signatureMatches(wanted, k), untilFirst: true });
        const caught = x.findings.filter((f) => signatureMatches(wanted, f.key));
        expect(caught.map((f) => f.key), `found instead: ${x.findings.map((f) => f.key).join(', ')}`).not.toEqual([]);
        for (const f of caught) expect(scenarioSize(f.counterexample).ops, f.key).toBeLessThanOrEqual(m.maxOps ?? 6);
      });
    }
  }
});

describe('every invariant has teeth', () => {
  for (const inv of INVARIANTS) {
    test(`${inv.id} is expected violated by a revision or broken by an injected bug`, () => {
      // A what-if cell counts: lock-order's teeth are B2, which takes the in-place machine.
      const byRevision = REVISIONS.flatMap((r) => r.backends.flatMap((b) => [undefined, ...whatIfCellsOf(r)].map((w) => expectation(inv.id, b, r.id, w)))).some((e) => e.verdict === 'violated');
      const byMutant = MUTANTS.some((m) => m.breaks.invariant === inv.id);
      expect(byRevision || byMutant).toBe(true);
    });
  }
});
