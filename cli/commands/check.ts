import { relative } from 'node:path';
import type { CheckOptions } from '../args.js';
import type { Revision } from '../../model/revisions/Revision.js';
import type { BackendId } from '../../model/scenario/Scenario.js';
import { cellName, whatIfCellsOf, type WhatIfMode } from '../../model/whatIf.js';
import { CELL_RUNS } from '../../properties/explore.js';
import { findingEntry } from '../../properties/corpus/record.js';
import { saveEntry, type SaveResult } from '../../properties/corpus/store.js';
import { abortedReport, type ExplorationReport, type FindingReport, type RevisionRef } from '../../reports/checkReport.js';
import { explorationText, explorationVerdict, summaryText, totals } from '../../reports/checkText.js';
import { sharedRunner, workerHeapMb, type CheckRunner } from '../runner.js';
import type { RevisionSource } from '../workerProtocol.js';
import { jsonReplacer } from '../../model/kernel/u64.js';

/** A replay (`--signature` with `--path`) that does not reproduce: bad input, exit status 2. */
export class ReplayMismatch extends Error {}

export interface CheckIo {
  readonly write: (s: string) => void;
  readonly writeErr: (s: string) => void;
}

/** What `check` runs a revision as: where the worker loads it from, and how reports name it. */
export interface CheckedRevision {
  readonly revision: Revision;
  readonly source: RevisionSource;
  readonly ref: RevisionRef;
}

function shownPath(file: string): string {
  return relative(process.env.INIT_CWD ?? process.cwd(), file) || file;
}

function runsText(o: CheckOptions): string {
  return o.runs !== undefined ? `${o.runs} runs` : `runs ${o.backends.map((b) => `${b} ${CELL_RUNS[b]}`).join(', ')}`;
}

/** Each finding as a corpus entry (properties/corpus/record.ts). */
function save(dir: string, x: ExplorationReport, f: FindingReport): SaveResult {
  return saveEntry(dir, findingEntry({ ...f, backend: x.backend, revision: x.revision.id, bug: f.bug?.id }));
}

/**
 * Runs every requested revision on every requested backend, all requested invariants watching
 * each run, in a worker thread under a watchdog; prints each as it finishes and a summary.
 * Exit status: 0 every cell as the matrix (or a derived module's parent row) expects; 1 a cell
 * differs (a new signature, an expected bug missing, a holding cell short of its coverage
 * minimums) or the model failed, or with `--strict` any violation; 2 bad input (a replay path
 * that does not reproduce, a corpus folder --save cannot write); 130 interrupted. `about` goes
 * into the JSON document first (kernel mode: what was taken from the tree).
 */
export async function runCheck(o: CheckOptions, revisions: readonly CheckedRevision[], io: CheckIo, about: Readonly<Record<string, unknown>> = {}): Promise<number> {
  const runner = sharedRunner();
  runner.begin();
  const reports: ExplorationReport[] = [];
  const saveProblems: string[] = [];
  let interrupted = false;
  const interrupt = (): void => {
    interrupted = true;
    void runner.abort();
  };
  process.on('SIGINT', interrupt);
  process.on('SIGTERM', interrupt);
  const header = `seed ${o.seed}; ${runsText(o)}`;
  try {
    for (const backend of o.backends) {
      for (const r of revisions.filter((x) => x.revision.backends.includes(backend))) {
        for (const whatIf of cellsToRun(r.revision, o.whatIf)) {
          if (interrupted) break;
          const report = await explore(runner, o, backend, r, whatIf);
          if (report === 'interrupted') {
            interrupted = true;
            break;
          }
          reports.push(report);
          if (!o.json) io.write(`${explorationText(report, { verbose: o.verbose })}\n`);
          // JSON goes out whole at the end: say on stderr how far the check has come.
          else io.writeErr(`checked ${backend} × ${cellName(r.ref.module ?? r.ref.id, whatIf)}: ${explorationVerdict(report)}\n`);
          if (o.saveTo !== undefined) saveAll(o.saveTo, report, io, saveProblems);
        }
      }
    }
  } finally {
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
  }
  const t = totals(reports);
  const violated = reports.some((x) => x.cells.some((c) => c.status === 'violated'));
  const failed = t.differs > 0 || t.modelErrors > 0 || (o.strict && violated);
  const code = interrupted ? 130 : saveProblems.length > 0 ? 2 : failed ? 1 : 0;
  const why = interrupted ? 'interrupted'
    : saveProblems.length > 0 ? 'a finding could not be saved (see above)'
    : t.modelErrors > 0 ? 'the model failed (a bug in gmemcheck)'
    : t.differs > 0 ? `${t.differs} cell(s) differ from what the matrix expects`
    : o.strict && violated ? '--strict, and properties are violated'
    : 'every cell as the matrix expects';
  if (o.json) io.write(`${JSON.stringify({ ...about, seed: o.seed, runs: o.runs ?? CELL_RUNS, interrupted, exit: code, totals: t, explorations: reports }, jsonReplacer, 2)}\n`);
  else io.write(`\n${summaryText(reports, header, interrupted)}\nexit ${code}: ${why}\n`);
  return code;
}

