import { expect, test } from 'vitest';

/**
 * A static mutant (one in code that runs when a module loads, such as a firmware table given to
 * defineFirmwareCommand()) that makes the model throw on import fails every other test file
 * before any of its tests runs. Stryker's vitest runner counts only tests that ran, so it scored
 * such a mutant as surviving with 0 tests completed (SNP_LAUNCH_UPDATE, RMPUPDATE and
 * SNP_PAGE_RECLAIM with their whole table emptied, the first backend run). Here the import runs
 * inside a test, so the throw is a failed test.
 */
test('the model and its registries load', async () => {
  const [{ REVISIONS }, { BACKENDS }] = await Promise.all([import('../../model/revisions/registry.js'), import('../../model/backends/registry.js')]);
  expect(REVISIONS.length).toBeGreaterThan(0);
  expect(Object.keys(BACKENDS)).toEqual(['snp', 'tdx', 'cca']);
});
