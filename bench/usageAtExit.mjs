// Loaded into a campaign's child process by bench/campaignScaling.ts (node --import): at exit,
// writes the process's resource usage (getrusage(RUSAGE_SELF): CPU time and peak resident set
// of every thread, so the pool's workers count) to the file GMEMCHECK_BENCH_USAGE names. The
// parent cannot ask for a child's usage itself, and /proc would be read before the end.
import { writeFileSync } from 'node:fs';

const file = process.env.GMEMCHECK_BENCH_USAGE;
if (file !== undefined && file !== '') {
  process.on('exit', () => writeFileSync(file, JSON.stringify(process.resourceUsage())));
}
