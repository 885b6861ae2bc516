import type { CellOutcome } from '../properties/check.js';
import { scenarioSize } from '../properties/check.js';
import type { Scenario } from '../model/scenario/Scenario.js';
import type { Violation } from '../properties/Invariant.js';
import type { TraceOp } from './trace.js';

/** What the matrix (or an injected bug's definition) expects of a cell. */
export type CellExpectation =
  | { readonly verdict: 'holds'; readonly inheritedFrom?: string }
  | { readonly verdict: 'violated'; readonly bug: string; readonly title: string; readonly link: string; readonly inheritedFrom?: string }
  | { readonly verdict: 'unspecified' };

export interface CellId {
  readonly backend: string;
  readonly revision: string;
  readonly property: string;
  /** A reviewer's revision module, as typed on the command line. */
  readonly module?: string;
}

/** How to replay a cell exactly from the command line. */
export function replayCommand(id: CellId, seed: number, runs: number, path: string): string {
  const which = id.module === undefined ? `--revision ${id.revision}` : `--revision-module ${id.module}`;
  return `npm run gmemcheck -- check --backend ${id.backend} ${which} --property ${id.property} --seed ${seed} --runs ${runs} --path ${path}`;
}

/** The JSON document entry for one cell. */
export interface CellJson {
  readonly backend: string;
  readonly revision: string;
  readonly property: string;
  readonly expected: CellExpectation['verdict'];
  readonly bug?: string;
  readonly status: 'holds' | 'violated' | 'error';
  readonly runs: number;
  readonly seed: number;
  readonly path?: string;
  readonly replay?: string;
  readonly error?: string;
  readonly counterexample?: {
    readonly operations: number;
    readonly pages: number;
    readonly violations: readonly Violation[];
    readonly scenario: Scenario;
    readonly trace: readonly TraceOp[];
    readonly diagram?: readonly string[];
  };
}

/** A counterexample's trace, as data and as text, and its content diagram if it has one. */
export interface RenderedTrace {
  readonly ops: readonly TraceOp[];
  readonly text: string;
  readonly diagram: string | undefined;
}

export function cellJson(id: CellId, exp: CellExpectation, out: CellOutcome, trace: RenderedTrace, runs: number): CellJson {
  const base = { ...id, expected: exp.verdict, ...(exp.verdict === 'violated' ? { bug: exp.bug } : {}), runs: out.runs, seed: out.seed };
  switch (out.status) {
    case 'holds':
      return { ...base, status: 'holds' };
    case 'error':
      return { ...base, status: 'error', path: out.path, error: out.error };
    case 'violated': {
      const size = scenarioSize(out.counterexample);
      return {
        ...base,
        status: 'violated',
        path: out.path,
        replay: replayCommand(id, out.seed, runs, out.path),
        counterexample: { operations: size.ops, pages: size.pages, violations: out.violations, scenario: out.counterexample, trace: trace.ops, ...(trace.diagram === undefined ? {} : { diagram: trace.diagram.split('\n') }) },
      };
    }
  }
}

/** A cell as the text a reviewer reads. */
export function cellText(id: CellId, exp: CellExpectation, out: CellOutcome, trace: RenderedTrace, runs: number): string {
  const name = `${id.backend} × ${id.revision} × ${id.property}`;
  const as = exp.verdict !== 'unspecified' && exp.inheritedFrom !== undefined ? ` as in ${exp.inheritedFrom}` : '';
  const expText = exp.verdict === 'violated' ? `expected${as}: ${exp.bug} — ${exp.title} (${exp.link})` : exp.verdict === 'holds' ? `NOT expected by the matrix${as === '' ? '' : ` (${exp.inheritedFrom ?? ''} holds here: a regression)`}` : 'no expectation recorded';
  switch (out.status) {
    case 'holds':
      if (exp.verdict === 'violated' && exp.inheritedFrom !== undefined) return `✓ ${name}: holds (${out.runs} runs) — ${exp.bug}, which ${exp.inheritedFrom} has here, is gone`;
      return exp.verdict === 'violated'
        ? `✓ ${name}: holds in ${out.runs} runs — but the matrix expects ${exp.bug} to be found`
        : `✓ ${name}: holds (${out.runs} runs)`;
    case 'error':
      return `! ${name}: MODEL ERROR (a bug in gmemcheck, seed ${out.seed}, path ${out.path})\n${out.error}`;
    case 'violated': {
      const size = scenarioSize(out.counterexample);
      const lines = [
        `✗ ${name}: VIOLATED — ${expText}`,
        `  found within ${out.runs} runs; shrunk (${out.shrinks} fast-check shrinks, then minimized) to ${size.ops} operations, ${size.pages} page(s)`,
        ...out.violations.slice(0, 3).map((v) => `  [${v.invariant}/${v.messageId}] at operation #${v.opIndex}: ${v.message}`),
        `  replay: ${replayCommand(id, out.seed, runs, out.path)}`,
        '  trace:',
        ...trace.text.split('\n').map((l) => `    ${l}`),
        ...(trace.diagram === undefined ? [] : trace.diagram.split('\n').map((l) => `  ${l}`)),
        `  scenario: ${JSON.stringify(out.counterexample)}`,
      ];
      return lines.join('\n');
    }
  }
}
