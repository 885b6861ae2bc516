import { defineConfig } from 'vitest/config';

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
  },
});
