import { inPlaceSeriesOf } from '../../model/scenario/Scenario.js';
import { readFileSync } from 'node:fs';
import { preemptionsOf } from '../../model/concurrent/explore.js';
import { loadConcurrent, type ConcurrentModel } from '../../model/concurrent/load.js';
import { jsonReplacer } from '../../model/kernel/u64.js';
import type { Scenario } from '../../model/scenario/Scenario.js';
import { parseThreadedScenario } from '../../model/scenario/schema.js';
import { UsageError } from '../argParse.js';
import type { InterleaveArgs } from '../args.js';
import { expectedInterleaving, interleaveCellName, isExpected, exploreExhaustive, exploreRandom, missedBugs, replayOn, type Counterexample, type InterleaveCell, type Outcome } from '../../properties/interleave.js';
import { counterexampleTimeline } from '../../reports/timeline.js';
import { CorpusFileError } from '../../properties/corpus/load.js';
import { loadThreadsFile } from '../../properties/corpus/threads.js';

/** The parsed arguments (cli/args.ts), the scenario file resolved against the caller's directory. */
export type InterleaveOptions = Omit<InterleaveArgs, 'scenario'> & {
  /** The scenario file (as typed) and its path. */
  readonly scenario: { readonly shown: string; readonly file: string } | undefined;
};

interface CellResult {
  readonly cell: InterleaveCell;
  readonly outcome: Outcome;
  /** The known bug the cell's finding is, when the suite expects it there. */
  readonly expected: string | undefined;
  readonly asExpected: boolean;
}

