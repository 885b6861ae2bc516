import fc from 'fast-check';
import type { Revision } from '../model/revisions/Revision.js';
import { runScenario } from '../model/scenario/runScenario.js';
import type { BackendId, Scenario } from '../model/scenario/Scenario.js';
import type { Event } from '../model/world/events.js';
import { jsonReplacer } from '../model/kernel/u64.js';
import { arbitraryFor } from './explore.js';
import { minimizeScenario } from './minimize.js';

/**
 * Differential runs of two revisions over the same generated scenarios (`gmemcheck kernel
 * --compare`): the first scenario on which what they do differs, minimized. What they do is,
 * per operation, what userspace got back (the return value, written-back fields, a crash) and
 * every event the operation produced, except those only a trace prints (kernel calls and
 * returns, pr_debug() notes), whose shape differs between C frames and TypeScript functions
 * without any behaviour differing.
 */

const UNOBSERVED: ReadonlySet<Event['kind']> = new Set(['call', 'ret']);

/** pr_debug() output: the C's and a revision's messages differ in wording, and are trace-only. */
const traceOnly = (e: Event): boolean => UNOBSERVED.has(e.kind) || (e.kind === 'note' && e.text.startsWith('pr_debug:'));

/** Per operation: a canonical text of its result and events. */
export function observe(s: Scenario, revision: Revision): string[] {
  const r = runScenario(s, revision);
  const perOp: string[] = s.ops.map(() => '');
  let at = -1;
  for (const e of r.world.log) {
    if (e.kind === 'op_begin') at = e.index;
    if (at < 0 || traceOnly(e)) continue;
    perOp[at] += `${JSON.stringify(e, jsonReplacer)}\n`;
  }
  for (const res of r.results) perOp[res.index] = `ret ${JSON.stringify({ ret: res.ret, out: res.out, lost: res.lost }, jsonReplacer)}\n${perOp[res.index] ?? ''}`;
  if (r.crash !== undefined) perOp[r.crash.opIndex] = `crash ${r.crash.crash.kind}\n${perOp[r.crash.opIndex] ?? ''}`;
  return perOp;
}

/** The first operation whose observation differs between the two, or undefined. */
export function firstDifference(s: Scenario, a: Revision, b: Revision): number | undefined {
  const x = observe(s, a);
  const y = observe(s, b);
  const at = x.findIndex((o, i) => o !== y[i]);
  return at < 0 ? undefined : at;
}

export interface Difference {
  /** The run (from 0) that first differed. */
  readonly run: number;
  readonly scenario: Scenario;
  readonly opIndex: number;
  /** Each side's observation of that operation: result first, then events. */
  readonly a: string;
  readonly b: string;
}

export interface Comparison {
  readonly runs: number;
  readonly difference: Difference | null;
}

/**
 * Runs `runs` scenarios of `generatedAs`'s generators (the cell both revisions stand in) under
 * `seed` on both revisions, and minimizes the first that differs. `onScenario` hears of each
 * scenario before it runs (the CLI's watchdog heartbeat).
 */
export function compareRevisions(
  backend: BackendId, a: Revision, b: Revision, runs: number, seed: number, generatedAs: Revision = a,
  onScenario?: (s: Scenario, phase: 'explore' | 'shrink') => void,
): Comparison {
  const samples = fc.sample(arbitraryFor({ backend, revision: generatedAs }), { numRuns: runs, seed });
  for (const [run, s] of samples.entries()) {
    onScenario?.(s, 'explore');
    if (firstDifference(s, a, b) === undefined) continue;
    const small = minimizeScenario(s, (t) => {
      onScenario?.(t, 'shrink');
      return firstDifference(t, a, b);
    });
    const opIndex = firstDifference(small, a, b) ?? 0;
    return { runs: run + 1, difference: { run, scenario: small, opIndex, a: observe(small, a)[opIndex] ?? '', b: observe(small, b)[opIndex] ?? '' } };
  }
  return { runs: samples.length, difference: null };
}
