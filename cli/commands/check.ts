import type { CheckOptions } from '../args.js';
import type { Revision } from '../../model/revisions/Revision.js';
import { MUTANTS } from '../../model/revisions/mutants.js';
import type { BackendId } from '../../model/scenario/Scenario.js';
import { checkCell, runWithInvariant, type CellOutcome } from '../../properties/check.js';
import type { Invariant } from '../../properties/Invariant.js';
import { expectation } from '../../properties/matrix.js';
import { cellJson, cellText, type CellExpectation, type CellJson } from '../../reports/cellReport.js';
import { renderTrace } from '../../reports/trace.js';

/** The matrix's expectation, or an injected bug's own. */
export function expectedFor(revision: Revision, invariant: Invariant, backend: BackendId): CellExpectation {
  const mutant = MUTANTS.find((m) => m.id === revision.id);
  if (mutant !== undefined) {
    return mutant.breaks.invariant === invariant.id ? { verdict: 'violated', bug: `injected: ${mutant.id}`, title: mutant.description, link: `model/revisions/mutants.ts` } : { verdict: 'unspecified' };
  }
  const e = expectation(invariant.id, backend, revision.id);
  return e.verdict === 'holds' ? e : { verdict: 'violated', bug: e.bug.id, title: e.bug.title, link: e.bug.link };
}

function traceOf(out: CellOutcome, revision: Revision, invariant: Invariant): string {
  if (out.status !== 'violated') return '';
  const { violations, result } = runWithInvariant(out.counterexample, revision, invariant, undefined, true);
  return renderTrace(result.world.log, violations);
}

/** Runs every requested cell; returns the exit status (0 all hold, 1 a violation or model error). */
export function runCheck(o: CheckOptions, write: (s: string) => void): number {
  const cells: CellJson[] = [];
  let violated = 0;
  let unexpected = 0;
  let errors = 0;
  let held = 0;
  for (const backend of o.backends) {
    for (const revision of o.revisions.filter((r) => r.backends.includes(backend))) {
      for (const invariant of o.invariants) {
        const out = checkCell({ backend, revision, invariant, runs: o.runs, seed: o.seed, ...(o.path === undefined ? {} : { path: o.path }) });
        const exp = expectedFor(revision, invariant, backend);
        const id = { backend, revision: revision.id, property: invariant.id };
        const trace = traceOf(out, revision, invariant);
        if (out.status === 'holds') held++;
        if (out.status === 'error') errors++;
        if (out.status === 'violated') {
          violated++;
          if (exp.verdict !== 'violated') unexpected++;
        }
        if (o.json) cells.push(cellJson(id, exp, out, trace, o.runs));
        else write(`${cellText(id, exp, out, trace, o.runs)}\n`);
      }
    }
  }
  const summary = `${held + violated + errors} cells: ${held} hold, ${violated} violated (${violated - unexpected} expected by the matrix, ${unexpected} not), ${errors} model errors; seed ${o.seed}, ${o.runs} runs per cell`;
  if (o.json) write(`${JSON.stringify({ seed: o.seed, runs: o.runs, summary, cells }, null, 2)}\n`);
  else write(`\n${summary}\n`);
  return violated > 0 || errors > 0 ? 1 : 0;
}
