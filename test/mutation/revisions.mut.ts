import { describe, expect, test } from 'vitest';
import { REVISIONS } from '../../model/revisions/registry.js';
import type { BackendId } from '../../model/scenario/Scenario.js';
import { cellsOf } from '../../properties/check.js';
import { expectedFor, judgeCell } from '../../properties/expectations.js';
import { CELL_RUNS, explore } from '../../properties/explore.js';
import { INVARIANTS } from '../../properties/registry.js';
import { suiteSeed } from '../suite.js';
import { cellName, whatIfCellsOf } from '../../model/whatIf.js';

/**
 * The matrix as Stryker runs it (stryker.config.mjs): one test per backend × revision that
 * explores and judges every cell inside the test, so Stryker's per-test coverage sends a mutant
 * of one revision's file to that revision's test only. A mutant is killed when some cell no
 * longer comes out as the matrix expects: a new signature, an expected bug gone, a coverage
 * minimum missed, or the model failing. A revision's what-if cells are tests of their own: the
 * hugepages machine is the only one whose folios have more than one page, so only it tells a
 * callback's `pfn + i` from `pfn - i` (rfc-v1's first run: three such survivors).
 */
describe(`the matrix, one test per revision (seed ${suiteSeed()})`, () => {
  for (const backend of ['snp', 'tdx', 'cca'] as BackendId[]) {
    for (const revision of REVISIONS.filter((r) => r.backends.includes(backend))) {
      for (const whatIf of [undefined, ...whatIfCellsOf(revision)]) test(`${backend} × ${cellName(revision.id, whatIf)}`, () => {
        const x = explore({ backend, revision, ...(whatIf === undefined ? {} : { whatIf }), invariants: INVARIANTS, runs: CELL_RUNS[backend], seed: suiteSeed() });
        expect(x.modelErrors.map((m) => m.error.split('\n')[0])).toEqual([]);
        const differs = cellsOf(x, backend, revision).flatMap((cell) => {
          const j = judgeCell(expectedFor(revision, cell.invariant, backend, whatIf), cell.status === 'violated' ? cell.findings : [], cell.status === 'inconclusive', revision);
          return [
            ...j.unexpected.map((f) => `new ${f.key}`),
            ...j.missing.map((b) => `${cell.invariant}: ${b.id} missing`),
            ...(cell.status === 'inconclusive' ? [`${cell.invariant}: inconclusive ${JSON.stringify(cell.shortfall)}`] : []),
          ];
        });
        expect(differs).toEqual([]);
      });
    }
  }
});
