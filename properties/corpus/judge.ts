import type { Revision } from '../../model/revisions/Revision.js';
import { runScenario, type RunResult } from '../../model/scenario/runScenario.js';
import type { Scenario } from '../../model/scenario/Scenario.js';
import { watch, type Invariant, type Violation } from '../Invariant.js';
import { INVARIANTS } from '../registry.js';
import { keyOf } from '../signature.js';
import type { Verdict } from './entry.js';

/** What one revision does on one scenario: every invariant watched over the whole run. */
export interface Judgement {
  /** Each violated invariant's first violation, by invariant id (sorted). */
  readonly violated: ReadonlyMap<string, Violation>;
  /** Every signature the run shows, sorted. */
  readonly signatures: readonly string[];
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
  return { violated: new Map([...violated].sort(([a], [b]) => a.localeCompare(b))), signatures: [...new Set(violations.map(keyOf))].sort(), violations, run };
}

/**
 * Where a judgement differs from a recorded verdict, in words; empty when they agree: the set of
 * violated invariants, and, where the entry records them, the set of signatures.
 */
export function verdictMismatch(recorded: Verdict, got: Pick<Judgement, 'violated' | 'signatures'>): string[] {
  const out: string[] = [];
  const invariants = recorded.verdict === 'holds' ? [] : recorded.invariants;
  for (const id of invariants) if (!got.violated.has(id)) out.push(`${id} no longer violated`);
  for (const [id, v] of got.violated) if (!invariants.includes(id)) out.push(`${id} now violated: [${v.messageId}] ${v.message}`);
  if (recorded.verdict === 'violated' && recorded.signatures !== undefined) {
    for (const k of recorded.signatures) if (!got.signatures.includes(k) && got.violated.has(k.slice(0, k.indexOf('/')))) out.push(`signature ${k} no longer shown`);
    for (const k of got.signatures) if (!recorded.signatures.includes(k) && invariants.includes(k.slice(0, k.indexOf('/')))) out.push(`signature ${k} now shown`);
  }
  return out;
}
