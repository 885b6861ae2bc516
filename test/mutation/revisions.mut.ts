import { describe, expect, test } from 'vitest';
import { REVISIONS } from '../../model/revisions/registry.js';
import type { BackendId } from '../../model/scenario/Scenario.js';
import { cellsOf } from '../../properties/check.js';
import { expectedFor, judgeCell } from '../../properties/expectations.js';
import { CELL_RUNS, explore, shrinkSignature, type Exploration, type ExploreSpec } from '../../properties/explore.js';
import { coverageShortfall } from '../../properties/coverageRequirements.js';
import type { KnownBug } from '../../properties/bugs.js';
import { bugsForSignature } from '../../properties/matrix.js';
import { parseSignature } from '../../properties/signature.js';
import type { Revision } from '../../model/revisions/Revision.js';
import type { WhatIfMode } from '../../model/whatIf.js';
import { INVARIANTS } from '../../properties/registry.js';
import { suiteSeed } from '../suite.js';
import { cellName, whatIfCellsOf } from '../../model/whatIf.js';

type Seen = Parameters<NonNullable<ExploreSpec['shrinkIf']>>[0];

/**
 * What the unshrunk runs already decide against the matrix, so that a killed mutant costs one
 * exploration rather than the shrinking of every signature it broke (a backend mutant can break
 * dozens). Shrinking keeps a signature's key and only drops one it cannot replay, so: a model
 * error stays; a key no bug of the cell lists (bugsForSignature() before the shown-in tests,
 * which only narrow it) stays unexpected once its run replays; a required bug none of whose
 * signatures was seen stays missing; an invariant that saw nothing and a coverage shortfall
 * stay inconclusive. Anything else is for the full judgement after shrinking.
 */
function sureDifferences(spec: ExploreSpec, revision: Revision, whatIf: WhatIfMode | undefined, x: Seen): string[] {
  if (x.modelErrors.length > 0) return x.modelErrors.map((m) => `model error: ${m.error.split('\n')[0] ?? ''}`);
  const shortfall = coverageShortfall(spec.backend, revision, x.coverage, whatIf);
  const out: string[] = [];
  for (const invariant of spec.invariants.map((i) => i.id)) {
    const e = expectedFor(revision, invariant, spec.backend, whatIf);
    const keys = x.seen.filter((s) => parseSignature(s.key)?.invariant === invariant);
    const unexpected = keys.find((s) => bugsForSignature(e.expectation, s.key).length === 0);
    if (unexpected !== undefined && shrinkSignature(spec, unexpected.key, String(unexpected.firstRun)).kind === 'found') out.push(`new ${unexpected.key}`);
    const listed = (b: KnownBug): boolean => keys.some((s) => bugsForSignature(e.expectation, s.key).includes(b));
    if (e.derived !== true && e.expectation.verdict === 'violated') out.push(...e.expectation.bugs.filter((b) => !listed(b)).map((b) => `${invariant}: ${b.id} missing`));
    if (keys.length === 0 && shortfall.length > 0) out.push(`${invariant}: inconclusive ${JSON.stringify(shortfall)}`);
  }
  return out;
}

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
        const spec: ExploreSpec = { backend, revision, ...(whatIf === undefined ? {} : { whatIf }), invariants: INVARIANTS, runs: CELL_RUNS[backend], seed: suiteSeed() };
        let sure: string[] = [];
        const x: Exploration = explore({ ...spec, shrinkIf: (seen) => (sure = sureDifferences(spec, revision, whatIf, seen)).length === 0 });
        expect(sure).toEqual([]);
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
