import { availableParallelism } from 'node:os';
import type { BackendId } from '../model/scenario/Scenario.js';
import { MUTANTS } from '../model/revisions/mutants.js';
import { REVISIONS } from '../model/revisions/registry.js';
import type { Revision } from '../model/revisions/Revision.js';
import { WHAT_IF_MODES, whatIfCellsOf, type WhatIfMode } from '../model/whatIf.js';
import type { Invariant } from '../properties/Invariant.js';
import { INVARIANTS } from '../properties/registry.js';
import { integer, parse, str, UsageError } from './argParse.js';
import { parseDuration } from './fuzz/duration.js';

/** `fuzz` with neither --time nor --runs: a short campaign over everything. */
export const DEFAULT_FUZZ_MS = 60_000;

export interface FuzzOptions {
  readonly backends: readonly BackendId[];
  readonly revisions: readonly Revision[];
  /** A revision module to load (it replaces `revisions`), as typed. */
  readonly revisionModule: string | undefined;
  readonly whatIf: 'all' | 'none' | WhatIfMode;
  readonly invariants: readonly Invariant[];
  readonly seed: number;
  readonly runs: number | undefined;
  readonly timeMs: number | undefined;
  readonly unitRuns: number | undefined;
  readonly workers: number;
  readonly shard: { readonly index: number; readonly count: number };
  readonly out: string | undefined;
  readonly resume: string | undefined;
  /** The campaign-defining options typed (no dashes): with --resume each must agree with the campaign's. */
  readonly given: readonly CampaignOption[];
}

export interface ReportMergeOptions {
  readonly dirs: readonly string[];
  readonly out: string | undefined;
}

/** Options that define a campaign's work (its plan); --workers and --out do not. */
export const CAMPAIGN_OPTIONS = ['backend', 'revision', 'revision-module', 'property', 'what-if', 'seed', 'runs', 'time', 'unit-runs', 'shard'] as const;
export type CampaignOption = (typeof CAMPAIGN_OPTIONS)[number];

function parseShard(raw: string | undefined): { index: number; count: number } {
  if (raw === undefined) return { index: 1, count: 1 };
  const m = /^(\d+)\/(\d+)$/.exec(raw);
  if (m === null) throw new UsageError(`--shard must be I/N (this machine's share of N), e.g. 1/4, got '${raw}'`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1 || count > 1000) throw new UsageError(`--shard ${raw}: N must be between 1 and 1000`);
  if (index < 1 || index > count) throw new UsageError(`--shard ${raw}: I must be between 1 and N (${count})`);
  return { index, count };
}

