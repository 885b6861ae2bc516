import fc from 'fast-check';
import type { Revision } from '../model/revisions/Revision.js';
import { runScenario } from '../model/scenario/runScenario.js';
import type { BackendId, Scenario } from '../model/scenario/Scenario.js';
import { scenarioArb } from '../generators/scenario.js';
import { coverageObserver, type Coverage } from './coverage.js';
import { watch, type Invariant, type Violation } from './Invariant.js';
import { minimizeCounterexample } from './minimize.js';

/**
 * Runs per cell the matrix is calibrated for. CCA runs are cheap and its fault plans aim at
 * each granule position of 1-, 4- and 16-granule pages with five RMI commands, so it gets more.
 */
export const CELL_RUNS: Readonly<Record<BackendId, number>> = { snp: 300, tdx: 300, cca: 1000 };

/** One cell of the matrix: an invariant checked on a backend for a revision. */
export interface CellSpec {
  readonly backend: BackendId;
  readonly revision: Revision;
  readonly invariant: Invariant;
  readonly runs: number;
  readonly seed: number;
  /** Replay path printed by a previous failure (`seed` must match). */
  readonly path?: string;
}

export type CellOutcome =
  | { readonly status: 'holds'; readonly runs: number; readonly seed: number; readonly coverage: Coverage }
  | {
      readonly status: 'violated';
      readonly runs: number;
      readonly seed: number;
      readonly path: string;
      readonly shrinks: number;
      readonly counterexample: Scenario;
      readonly violations: readonly Violation[];
    }
  /** The model itself threw: a bug in gmemcheck, not a finding. */
  | { readonly status: 'error'; readonly runs: number; readonly seed: number; readonly path: string; readonly error: string; readonly counterexample: Scenario | undefined };

/** Runs one scenario against one invariant; stops at the first operation that violates it. */
export function runWithInvariant(scenario: Scenario, revision: Revision, invariant: Invariant, coverage?: Coverage, traceCalls = false): { violations: readonly Violation[]; result: ReturnType<typeof runScenario> } {
  const w = watch(invariant);
  const observers = coverage === undefined ? [w.observer] : [w.observer, coverageObserver(coverage)];
  const result = runScenario(scenario, revision, { observers, traceCalls, stop: () => w.violations.length > 0 });
  return { violations: w.violations, result };
}

export function checkCell(spec: CellSpec): CellOutcome {
  const coverage: Coverage = new Map();
  const property = fc.property(scenarioArb(spec.backend, spec.revision.arm?.rmm), (scenario) => runWithInvariant(scenario, spec.revision, spec.invariant, coverage).violations.length === 0);
  const details = fc.check(property, {
    seed: spec.seed,
    numRuns: spec.runs,
    ...(spec.path === undefined ? {} : { path: spec.path, endOnFailure: true }),
  });
  if (!details.failed) return { status: 'holds', runs: details.numRuns, seed: spec.seed, coverage };
  const counterexample = details.counterexample?.[0];
  const path = details.counterexamplePath ?? '';
  if (details.errorInstance instanceof Error && !(details.errorInstance.name === 'Error' && details.errorInstance.message.startsWith('Property failed by returning false'))) {
    return { status: 'error', runs: details.numRuns, seed: spec.seed, path, error: String(details.errorInstance.stack ?? details.errorInstance), counterexample };
  }
  if (counterexample === undefined) return { status: 'error', runs: details.numRuns, seed: spec.seed, path, error: 'failed without a counterexample', counterexample };
  const minimal = minimizeCounterexample(counterexample, spec.revision, spec.invariant);
  const { violations } = runWithInvariant(minimal, spec.revision, spec.invariant);
  return { status: 'violated', runs: details.numRuns, seed: spec.seed, path, shrinks: details.numShrinks, counterexample: minimal, violations };
}

/** Size of a counterexample: operations, and pages its populate calls ask for. */
export function scenarioSize(s: Scenario): { ops: number; pages: number } {
  let pages = 0;
  for (const op of s.ops) {
    if (op.kind === 'snp_launch_update') pages += Math.max(0, Math.floor(op.len / s.geometry.page_size));
    if (op.kind === 'tdx_init_mem_region') pages += Math.max(0, op.nr_pages);
    if (op.kind === 'arm_rmi_populate') pages += Math.floor(op.size / s.geometry.page_size);
  }
  return { ops: s.ops.length, pages };
}
