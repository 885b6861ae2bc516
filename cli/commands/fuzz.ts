import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Revision } from '../../model/revisions/Revision.js';
import { MUTANTS } from '../../model/revisions/mutants.js';
import { REVISIONS } from '../../model/revisions/registry.js';
import type { BackendId } from '../../model/scenario/Scenario.js';
import { scenarioWhatIf } from '../../model/whatIf.js';
import { loadCorpus, type LoadedEntry } from '../../properties/corpus/load.js';
import { CAMPAIGN_FORMAT, type CampaignArgs, type CampaignFile } from '../../reports/campaign.js';
import { campaignExit, campaignText } from '../../reports/campaignText.js';
import type { RevisionRef } from '../../reports/checkReport.js';
import { UsageError } from '../argParse.js';
import { runCampaign } from '../fuzz/campaign.js';
import { buildPlan } from '../fuzz/plan.js';
import { freshFolderName, writeReports } from '../fuzz/reportFiles.js';
import { readCampaign, writeCampaign, writeCampaignHeader } from '../fuzz/state.js';
import type { FuzzOptions } from '../fuzzArgs.js';
import { loadRevisionModule, REPO_ROOT, shownPath, userPath } from '../revisionModule.js';
import type { RevisionSource } from '../workerProtocol.js';

/**
 * `gmemcheck fuzz`: a campaign (cli/fuzz/campaign.ts) in a report folder. A fresh one gets a new
 * folder; `--resume DIR` carries on the campaign DIR holds, with its own arguments (those typed
 * again must agree). Exit status: 0 no new signature; 1 a new signature or a model error; 2 bad
 * input (arguments, a folder that is not empty or holds no campaign, a changed revision module),
 * nothing overwritten; 130 interrupted, after the report of what was done is written.
 */

export interface FuzzIo {
  readonly write: (s: string) => void;
  readonly writeErr: (s: string) => void;
  /** stderr is a terminal: progress redraws one line. */
  readonly tty: boolean;
  /** Without a terminal, a progress line this often (default 10 s). */
  readonly progressEveryMs?: number;
  /** Stops the campaign as Ctrl-C does (tests; the command also listens for SIGINT and SIGTERM). */
  readonly signal?: AbortSignal;
}

function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** What a campaign runs: the revisions by id, where workers load them from, how reports name them. */
interface Selection {
  readonly revisions: readonly Revision[];
  readonly source: (id: string) => RevisionSource;
  readonly ref: (id: string) => RevisionRef;
}

async function selectionOf(args: CampaignArgs, loaded: Revision | undefined): Promise<Selection> {
  const m = args.revisionModule;
  if (m === undefined) {
    const revisions = args.revisions.map((id) => {
      const r = [...REVISIONS, ...MUTANTS].find((x) => x.id === id);
      if (r === undefined) throw new UsageError(`the campaign names revision '${id}', which this gmemcheck does not have`);
      return r;
    });
    return { revisions, source: (id) => ({ builtIn: id }), ref: (id) => ({ id }) };
  }
  if (!existsSync(m.file)) throw new UsageError(`the campaign's revision module ${shownPath(m.file)} is gone`);
  if (sha256(m.file) !== m.sha256) throw new UsageError(`${shownPath(m.file)} changed since the campaign started: its seeds would no longer replay the same runs (start a new campaign)`);
  // Type-checking a module takes seconds: a fresh campaign has just done it.
  const mine = loaded ?? await loadRevisionModule(m.file);
  const shown = shownPath(m.file);
  return {
    revisions: [mine],
    source: () => ({ module: m.file, shown }),
    ref: () => ({ id: mine.id, module: shown, ...(mine.derivedFrom === undefined ? {} : { derivedFrom: mine.derivedFrom }) }),
  };
}

/** The campaign the typed options define. */
async function argsOf(o: FuzzOptions): Promise<{ args: CampaignArgs; mine: Revision | undefined }> {
  let revisionModule: CampaignArgs['revisionModule'];
  let revisions = o.revisions.map((r) => r.id);
  let mine: Revision | undefined;
  if (o.revisionModule !== undefined) {
    const file = userPath(o.revisionModule);
    mine = await loadRevisionModule(o.revisionModule);
    revisionModule = { file, sha256: sha256(file), id: mine.id, ...(mine.derivedFrom === undefined ? {} : { derivedFrom: mine.derivedFrom }) };
    revisions = [];
  }
  const args: CampaignArgs = {
    backends: [...o.backends],
    revisions,
    ...(revisionModule === undefined ? {} : { revisionModule }),
    whatIf: o.whatIf,
    properties: o.invariants.map((i) => i.id),
    seed: o.seed,
    ...(o.runs === undefined ? {} : { runs: o.runs }),
    ...(o.timeMs === undefined ? {} : { timeMs: o.timeMs }),
    ...(o.unitRuns === undefined ? {} : { unitRuns: o.unitRuns }),
    shard: { ...o.shard },
  };
  return { args, mine };
}

