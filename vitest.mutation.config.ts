import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { defineConfig } from 'vitest/config';

/**
 * Stryker runs a mutant's covering tests one file after another and stops at the first failure
 * (its vitest runner sets `bail: 1`, one worker), so the order of the files is most of a killed
 * mutant's cost. Vitest's own order puts the longest file first: test/mutants.test.ts (44 s, every
 * injected bug's exploration), which a backend mutant reaches through its model code and which
 * rarely fails first. Cheapest first instead: the model's and the invariants' unit tests
 * (milliseconds each), the matrix (about 3 s a cell), the slow unit files, the corpus, the
 * injected bugs. The order changes when a killed mutant stops, never whether it is killed: a
 * mutant that no test fails runs every covering test whatever the order.
 */
const RANK: readonly [RegExp, number][] = [
  [/^test\/model\//, 0],
  [/^test\/invariants\/(check|minimize)\.test\.ts$/, 3],
  [/^test\/invariants\//, 1],
  [/^test\/mutation\//, 2],
  [/^test\/corpus\.test\.ts$/, 4],
  [/^test\/mutants\.test\.ts$/, 5],
];
const rank = (s: TestSpecification): number => {
  const file = relative(import.meta.dirname, s.moduleId).replaceAll('\\', '/');
  return RANK.find(([re]) => re.test(file))?.[1] ?? 6;
};
class CheapestFirst extends BaseSequencer {
  override sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    return Promise.resolve([...files].sort((a, b) => rank(a) - rank(b) || a.moduleId.localeCompare(b.moduleId)));
  }
}

/**
 * The tests Stryker runs against each mutant (stryker.config.mjs): the matrix one test per
 * revision (test/mutation/*.mut.ts), the invariants' case tables, the model's unit tests and the
 * corpus replay. Not the CLI, review, guard or README tests: they check the tool, not the model.
 * Seeded (test/setup.ts), or fast-check would pick a new seed for every mutant.
 */
export default defineConfig({
  test: {
    include: ['test/mutation/*.mut.ts', 'test/invariants/**/*.test.ts', 'test/model/**/*.test.ts', 'test/corpus.test.ts', 'test/mutants.test.ts'],
    setupFiles: ['test/setup.ts'],
    testTimeout: 120_000,
    sequence: { sequencer: CheapestFirst },
  },
});
