import type { Revision } from '../../model/revisions/Revision.js';
import { runScenario, type RunResult } from '../../model/scenario/runScenario.js';
import type { Scenario } from '../../model/scenario/Scenario.js';
import { watch, type Invariant, type Violation } from '../Invariant.js';
import { INVARIANTS } from '../registry.js';

/** What one revision does on one scenario: every invariant watched over the whole run. */
export interface Judgement {
  /** Each violated invariant's first violation, by invariant id (sorted). */
  readonly violated: ReadonlyMap<string, Violation>;
  /** Every violation, in the order seen (for the trace). */
  readonly violations: readonly Violation[];
  readonly run: RunResult;
}

export function judgeScenario(scenario: Scenario, revision: Revision, opts: { traceCalls?: boolean; invariants?: readonly Invariant[] } = {}): Judgement {
  const watched = (opts.invariants ?? INVARIANTS).map((inv) => watch(inv, { revision }));
  const run = runScenario(scenario, revision, { observers: watched.map((w) => w.observer), traceCalls: opts.traceCalls === true });
  const violations = watched.flatMap((w) => w.violations).sort((a, b) => a.opIndex - b.opIndex);
  const violated = new Map<string, Violation>();
  for (const w of watched) {
    const first = w.violations[0];
    if (first !== undefined) violated.set(first.invariant, first);
  }
  return { violated: new Map([...violated].sort(([a], [b]) => a.localeCompare(b))), violations, run };
}

/** Where a judgement differs from a recorded verdict, in words; empty when they agree. */
export function verdictMismatch(recorded: readonly string[], got: ReadonlyMap<string, Violation>): string[] {
  const out: string[] = [];
  for (const id of recorded) if (!got.has(id)) out.push(`${id} no longer violated`);
  for (const [id, v] of got) if (!recorded.includes(id)) out.push(`${id} now violated: [${v.messageId}] ${v.message}`);
  return out;
}
