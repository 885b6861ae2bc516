import type { Revision } from '../../model/revisions/Revision.js';
import type { CampaignFile } from '../../reports/campaign.js';
import type { RevisionRef } from '../../reports/checkReport.js';
import { shardIndices, shardUnits, unitAt, type Plan, type PlannedUnit } from './plan.js';
import { UnitPool, type UnitOutcome } from './pool.js';
import { Progress, type ProgressSink } from './progress.js';
import { appendUnit, writeCampaignHeader } from './state.js';
import { failedUnit, stoppedUnit, writeNew } from './triage.js';
import type { UnitDone, UnitTask } from './unitTask.js';

/**
 * Runs a campaign's units on the pool until its sequence ends (a --runs bound), its time is
 * used, or it is interrupted. Units are dispatched in the sequence's order, one per worker; each
 * one done is triaged (new signatures written at once) and appended to the units journal before the
 * next is counted, so at every moment the folder holds every unit finished and every new signature
 * met. At the time limit the units running are let finish (their work is in budget); on an
 * interrupt they are abandoned, and a resume runs them again.
 */

export interface CampaignRun {
  readonly out: string;
  /** The campaign so far (a resume's), extended in place and written after every unit. */
  readonly state: CampaignFile;
  readonly plan: Plan;
  readonly workers: number;
  /** The revision a unit runs, by id (for the watchdog's findings). */
  readonly revisionOf: (id: string) => Pick<Revision, 'id' | 'derivedFrom' | 'arm'>;
  readonly ref: (id: string) => RevisionRef;
  readonly taskOf: (unit: PlannedUnit) => Omit<UnitTask, 'heartbeat'>;
  readonly signal: AbortSignal;
  readonly progress: ProgressSink;
}

export async function runCampaign(c: CampaignRun): Promise<'complete' | 'interrupted'> {
  const { state, plan } = c;
  const args = state.args;
  const pool = new UnitPool(c.workers);
  const done = new Set(state.units.map((u) => u.index));
  const t0 = Date.now();
  const before = state.elapsedMs;
  const elapsed = (): number => before + Date.now() - t0;
  const timeUp = (): boolean => args.timeMs !== undefined && elapsed() >= args.timeMs;
  const seen = new Map<string, boolean>();
  const meet = (signature: string, fresh: boolean): void => {
    seen.set(signature, (seen.get(signature) ?? false) || fresh);
  };
  for (const u of state.units) for (const s of u.signatures) meet(s.signature, s.status === 'new');
  // A --runs campaign knows its shard's runs in advance; only then is "left" a rate estimate.
  const shardRuns = plan.runs === undefined ? undefined : shardUnits(plan, args.shard).reduce((n, u) => n + (u.kind === 'explore' ? u.runs : 0), 0);
  const running = new Map<number, { runs: number; promise: Promise<void> }>();
  const runsDone = (): number => state.units.reduce((n, u) => n + (u.kind === 'explore' ? u.ran : 0), 0);
  const progress = new Progress(c.progress, () => {
    const runs = runsDone() + [...running.values()].reduce((n, r) => n + r.runs, 0);
    const ms = elapsed();
    const rate = ms > 0 ? runs / ms : 0;
    const remainingMs = args.timeMs !== undefined ? Math.max(0, args.timeMs - ms) : shardRuns !== undefined && rate > 0 ? Math.max(0, shardRuns - runs) / rate : undefined;
    return { runs, unitsDone: state.units.length, running: running.size, signatures: seen.size, fresh: [...seen.values()].filter(Boolean).length, elapsedMs: ms, remainingMs };
  });
  let interrupted = c.signal.aborted;
  const onAbort = (): void => {
    interrupted = true;
    pool.abandonAll();
  };
  c.signal.addEventListener('abort', onAbort);

  const finish = (unit: PlannedUnit, o: UnitOutcome, ms: number): void => {
    if (o.kind === 'abandoned') return;
    const revisionId = unit.kind === 'explore' ? unit.cell.revision : unit.revision;
    const task = c.taskOf(unit);
    const result: UnitDone = o.kind === 'done' ? o.done
      : o.kind === 'failed' ? failedUnit(unit, c.ref(revisionId), o.error, ms)
      : stoppedUnit(unit, c.revisionOf(revisionId), c.ref(revisionId), task.invariants, o, ms);
    for (const f of result.found) {
      if (writeNew(c.out, state.written, f)) progress.say(`new signature ${f.signature}: ${state.written[f.signature]?.scenario ?? '?'}`);
    }
    state.units.push(result.record);
    appendUnit(c.out, result.record);
    for (const s of result.record.signatures) meet(s.signature, s.status === 'new');
    state.elapsedMs = elapsed();
    writeCampaignHeader(c.out, state);
  };

  const indices = shardIndices(args.shard);
  let exhausted = false;
  const next = (): PlannedUnit | undefined => {
    for (;;) {
      const i = indices.next();
      if (i.done === true) return undefined;
      const u = unitAt(plan, i.value);
      if (u === undefined) {
        exhausted = true;
        return undefined;
      }
      if (!done.has(u.index)) return u;
    }
  };

  progress.start();
  try {
    for (;;) {
      while (!interrupted && !exhausted && running.size < c.workers && !timeUp()) {
        const unit = next();
        if (unit === undefined) break;
        const slot = { runs: 0, promise: Promise.resolve() };
        const started = Date.now();
        slot.promise = pool.run(c.taskOf(unit), (runs) => {
          slot.runs = runs;
        }).then((o) => {
          running.delete(unit.index);
          finish(unit, o, Date.now() - started);
        });
        running.set(unit.index, slot);
      }
      if (running.size === 0) break;
      await Promise.race([...running.values()].map((r) => r.promise));
    }
  } finally {
    c.signal.removeEventListener('abort', onAbort);
    progress.stop();
    state.units.sort((a, b) => a.index - b.index);
    state.elapsedMs = elapsed();
    writeCampaignHeader(c.out, state);
    await pool.destroy();
  }
  return interrupted ? 'interrupted' : 'complete';
}
