import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    testTimeout: 120_000,
    // A matrix file explores each revision once, in beforeAll.
    hookTimeout: 120_000,
    maxWorkers: 2,
    // GitHub's workflow parser imports its JSON schema without an import attribute, which Node's
    // loader refuses; through Vite's transform it loads (test/fuzz/nightly.test.ts).
    server: { deps: { inline: ['@actions/workflow-parser'] } },
    coverage: {
      provider: 'v8',
      include: ['model/**/*.ts', 'properties/**/*.ts'],
      // The concurrent build's own code (model/concurrent/build.ts runs once per source hash, and
      // its output is what test/concurrent/equivalence.test.ts checks) and the two files that only
      // ever run as that build's emitted JavaScript, which V8 counts under node_modules/.cache.
      exclude: ['test/**', 'model/concurrent/build.ts', 'model/concurrent/bind.ts', 'model/scenario/runThreads.ts'],
      reporter: ['text-summary', 'json-summary'],
      reportsDirectory: 'reports/out/coverage',
      thresholds: { lines: 90, functions: 85, branches: 80, statements: 90 },
    },
  },
});