/** The cells of a revision a check runs: its default configuration, its what-if modes', or one of them. */
function cellsToRun(revision: Revision, which: CheckOptions['whatIf']): (WhatIfMode | undefined)[] {
  const modes = whatIfCellsOf(revision);
  if (which === 'none') return [undefined];
  if (which === 'all') return [undefined, ...modes];
  return modes.includes(which) ? [which] : [];
}

function saveAll(dir: string, x: ExplorationReport, io: CheckIo, problems: string[]): void {
  for (const f of x.cells.flatMap((c) => c.findings)) {
    try {
      const saved = save(dir, x, f);
      io.writeErr(`  ${saved.kind === 'written' ? 'saved' : 'already in the corpus:'} ${f.signature} as ${shownPath(saved.file)}\n`);
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      problems.push(why);
      io.writeErr(`gmemcheck: cannot save ${f.signature} into ${shownPath(dir)}: ${why}\n`);
    }
  }
}

async function explore(runner: CheckRunner, o: CheckOptions, backend: BackendId, r: CheckedRevision, whatIf: WhatIfMode | undefined): Promise<ExplorationReport | 'interrupted'> {
  const runs = o.runs ?? CELL_RUNS[backend];
  const invariants = o.invariants.map((i) => i.id);
  const mode = whatIf === undefined ? {} : { whatIf };
  const t0 = performance.now();
  const outcome = await runner.run({
    backend, revision: r.source, ref: r.ref, ...mode, invariants, runs, seed: o.seed,
    ...(o.replay === undefined ? {} : { replay: o.replay }),
  });
  switch (outcome.kind) {
    case 'done':
      return outcome.report;
    case 'aborted':
      return 'interrupted';
    case 'not-reproduced':
      throw new ReplayMismatch(`--signature ${o.replay?.signature ?? '?'} --path ${o.replay?.path ?? '?'} does not reproduce on ${backend} × ${cellName(r.ref.id, whatIf)} with seed ${o.seed} and ${runs} runs: ${outcome.reason}. A replay line is valid only with the seed, --runs and revision it was printed with.`);
    case 'failed':
      throw new Error(`the check of ${backend} × ${cellName(r.ref.id, whatIf)} failed: ${outcome.error}`);
    case 'compared':
      throw new Error(`the check of ${backend} × ${cellName(r.ref.id, whatIf)}: the worker answered a comparison`);
    case 'hung':
    case 'died':
      return abortedReport({
        backend, revision: r.revision, ref: r.ref, ...mode, invariants, seed: o.seed, runs, ms: performance.now() - t0, run: outcome.run, scenario: outcome.scenario, events: outcome.events,
        cause: outcome.kind === 'hung' ? { kind: 'hung', seconds: outcome.seconds } : { kind: 'died', error: outcome.error, heapMb: workerHeapMb() },
      });
  }
}
