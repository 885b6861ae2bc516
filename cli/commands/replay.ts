import { relative } from 'node:path';
import type { Revision } from '../../model/revisions/Revision.js';
import type { Violation } from '../../properties/Invariant.js';
import type { CorpusEntry, Verdict } from '../../properties/corpus/entry.js';
import { judgeScenario, verdictMismatch } from '../../properties/corpus/judge.js';
import { needsText, scenarioNeeds } from '../../properties/reach.js';
import { CONTENT_MESSAGES, contentDiagram } from '../../reports/contentDiagram.js';
import { buildTrace, formatTrace, type TraceOp } from '../../reports/trace.js';
import { jsonReplacer } from '../../model/kernel/u64.js';

export interface ReplayOptions {
  readonly file: string;
  readonly entry: CorpusEntry;
  /** The revisions to run; those with a recorded verdict are compared with it. */
  readonly revisions: readonly Revision[];
  /** Print the trace of this revision; default the one the scenario was found for (or the first). */
  readonly traceOf: string | undefined;
  readonly json: boolean;
  readonly verbose: boolean;
}

interface RevisionResult {
  readonly revision: string;
  readonly recorded: Verdict | undefined;
  readonly violated: readonly string[];
  readonly violations: readonly Violation[];
  readonly mismatch: readonly string[];
  /** What the scenario takes on this revision beyond userspace alone (reach.ts). */
  readonly takes: string;
  readonly trace: readonly TraceOp[];
  readonly diagram: string | undefined;
}

/**
 * Runs one corpus scenario on each revision, compares what happens with the recorded verdicts,
 * and prints the trace. Exit status 0 when every recorded verdict is met, 1 otherwise.
 */
export function runReplay(o: ReplayOptions, write: (s: string) => void): number {
  const results: RevisionResult[] = o.revisions.map((r) => {
    const j = judgeScenario(o.entry.scenario, r, { traceCalls: true });
    const recorded = o.entry.verdicts[r.id];
    const content = j.violations.find((v) => CONTENT_MESSAGES.includes(v.messageId));
    return {
      revision: r.id,
      recorded,
      violated: [...j.violated.keys()],
      violations: j.violations,
      mismatch: recorded === undefined ? [] : verdictMismatch(recorded, j),
      takes: needsText(scenarioNeeds(o.entry.scenario, r)),
      trace: buildTrace(j.run.world.log, j.violations, { verbose: o.verbose }),
      diagram: content === undefined ? undefined : contentDiagram(o.entry.scenario, r, content.opIndex),
    };
  });
  const failed = results.filter((r) => r.mismatch.length > 0);
  const origin = o.entry.origin;
  const traced = o.traceOf ?? (origin.kind === 'found' && results.some((r) => r.revision === origin.revision) ? origin.revision : results.find((r) => r.violated.length > 0)?.revision ?? results[0]?.revision);
  const shown = relative(process.env.INIT_CWD ?? process.cwd(), o.file) || o.file;
  if (o.json) {
    write(`${JSON.stringify({ file: shown, name: o.entry.name, about: o.entry.about, origin, scenario: o.entry.scenario, results, ok: failed.length === 0 }, jsonReplacer, 2)}\n`);
    return failed.length === 0 ? 0 : 1;
  }
  const lines = [`${shown}: ${o.entry.about}`, `  origin: ${origin.kind === 'found' ? `found on ${origin.revision} by ${origin.property} (${origin.bug})` : `boundary case: ${origin.case}`}`];
  for (const r of results) {
    const got = r.violated.length === 0 ? 'holds' : `violates ${r.violated.join(', ')} (takes ${r.takes})`;
    if (r.recorded === undefined) lines.push(`  ? ${r.revision}: ${got} (no recorded verdict)`);
    else if (r.mismatch.length === 0) lines.push(`  ✓ ${r.revision}: ${got}, as recorded — ${r.recorded.reason}`);
    else lines.push(`  ✗ ${r.revision}: ${got}, but the corpus records ${r.recorded.verdict === 'holds' ? 'holds' : `violates ${r.recorded.invariants.join(', ')}`} — ${r.mismatch.join('; ')}`);
  }
  const t = results.find((r) => r.revision === traced);
  if (t !== undefined) {
    lines.push('', `trace on ${t.revision}:`, ...formatTrace(t.trace).split('\n').map((l) => `  ${l}`));
    if (t.diagram !== undefined) lines.push('', ...t.diagram.split('\n'));
  }
  lines.push('', failed.length === 0 ? `${results.length} revision(s): every recorded verdict met` : `${failed.length} of ${results.length} revision(s) differ from the corpus`);
  write(`${lines.join('\n')}\n`);
  return failed.length === 0 ? 0 : 1;
}
