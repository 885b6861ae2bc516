// Prints the plain closing line CI reads (`N passed, N failed`) from vitest's JSON report.
import { existsSync, readFileSync } from 'node:fs';

const file = process.argv[2] ?? 'reports/out/vitest.json';
if (!existsSync(file)) {
  console.log('vitest wrote no report (it did not start, or crashed)');
  console.log('0 passed, 1 failed');
  process.exit(1);
}
const r = JSON.parse(readFileSync(file, 'utf8'));
const failedSuites = r.testResults.filter((t) => t.status === 'failed' && t.assertionResults.length === 0).length;
const status = Number(process.argv[3] ?? 0);
if (status !== 0 && r.numFailedTests + failedSuites === 0) {
  console.log(`vitest exited with status ${status} although every test passed: coverage thresholds not met (see above)`);
}
console.log(`${r.numPassedTests} passed, ${r.numFailedTests + failedSuites} failed`);
