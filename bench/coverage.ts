/**
 * Coverage margins (`npm run bench:coverage [-- --seeds N]`): for a representative revision of
 * each backend (one per set of coverage exceptions, and rfc-v1, whose bulk GUP fails whole
 * populates), the runs of seeds 1..N (default 60) at the default budget, counting every
 * coverage requirement (properties/coverageRequirements.ts): the
 * lowest counts any seed reached, the mean, and how many seeds fell below the minimum. A
 * requirement whose lowest count sits near its minimum will make some seed's check
 * inconclusive: draw the case more often (generators/) rather than lower the minimum.
 */
import { parseArgs } from 'node:util';
import { revisionById } from '../model/revisions/registry.js';
import type { BackendId } from '../model/scenario/Scenario.js';
import { applicableRequirements } from '../properties/coverageRequirements.js';
import { CELL_RUNS, explore } from '../properties/explore.js';
import { cellName, type WhatIfMode } from '../model/whatIf.js';

const { values } = parseArgs({ options: { seeds: { type: 'string' } } });
const seeds = Number(values.seeds ?? 60);
const REPRESENTATIVES: readonly (readonly [BackendId, string, WhatIfMode?])[] = [
  ['snp', 'kvm-x86-next-2025.11.07'], ['snp', 'rfc-v1'], ['snp', 'kvm-x86-next'], ['tdx', 'rfc-v1'], ['tdx', 'kvm-x86-next'],
  ['cca', 'rme-v9'], ['cca', 'rme-v12'], ['cca', 'rme-v12', '4k-guard-lifted'], ['cca', 'rmi-newest'],
];
let short = 0;
for (const [backend, id, whatIf] of REPRESENTATIVES) {
  const revision = revisionById(id);
  if (revision === undefined) throw new Error(`no revision ${id}`);
  const requirements = applicableRequirements(backend, revision, whatIf);
  const counts = new Map<string, number[]>(requirements.map((r) => [r.key, []]));
  for (let seed = 1; seed <= seeds; seed++) {
    const x = explore({ backend, revision, ...(whatIf === undefined ? {} : { whatIf }), invariants: [], runs: CELL_RUNS[backend], seed });
    for (const r of requirements) counts.get(r.key)?.push(x.coverage.get(r.key) ?? 0);
  }
  console.log(`${backend}/${cellName(id, whatIf)} (${seeds} seeds × ${CELL_RUNS[backend]} runs): requirement, minimum, lowest counts, mean, seeds below`);
  for (const r of requirements) {
    const got = [...(counts.get(r.key) ?? [])].sort((a, b) => a - b);
    const below = got.filter((n) => n < r.min).length;
    short += below;
    const mean = got.reduce((s, n) => s + n, 0) / got.length;
    console.log(`  ${below > 0 ? '!' : ' '} ${r.key.padEnd(50)} ${String(r.min).padStart(4)}  ${got.slice(0, 3).join(',').padEnd(12)} ${mean.toFixed(1).padStart(7)}  ${below}`);
  }
}
console.log(short === 0 ? 'every requirement reached under every seed' : `${short} (seed, requirement) pairs below their minimum`);
process.exitCode = short === 0 ? 0 : 1;