/** The stored campaign field each campaign-defining option sets, for --resume's comparison. */
const FIELD: Readonly<Record<FuzzOptions['given'][number], readonly (keyof CampaignArgs)[]>> = {
  backend: ['backends'], revision: ['revisions'], 'revision-module': ['revisionModule'], property: ['properties'], 'what-if': ['whatIf'],
  seed: ['seed'], runs: ['runs', 'timeMs'], time: ['timeMs', 'runs'], 'unit-runs': ['unitRuns'], shard: ['shard'],
};

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** A resumed campaign keeps its arguments: each one typed again must say the same. */
function checkResumeArgs(typed: CampaignArgs, stored: CampaignArgs, given: FuzzOptions['given'], dir: string): void {
  for (const option of given) {
    for (const field of FIELD[option]) {
      // --runs alone leaves --time unset (and the other way round): only the typed one is compared.
      if ((option === 'runs' && field === 'timeMs') || (option === 'time' && field === 'runs')) continue;
      if (!same(typed[field], stored[field])) {
        throw new UsageError(`--${option} differs from the campaign in ${shownPath(dir)} (${JSON.stringify(typed[field])} here, ${JSON.stringify(stored[field] ?? null)} there): a resumed campaign keeps its arguments; give --resume alone`);
      }
    }
  }
}

function emptyOrAbsent(dir: string): boolean {
  return !existsSync(dir) || readdirSync(dir).length === 0;
}

/**
 * The corpus's scenarios of a backend for one revision, in the cells the campaign runs (--what-if):
 * those the revision (or the one it derives from) is recorded to violate first.
 */
function corpusFilesFor(corpus: readonly LoadedEntry[], backend: BackendId, r: Pick<Revision, 'arm'>, revision: string, whatIf: CampaignArgs['whatIf']): string[] {
  const inCells = (e: LoadedEntry): boolean => whatIf === 'all' || (scenarioWhatIf(e.entry.scenario, r) ?? 'none') === whatIf;
  const ours = corpus.filter((e) => e.entry.scenario.backend === backend && inCells(e));
  const fails = (e: LoadedEntry): boolean => e.entry.verdicts[revision]?.verdict === 'violated';
  return [...ours.filter(fails), ...ours.filter((e) => !fails(e))].map((e) => e.file);
}

export async function runFuzz(o: FuzzOptions, io: FuzzIo): Promise<number> {
  const { args: typed, mine } = await argsOf(o);
  let out: string;
  let state: CampaignFile;
  if (o.resume !== undefined) {
    out = userPath(o.resume);
    state = readCampaign(out);
    checkResumeArgs(typed, state.args, o.given, out);
  } else {
    out = o.out !== undefined ? userPath(o.out) : join(REPO_ROOT, 'reports', 'out', freshFolderName(new Date(), 'fuzz'));
    if (o.out === undefined) for (let n = 2; existsSync(out); n++) out = out.replace(/(-\d+)?$/, `-${n}`);
    if (!emptyOrAbsent(out)) throw new UsageError(`--out ${o.out ?? out}: exists and is not empty; give a new folder, or --resume it`);
    state = { format: CAMPAIGN_FORMAT, args: typed, status: 'running', elapsedMs: 0, units: [], written: {} };
  }
  const selection = await selectionOf(state.args, state.args.revisionModule?.sha256 === typed.revisionModule?.sha256 ? mine : undefined);
  const corpus = loadCorpus(join(REPO_ROOT, 'corpus'));
  const plan = buildPlan(state.args, selection.revisions, new Set(corpus.map((e) => e.entry.scenario.backend)));
  if (plan.cells.length === 0) throw new UsageError('the revisions and --what-if chosen leave no cell to explore');
  // Known to the corpus: every signature it records a revision showing (a module: its parent's).
  const corpusKnown = (id: string): string[] => {
    const as = state.args.revisionModule?.derivedFrom ?? id;
    return [...new Set(corpus.flatMap((e) => {
      const v = e.entry.verdicts[as];
      return v?.verdict === 'violated' ? (v.signatures ?? []) : [];
    }))];
  };
  mkdirSync(out, { recursive: true });
  state.status = 'running';
  // Whole: a fresh campaign's empty journal, or a resumed one's without a write a kill cut short.
  writeCampaign(out, state);
  const controller = new AbortController();
  const stop = (): void => controller.abort();
  io.signal?.addEventListener('abort', stop);
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  const shown = shownPath(out);
  io.writeErr(`fuzz: seed ${state.args.seed}, shard ${state.args.shard.index}/${state.args.shard.count}, ${plan.cells.length} cells, ${plan.corpus.length} corpus replays first; ${state.units.length > 0 ? `resuming (${state.units.length} units done); ` : ''}report in ${shown}/\n`);
  let status: 'complete' | 'interrupted';
  try {
    status = await runCampaign({
      out, state, plan, workers: o.workers,
      revisionOf: (id) => selection.revisions.find((r) => r.id === id) ?? { id },
      ref: selection.ref,
      taskOf: (unit) => {
        const id = unit.kind === 'explore' ? unit.cell.revision : unit.revision;
        return {
          unit, revision: selection.source(id), ref: selection.ref(id), invariants: state.args.properties, corpusKnown: corpusKnown(id),
          corpusFiles: unit.kind === 'corpus' ? corpusFilesFor(corpus, unit.backend, selection.revisions.find((r) => r.id === id) ?? {}, state.args.revisionModule?.derivedFrom ?? id, state.args.whatIf) : [],
        };
      },
      signal: controller.signal,
      progress: { writeErr: io.writeErr, tty: io.tty, ...(io.tty ? { terminal: process.stderr } : {}), everyMs: io.progressEveryMs ?? 10_000 },
    });
  } finally {
    io.signal?.removeEventListener('abort', stop);
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
  state.status = status;
  writeCampaignHeader(out, state);
  const summary = writeReports(out, state);
  io.write(campaignText(summary, shown));
  if (status === 'interrupted') {
    io.write(`exit 130: interrupted; the report has the units done; carry on with: npx gmemcheck fuzz --resume ${shown}\n`);
    return 130;
  }
  const exit = campaignExit(summary);
  io.write(exit.line);
  return exit.code;
}
