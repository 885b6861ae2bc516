import type { Revision } from '../model/revisions/Revision.js';
import { runScenario } from '../model/scenario/runScenario.js';
import type { BackendId, Scenario } from '../model/scenario/Scenario.js';
import type { Coverage } from './coverage.js';
import { coverageObserver } from './coverage.js';
import { coverageShortfall } from './coverageRequirements.js';
import type { Exploration, Finding } from './explore.js';
import { watch, type Invariant, type Violation } from './Invariant.js';

/** Runs one scenario against one invariant; stops at the first operation that violates it. */
export function runWithInvariant(scenario: Scenario, revision: Revision, invariant: Invariant, coverage?: Coverage, traceCalls = false): { violations: readonly Violation[]; result: ReturnType<typeof runScenario> } {
  const w = watch(invariant, { revision });
  const observers = coverage === undefined ? [w.observer] : [w.observer, coverageObserver(coverage)];
  const result = runScenario(scenario, revision, { observers, traceCalls, stop: () => w.violations.length > 0 });
  return { violations: w.violations, result };
}

/**
 * One cell: an invariant on a backend for a revision, as an exploration found it. A cell that
 * holds without reaching its coverage minimums is `inconclusive`: its runs did not show that the
 * property was tested.
 */
export type CellResult =
  | { readonly status: 'holds'; readonly invariant: string }
  | { readonly status: 'inconclusive'; readonly invariant: string; readonly shortfall: readonly (readonly [string, number, number])[] }
  | { readonly status: 'violated'; readonly invariant: string; readonly findings: readonly Finding[] };

export function cellsOf(x: Exploration, backend: BackendId, revision: Pick<Revision, 'id' | 'arm' | 'derivedFrom'>): CellResult[] {
  const shortfall = coverageShortfall(backend, revision, x.coverage, x.whatIf);
  return x.invariants.map((invariant): CellResult => {
    const findings = x.findings.filter((f) => f.signature.invariant === invariant);
    if (findings.length > 0) return { status: 'violated', invariant, findings };
    return shortfall.length > 0 ? { status: 'inconclusive', invariant, shortfall } : { status: 'holds', invariant };
  });
}
