import type { Revision } from '../../model/revisions/Revision.js';
import type { BackendId } from '../../model/scenario/Scenario.js';
import { whatIfCellsOf, type WhatIfMode } from '../../model/whatIf.js';
import { CELL_RUNS } from '../../properties/explore.js';
import type { CampaignArgs } from '../../reports/campaign.js';

/**
 * A campaign's work as one deterministic sequence of units, a function of its arguments alone:
 * first the corpus replayed on each revision, then explorations round-robin over the cells
 * (backend × revision × what-if mode, as `check --what-if` enumerates them), the k-th round
 * under seed `seed + k`. `--shard I/N` takes the units whose index ≡ I-1 (mod N), so N machines
 * cover disjoint work and their union is the unsharded campaign's; `--resume` skips the units
 * done and goes on down the same sequence.
 */

export interface PlanCell {
  readonly backend: BackendId;
  readonly revision: string;
  readonly whatIf?: WhatIfMode;
}

export type PlannedUnit =
  | { readonly kind: 'corpus'; readonly index: number; readonly backend: BackendId; readonly revision: string }
  | { readonly kind: 'explore'; readonly index: number; readonly cell: PlanCell; readonly k: number; readonly seed: number; readonly runs: number };

export interface Plan {
  /** One corpus replay per revision of a backend that has corpus scenarios, first. */
  readonly corpus: readonly { readonly backend: BackendId; readonly revision: string }[];
  readonly cells: readonly PlanCell[];
  readonly seed: number;
  /** Runs of each cell's unit, and their sum over one round. */
  readonly cellRuns: readonly number[];
  readonly roundRuns: number;
  /** Total exploration runs (the last unit is cut to fit); undefined: as long as time allows. */
  readonly runs: number | undefined;
}

/** The cells of a revision a campaign runs: its default configuration, its what-if modes', or one of them. */
function cellsOf(revision: Pick<Revision, 'arm'>, which: CampaignArgs['whatIf']): (WhatIfMode | undefined)[] {
  const modes = whatIfCellsOf(revision);
  if (which === 'none') return [undefined];
  if (which === 'all') return [undefined, ...modes];
  return modes.includes(which) ? [which] : [];
}

export function buildPlan(args: CampaignArgs, revisions: readonly Pick<Revision, 'id' | 'arm' | 'backends'>[], corpusBackends: ReadonlySet<BackendId>): Plan {
  const cells: PlanCell[] = [];
  const corpus: { backend: BackendId; revision: string }[] = [];
  for (const backend of args.backends) {
    for (const r of revisions.filter((x) => x.backends.includes(backend))) {
      if (corpusBackends.has(backend)) corpus.push({ backend, revision: r.id });
      for (const whatIf of cellsOf(r, args.whatIf)) cells.push({ backend, revision: r.id, ...(whatIf === undefined ? {} : { whatIf }) });
    }
  }
  const cellRuns = cells.map((c) => args.unitRuns ?? CELL_RUNS[c.backend]);
  return { corpus, cells, seed: args.seed, cellRuns, roundRuns: cellRuns.reduce((a, b) => a + b, 0), runs: args.runs };
}

/** Exploration runs of the units before exploration unit j. */
function runsBefore(plan: Plan, j: number): number {
  const n = plan.cells.length;
  let sum = Math.floor(j / n) * plan.roundRuns;
  for (let i = 0; i < j % n; i++) sum += plan.cellRuns[i] ?? 0;
  return sum;
}

/** The unit at `index` of the sequence, or undefined past its end (a --runs bound). */
export function unitAt(plan: Plan, index: number): PlannedUnit | undefined {
  const c = plan.corpus[index];
  if (c !== undefined) return { kind: 'corpus', index, ...c };
  const j = index - plan.corpus.length;
  const n = plan.cells.length;
  const cell = plan.cells[j % n];
  if (j < 0 || cell === undefined) return undefined;
  const before = runsBefore(plan, j);
  const full = plan.cellRuns[j % n] ?? 0;
  if (plan.runs !== undefined && before >= plan.runs) return undefined;
  const runs = plan.runs === undefined ? full : Math.min(full, plan.runs - before);
  const k = Math.floor(j / n);
  return { kind: 'explore', index, cell, k, seed: plan.seed + k, runs };
}

/** The indices of one shard's units, in order, from the first. */
export function* shardIndices(shard: CampaignArgs['shard']): Generator<number> {
  for (let i = shard.index - 1; ; i += shard.count) yield i;
}

/** A shard's units, while the sequence lasts (or `limit` of them, for a sequence bounded only by time). */
export function shardUnits(plan: Plan, shard: CampaignArgs['shard'], limit = Infinity): PlannedUnit[] {
  const out: PlannedUnit[] = [];
  for (const i of shardIndices(shard)) {
    if (out.length >= limit) break;
    const u = unitAt(plan, i);
    if (u === undefined) break;
    out.push(u);
  }
  return out;
}