export function parseFuzz(argv: readonly string[], defaultSeed: number): FuzzOptions {
  const { values } = parse(argv, {
    backend: { type: 'string' },
    revision: { type: 'string' },
    'revision-module': { type: 'string' },
    property: { type: 'string' },
    'what-if': { type: 'string' },
    seed: { type: 'string' },
    runs: { type: 'string' },
    time: { type: 'string' },
    'unit-runs': { type: 'string' },
    workers: { type: 'string' },
    shard: { type: 'string' },
    out: { type: 'string' },
    resume: { type: 'string' },
  });
  const revisionModule = str(values['revision-module']);
  if (revisionModule !== undefined && str(values.revision) !== undefined) throw new UsageError('give --revision or --revision-module, not both');
  const resume = str(values.resume);
  if (resume !== undefined && str(values.out) !== undefined) throw new UsageError('--resume DIR carries on in DIR: give no --out with it');
  const backendArg = str(values.backend) ?? 'all';
  const allBackends: readonly BackendId[] = ['snp', 'tdx', 'cca'];
  const chosen = allBackends.find((b) => b === backendArg);
  if (backendArg !== 'all' && chosen === undefined) throw new UsageError(`--backend must be snp, tdx, cca or all, got '${backendArg}'`);
  const revisionArg = str(values.revision) ?? 'all';
  const known = [...REVISIONS, ...MUTANTS];
  const revision = known.find((r) => r.id === revisionArg);
  if (revisionArg !== 'all' && revision === undefined) throw new UsageError(`--revision '${revisionArg}' is not a known revision (known: ${known.map((r) => r.id).join(', ')})`);
  const revisions = revision === undefined ? REVISIONS : [revision];
  const propertyArg = str(values.property) ?? 'all';
  const invariant = INVARIANTS.find((i) => i.id === propertyArg);
  if (propertyArg !== 'all' && invariant === undefined) throw new UsageError(`--property '${propertyArg}' is not a known property (known: ${INVARIANTS.map((i) => i.id).join(', ')})`);
  const whatIfArg = str(values['what-if']) ?? 'all';
  const whatIf = whatIfArg === 'all' || whatIfArg === 'none' ? whatIfArg : WHAT_IF_MODES.find((m) => m === whatIfArg);
  if (whatIf === undefined) throw new UsageError(`--what-if must be none, all or a mode (${WHAT_IF_MODES.join(', ')}), got '${whatIfArg}'`);
  const backends = chosen === undefined ? allBackends : [chosen];
  const usable = revisionModule !== undefined ? backends : backends.filter((b) => revisions.some((r) => r.backends.includes(b)));
  if (usable.length === 0) throw new UsageError(`revision '${revisionArg}' has no ${backendArg} backend`);
  if (whatIf !== 'all' && whatIf !== 'none' && revisionModule === undefined && !revisions.some((r) => usable.some((b) => r.backends.includes(b)) && whatIfCellsOf(r).includes(whatIf))) {
    throw new UsageError(`no cell of the revisions chosen runs under --what-if ${whatIf}`);
  }
  const time = str(values.time);
  let timeMs: number | undefined;
  if (time !== undefined) {
    const d = parseDuration(time);
    if ('error' in d) throw new UsageError(`--time ${d.error}`);
    timeMs = d.ms;
  }
  const runs = str(values.runs) === undefined ? undefined : integer('runs', str(values.runs), 0, 1, 100_000_000);
  return {
    backends: usable,
    revisions,
    revisionModule,
    whatIf,
    invariants: invariant === undefined ? INVARIANTS : [invariant],
    seed: integer('seed', str(values.seed), defaultSeed, -(2 ** 31), 2 ** 31 - 1),
    runs,
    timeMs: timeMs ?? (runs === undefined ? DEFAULT_FUZZ_MS : undefined),
    unitRuns: str(values['unit-runs']) === undefined ? undefined : integer('unit-runs', str(values['unit-runs']), 0, 1, 100_000),
    workers: integer('workers', str(values.workers), availableParallelism(), 1, 256),
    shard: parseShard(str(values.shard)),
    out: str(values.out),
    resume,
    given: CAMPAIGN_OPTIONS.filter((o) => values[o] !== undefined),
  };
}

export type ReportCommand =
  | { readonly kind: 'report-merge'; readonly options: ReportMergeOptions }
  | { readonly kind: 'report-write'; readonly options: { readonly dir: string } };

export function parseReport(argv: readonly string[]): ReportCommand {
  const [sub, ...rest] = argv;
  if (sub === 'write') {
    const { positionals } = parse(rest, {}, true);
    const [dir, ...more] = positionals;
    if (dir === undefined || more.length > 0) throw new UsageError('report write needs one campaign folder: report write DIR');
    return { kind: 'report-write', options: { dir } };
  }
  if (sub !== 'merge') throw new UsageError(sub === undefined ? 'report needs a subcommand: report merge DIR... or report write DIR' : `unknown report subcommand '${sub}' (expected merge or write)`);
  const { values, positionals } = parse(rest, { out: { type: 'string' } }, true);
  if (positionals.length === 0) throw new UsageError('report merge needs the campaign folders to merge: report merge DIR... [--out DIR]');
  return { kind: 'report-merge', options: { dirs: positionals, out: str(values.out) } };
}
