import fc from 'fast-check';
import { jsonReplacer } from '../model/kernel/u64.js';
import type { Revision } from '../model/revisions/Revision.js';
import { runScenario } from '../model/scenario/runScenario.js';
import type { BackendId, Scenario } from '../model/scenario/Scenario.js';
import type { Coverage } from '../properties/coverage.js';
import { arbitraryFor, CELL_RUNS, explore, judge } from '../properties/explore.js';
import { INVARIANTS } from '../properties/registry.js';
import { mark, timed, type Mark, type Span } from './clock.js';
import type { HeapPeak } from './heapPeak.js';

/**
 * One cell's timings (a backend × revision in its default configuration), each part on its own
 * over the same scenarios, in this thread:
 *
 * - generation: drawing the scenarios from the cell's arbitrary (`arbitraryFor`, as explore()
 *   and the checks draw them) with fc.sample under the seed. fc.sample draws the values fc.check
 *   would give the property, run for run (the `sameScenarios` check below confirms it);
 * - model: runScenario() of each, no observer;
 * - judged: judge() of each, every invariant and the coverage counters watching, which is the
 *   model plus the invariants (the caller subtracts the model);
 * - empty: the same scenarios with no operations (the machine set up and torn down), model and
 *   judged, for what a scenario costs before its first operation;
 * - explore: a full explore() at the cell's budget (CELL_RUNS), every invariant, every
 *   signature shrunk, as `check` runs a cell. explore() runs its loop over the budget first and
 *   then shrinks; its onScenario callback says which phase a scenario belongs to, so the loop
 *   ends at the first scenario of phase 'shrink' (or with explore(), if nothing is shrunk).
 *
 * A few untimed runs first let the JIT compile the cell's code, so the first cell measured
 * does not carry compilation the later ones do not. The passes are repeated `reps` times: on a
 * shared machine the fastest repetition is the one least disturbed by other jobs (the caller
 * takes it), and a later one runs on code the JIT has had longer to optimize.
 */

const WARMUP = 30;

export interface CellSpans {
  readonly backend: BackendId;
  readonly revision: string;
  readonly seed: number;
  readonly scenarios: number;
  /** Operations the scenarios hold (scenario.ops), and those the model ran (a crash ends a run). */
  readonly ops: number;
  readonly opsRun: number;
  /** Each measured pass, once per repetition. */
  readonly generation: readonly Span[];
  readonly model: readonly Span[];
  readonly judged: readonly Span[];
  readonly emptyModel: readonly Span[];
  readonly emptyJudged: readonly Span[];
  readonly explore: {
    readonly runs: number;
    readonly total: Span;
    readonly loopEnd: Mark;
    /** Scenarios run while shrinking (the minimizer, from each start). */
    readonly shrinkRuns: number;
    readonly findings: number;
    readonly modelErrors: number;
    /** explore()'s loop ran the scenarios fc.sample drew (compared over the shorter of the two). */
    readonly sameScenarios: boolean;
  };
  /** Peak heapUsed sampled during the cell, bytes. */
  readonly heapPeakBytes: number;
}

export function timeCell(backend: BackendId, revision: Revision, seed: number, scenarios: number, reps: number, heap: HeapPeak): CellSpans {
  const arb = arbitraryFor({ backend, revision });
  for (const s of fc.sample(arb, { seed: seed + 1, numRuns: WARMUP })) {
    runScenario(s, revision);
    judge(s, revision, INVARIANTS, { coverage: new Map() });
  }
  heap.takeCellPeak();

  const generation: Span[] = [];
  const model: Span[] = [];
  const judged: Span[] = [];
  const emptyModel: Span[] = [];
  const emptyJudged: Span[] = [];
  let drawn: Scenario[] = [];
  let opsRun = 0;
  for (let rep = 0; rep < reps; rep++) {
    const g = timed(() => fc.sample(arb, { seed, numRuns: scenarios }));
    generation.push(g.span);
    drawn = g.value;
    heap.sample();
    const m = timed(() => {
      let ran = 0;
      for (const s of drawn) {
        const r = runScenario(s, revision);
        ran += r.results.length + (r.crash === undefined ? 0 : 1);
        heap.tick();
      }
      return ran;
    });
    model.push(m.span);
    opsRun = m.value;
    const coverage: Coverage = new Map();
    judged.push(timed(() => {
      for (const s of drawn) {
        judge(s, revision, INVARIANTS, { coverage });
        heap.tick();
      }
    }).span);
    const empties: Scenario[] = drawn.map((s) => ({ ...s, ops: [] }));
    emptyModel.push(timed(() => {
      for (const s of empties) {
        runScenario(s, revision);
        heap.tick();
      }
    }).span);
    emptyJudged.push(timed(() => {
      for (const s of empties) {
        judge(s, revision, INVARIANTS, { coverage: new Map() });
        heap.tick();
      }
    }).span);
  }

  const runs = CELL_RUNS[backend];
  const looped: Scenario[] = [];
  let loopEnd: Mark | undefined;
  let shrinkRuns = 0;
  const x = timed(() => explore({
    backend, revision, invariants: INVARIANTS, runs, seed,
    onScenario: (s, phase) => {
      heap.tick();
      if (phase === 'explore') {
        looped.push(s);
        return;
      }
      shrinkRuns++;
      loopEnd ??= mark();
    },
  }));
  const n = Math.min(looped.length, drawn.length);
  const sameScenarios = JSON.stringify(looped.slice(0, n), jsonReplacer) === JSON.stringify(drawn.slice(0, n), jsonReplacer);

  return {
    backend, revision: revision.id, seed, scenarios: drawn.length,
    ops: drawn.reduce((k, s) => k + s.ops.length, 0), opsRun,
    generation, model, judged, emptyModel, emptyJudged,
    explore: { runs: x.value.runs, total: x.span, loopEnd: loopEnd ?? x.span.to, shrinkRuns, findings: x.value.findings.length, modelErrors: x.value.modelErrors.length, sameScenarios },
    heapPeakBytes: heap.takeCellPeak(),
  };
}
