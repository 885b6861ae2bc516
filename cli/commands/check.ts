import { relative } from 'node:path';
import type { CheckOptions } from '../args.js';
import type { Revision } from '../../model/revisions/Revision.js';
import { MUTANTS } from '../../model/revisions/mutants.js';
import { REVISIONS } from '../../model/revisions/registry.js';
import type { BackendId } from '../../model/scenario/Scenario.js';
import { CELL_RUNS, checkCell, runWithInvariant, type CellOutcome } from '../../properties/check.js';
import type { Invariant } from '../../properties/Invariant.js';
import { bugForMessage, expectation } from '../../properties/matrix.js';
import { recordVerdicts } from '../../properties/corpus/record.js';
import { saveEntry, type SaveResult } from '../../properties/corpus/store.js';
import { cellJson, cellText, type CellExpectation, type CellJson, type RenderedTrace } from '../../reports/cellReport.js';
import { CONTENT_MESSAGES, contentDiagram } from '../../reports/contentDiagram.js';
import { buildTrace, formatTrace } from '../../reports/trace.js';

/** The matrix's expectation, or an injected bug's own. */
export function expectedFor(revision: Revision, invariant: Invariant, backend: BackendId): CellExpectation {
  const mutant = MUTANTS.find((m) => m.id === revision.id);
  if (mutant !== undefined) {
    return mutant.breaks.invariant === invariant.id ? { verdict: 'violated', bug: `injected: ${mutant.id}`, title: mutant.description, link: `model/revisions/mutants.ts` } : { verdict: 'unspecified' };
  }
  const builtIn = REVISIONS.some((r) => r.id === revision.id);
  if (!builtIn && revision.derivedFrom === undefined) return { verdict: 'unspecified' };
  const row = builtIn ? revision.id : (revision.derivedFrom ?? revision.id);
  const from = builtIn ? {} : { inheritedFrom: row };
  const e = expectation(invariant.id, backend, row);
  return e.verdict === 'holds' ? { ...e, ...from } : { verdict: 'violated', bug: e.bugs.map((b) => b.id).join(' or '), title: e.bugs.map((b) => b.title).join('; or '), link: e.bugs.map((b) => b.link).join(' '), ...from };
}

function traceOf(out: CellOutcome, revision: Revision, invariant: Invariant): RenderedTrace {
  if (out.status !== 'violated') return { ops: [], text: '', diagram: undefined };
  const { violations, result } = runWithInvariant(out.counterexample, revision, invariant, undefined, true);
  const first = violations[0];
  const ops = buildTrace(result.world.log, violations);
  const diagram = first !== undefined && CONTENT_MESSAGES.includes(first.messageId) ? contentDiagram(out.counterexample, revision, first.opIndex) : undefined;
  return { ops, text: formatTrace(ops), diagram };
}

function shownPath(file: string): string {
  return relative(process.env.INIT_CWD ?? process.cwd(), file) || file;
}

/**
 * A counterexample as a corpus entry: the shrunk scenario, with the verdict every modelled
 * revision of its backend gets on it now (a reviewer's own revision is named in the origin).
 */
function saveCounterexample(dir: string, backend: BackendId, revision: Revision, invariant: Invariant, out: CellOutcome & { status: 'violated' }): SaveResult {
  const first = out.violations[0];
  const bug = bugForMessage(expectation(invariant.id, backend, revision.id), first?.messageId)?.id ?? 'new';
  const origin = { kind: 'found' as const, revision: revision.id, property: invariant.id, bug };
  const name = `${backend}-${revision.id}-${invariant.id}-${bug}`.toLowerCase().replace(/[^a-z0-9.+-]/g, '-');
  return saveEntry(dir, {
    name,
    about: `${revision.id} on ${backend}: [${invariant.id}/${first?.messageId ?? '?'}] ${first?.message ?? ''}`,
    origin,
    scenario: out.counterexample,
    verdicts: recordVerdicts(out.counterexample, origin),
  });
}

function runsText(o: CheckOptions): string {
  return o.runs !== undefined ? String(o.runs) : o.backends.map((b) => `${b} ${CELL_RUNS[b]}`).join(', ');
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
        const runs = o.runs ?? CELL_RUNS[backend];
        const out = checkCell({ backend, revision, invariant, runs, seed: o.seed, ...(o.path === undefined ? {} : { path: o.path }) });
        const exp = expectedFor(revision, invariant, backend);
        const id = { backend, revision: revision.id, property: invariant.id, ...(o.revisionModule === undefined ? {} : { module: o.revisionModule }) };
        const trace = traceOf(out, revision, invariant);
        if (out.status === 'holds') held++;
        if (out.status === 'error') errors++;
        if (out.status === 'violated') {
          violated++;
          if (exp.verdict !== 'violated') unexpected++;
        }
        const saved = o.saveTo !== undefined && out.status === 'violated' ? saveCounterexample(o.saveTo, backend, revision, invariant, out) : undefined;
        if (o.json) cells.push({ ...cellJson(id, exp, out, trace, runs), ...(saved === undefined ? {} : { saved: { kind: saved.kind, file: shownPath(saved.file) } }) });
        else write(`${cellText(id, exp, out, trace, runs)}\n${saved === undefined ? '' : `  ${saved.kind === 'written' ? 'saved as' : 'already in the corpus as'} ${shownPath(saved.file)}\n`}`);
      }
    }
  }
  const summary = `${held + violated + errors} cells: ${held} hold, ${violated} violated (${violated - unexpected} expected by the matrix, ${unexpected} not), ${errors} model errors; seed ${o.seed}, ${runsText(o)} runs per cell`;
  if (o.json) write(`${JSON.stringify({ seed: o.seed, runs: o.runs ?? Object.fromEntries(o.backends.map((b) => [b, CELL_RUNS[b]])), summary, cells }, null, 2)}\n`);
  else write(`\n${summary}\n`);
  return violated > 0 || errors > 0 ? 1 : 0;
}
