// Prints the plain closing line CI reads (`N passed, N failed`) from vitest's JSON report and the
// exit status of the checks run before it, and exits non-zero if anything failed.
//   node scripts/test-summary.mjs REPORT VITEST_STATUS [NAME=STATUS ...]
// Each NAME=STATUS (`typecheck=0`, `lint=2`) is one more check: passed when its status is 0.
import { existsSync, readFileSync } from 'node:fs';

const file = process.argv[2] ?? 'reports/out/vitest.json';
const status = Number(process.argv[3] ?? 0);
const checks = process.argv.slice(4).map((a) => {
  const [name, s] = a.split('=');
  return { name, status: Number(s) };
});
const checksFailed = checks.filter((c) => c.status !== 0).length;
for (const c of checks) console.log(`${c.name}: ${c.status === 0 ? 'ok' : `FAILED (exit status ${c.status}, see above)`}`);

if (!existsSync(file)) {
  console.log('vitest wrote no report (it did not start, or crashed)');
  console.log(`${checks.length - checksFailed} passed, ${checksFailed + 1} failed`);
  process.exit(1);
}
const r = JSON.parse(readFileSync(file, 'utf8'));
const failedSuites = r.testResults.filter((t) => t.status === 'failed' && t.assertionResults.length === 0).length;
const testsFailed = r.numFailedTests + failedSuites;
console.log(`vitest: ${r.numPassedTests} tests passed, ${testsFailed} failed`);
// A run that failed with every test passing (coverage thresholds) counts as one failed check.
const runFailed = status !== 0 && testsFailed === 0 ? 1 : 0;
if (runFailed) console.log(`vitest exited with status ${status} although every test passed: coverage thresholds not met (see above)`);
console.log(`${r.numPassedTests + checks.length - checksFailed} passed, ${testsFailed + runFailed + checksFailed} failed`);
process.exitCode = status !== 0 || checksFailed > 0 ? 1 : 0;
