// Mutation testing of the model (npm run mutate): every revision and backend file is mutated,
// and each mutant is run against the tests that cover it (vitest.mutation.config.ts). Too slow
// for CI; README says how long it takes. TypeScript 6 has the compiler API Stryker's
// preprocessor needs, so no tsconfig workaround is needed.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  plugins: ['@stryker-mutator/*', './stryker/diagnostics-ignorer.mjs'],
  ignorers: ['kernel-diagnostics'],
  vitest: { configFile: 'vitest.mutation.config.ts' },
  mutate: [
    'model/revisions/*.ts',
    'model/backends/**/*.ts',
    '!model/revisions/mutants.ts',
    '!model/revisions/registry.ts',
    '!model/revisions/Revision.ts',
    '!model/backends/registry.ts',
  ],
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  coverageAnalysis: 'perTest',
  concurrency: 2,
  timeoutMS: 60_000,
  thresholds: { high: 90, low: 85, break: null },
  tempDirName: '.stryker-tmp',
};