function plural(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? '' : 's'}`;
}

function json(v: unknown): string {
  return JSON.stringify(v, jsonReplacer);
}

/** The scenario a file holds, or a usage error naming the problem (exit 2). */
function loadScenario(shown: string, file: string): Scenario {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`--scenario ${shown}: cannot read it (${e instanceof Error ? e.message : String(e)})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`--scenario ${shown}: not JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  // A stored interleaving (corpus/threads/): its scenario, the file checked whole.
  if (parsed !== null && typeof parsed === 'object' && 'verdicts' in parsed) {
    try {
      return loadThreadsFile(file).entry.scenario;
    } catch (e) {
      throw new UsageError(`--scenario ${shown}: ${e instanceof CorpusFileError ? e.problems.map((p) => `${p.path}: ${p.message}`).join('; ') : String(e)}`);
    }
  }
  const r = parseThreadedScenario(parsed);
  if ('problems' in r) throw new UsageError(`--scenario ${shown}: ${r.problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`);
  if (r.scenario.backend === 'cca') throw new UsageError(`--scenario ${shown}: threads run on snp and tdx scenarios`);
  return r.scenario;
}

/** `interleave --scenario FILE [--bound N]`: the file's scenario on each revision of its backend. */
function runScenarioFile(m: ConcurrentModel, o: InterleaveOptions & { readonly scenario: { readonly shown: string; readonly file: string } }, write: (s: string) => void): number {
  const scenario = loadScenario(o.scenario.shown, o.scenario.file);
  const backend = scenario.backend === 'tdx' ? 'tdx' : 'snp';
  let ok = true;
  const out: unknown[] = [];
  for (const revision of o.revisions.filter((r) => r.backends.includes(backend))) {
    const series = inPlaceSeriesOf(scenario);
    const cell: InterleaveCell = { backend, revision: revision.id, inPlace: series !== undefined, series };
    const expected = expectedInterleaving(cell);
    const name = interleaveCellName(cell);
    let c: Counterexample | undefined;
    let how: string;
    if (o.bound === undefined) {
      const j = replayOn(m, cell, scenario);
      const s = j.run.schedule;
      c = j.verdict.kind === 'ok' ? undefined : { scenario, verdict: j.verdict, run: j.run, runsToFind: 1, runsWithIt: 1, setAside: [], size: { threads: scenario.threads?.length ?? 0, ops: (scenario.threads ?? []).reduce((n, t) => n + t.length, 0), steps: s.steps.length, preemptions: preemptionsOf(s.choices, s.enabled), forcedChoices: scenario.schedule?.length ?? 0 } };
      how = 'its schedule replayed';
    } else {
      const r = exploreExhaustive(m, cell, scenario, o.bound);
      c = r.counterexample;
      how = `${r.schedules} schedule(s) of at most ${o.bound} preemption(s)${r.complete ? ', all of them' : ''}`;
    }
    const found = c?.verdict.signature;
    // A schedule is a thread per step of the revision it was found on: replayed on another, a
    // known bug it does not reach is no difference (--bound searches that revision's schedules).
    const missed = expected !== undefined && found === undefined;
    const asExpected = expected === undefined ? found === undefined : found === undefined ? o.bound === undefined : isExpected(expected, found);
    ok &&= asExpected;
    if (o.json) {
      out.push({ backend, revision: revision.id, inPlace: cell.inPlace, how, asExpected, signature: found ?? null, ...(c === undefined ? {} : { timeline: timelineOf(c), scenario: c.scenario }) });
      continue;
    }
    const note = !missed ? '' : asExpected ? ` (${expected.bug} is known here; this schedule does not reach it: try --bound 1)` : ` — DIFFERS: ${expected.bug} expected`;
    write(`${name} (${how}): ${c === undefined ? 'holds' : `${asExpected ? `✓ ${expected?.bug ?? ''} (known) ` : 'NEW '}${c.verdict.signature}`}${note}\n`);
    if (c === undefined) continue;
    if (c.verdict.kind === 'violation') write(`  ${c.verdict.violation.message}\n`);
    write(`${timelineOf(c).split('\n').map((l) => `  ${l}`).join('\n')}\n`);
    if (o.bound !== undefined) write(`  scenario: ${json(c.scenario)}\n`);
  }
  if (o.json) write(`${json(out)}\n`);
  return ok ? 0 : 1;
}

const timelineOf = counterexampleTimeline;

/**
 * `gmemcheck interleave`: each cell's random exploration (properties/interleave.ts). Exit 0 when
 * every cell is as the suite expects (B2's deadlock where it is known, nothing elsewhere), 1
 * when one differs.
 */
export async function runInterleave(o: InterleaveOptions, write: (s: string) => void): Promise<number> {
  const m = await loadConcurrent();
  if (o.scenario !== undefined) return runScenarioFile(m, { ...o, scenario: o.scenario }, write);
  const results: CellResult[] = [];
  for (const backend of o.backends) {
    for (const revision of o.revisions.filter((r) => r.backends.includes(backend))) {
      const cell: InterleaveCell = { backend, revision: revision.id, inPlace: o.inPlace, series: o.series };
      const outcome = exploreRandom(m, cell, { runs: o.runs, seed: o.seed, depth: o.depth });
      const expected = expectedInterleaving(cell);
      const found = outcome.status === 'violated' ? outcome.counterexamples.map((c) => c.verdict.signature) : [];
      const missed = missedBugs(expected, found);
      const asExpected = missed.length === 0 && found.every((f) => isExpected(expected, f));
      results.push({ cell, outcome, expected: expected?.bug, asExpected });
      if (o.json) continue;
      const name = interleaveCellName(cell);
      const differs = missed.length === 0 ? '' : ` — DIFFERS: ${missed.map((b) => b.id).join(', ')} expected, not found`;
      if (outcome.status === 'holds') {
        write(`${name} (${outcome.runs} runs, PCT depth ${o.depth}): holds${differs} — ${outcome.contended} runs contended\n`);
        continue;
      }
      write(`${name} (${outcome.runs} runs, PCT depth ${o.depth}): ${plural(found.length, 'finding')}${differs}${o.inPlace ? '; under in-place semantics' : ''}\n`);
      for (const c of outcome.counterexamples) {
        const bug = expected?.bugs.find((b) => b.signatures.some((s) => c.verdict.signature.startsWith(s)));
        const label = bug !== undefined ? `✓ ${bug.id} (known) ` : 'NEW ';
        const behind = c.setAside.length === 0 ? '' : ` (behind ${plural(c.setAside.length, 'finding')} set aside)`;
        write(`${label}${c.verdict.signature}, found after ${c.runsToFind} runs${behind}, in ${plural(c.runsWithIt, 'run')}; shrunk to ${plural(c.size.threads, 'thread')}, ${plural(c.size.ops, 'operation')}, ${plural(c.size.steps, 'step')}, ${plural(c.size.preemptions, 'preemption')}\n`);
        if (c.verdict.kind === 'violation') write(`  ${c.verdict.violation.message}\n`);
        write(`${timelineOf(c).split('\n').map((l) => `  ${l}`).join('\n')}\n`);
        write(`  scenario: ${json(c.scenario)}\n`);
      }
    }
  }
  if (o.json) {
    write(`${json(results.map((r) => ({
      backend: r.cell.backend, revision: r.cell.revision, inPlace: r.cell.inPlace, series: r.cell.inPlace ? (r.cell.series ?? 'v8') : null, asExpected: r.asExpected, expected: r.expected ?? null,
      status: r.outcome.status, runs: r.outcome.runs, contended: r.outcome.contended,
      findings: r.outcome.status === 'holds' ? [] : r.outcome.counterexamples.map((c) => ({
        signature: c.verdict.signature, runsToFind: c.runsToFind, runsWithIt: c.runsWithIt, setAside: c.setAside, size: c.size, scenario: c.scenario, timeline: timelineOf(c),
      })),
    })))}\n`);
  }
  return results.every((r) => r.asExpected) ? 0 : 1;
}
