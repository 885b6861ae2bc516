import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Revision } from '../../model/revisions/Revision.js';
import { jsonReplacer } from '../../model/kernel/u64.js';
import { findingEntry } from '../../properties/corpus/record.js';
import type { CampaignFile, CorpusRecord, ExploreRecord } from '../../reports/campaign.js';
import { abortedReport, type RevisionRef } from '../../reports/checkReport.js';
import { findingBlock } from '../../reports/checkText.js';
import { workerHeapMb } from '../runner.js';
import type { PlannedUnit } from './plan.js';
import type { UnitOutcome } from './pool.js';
import { writeAtomic } from './state.js';
import type { NewFinding, UnitDone } from './unitTask.js';

/**
 * The main thread's half of triage: each new signature is written once, the first time a
 * worker meets it, as `new/<slug>.json` (a corpus entry: copy it into corpus/ to keep it) and
 * `new/<slug>.trace.txt`. Each appears whole or not at all (written aside, then renamed), the
 * trace first, so a scenario file on disk always has its trace.
 */

export const NEW_DIR = 'new';

/** A signature as a file name: corpus names' alphabet (lower case, digits, `.`, `+`, `-`). */
export function slugOf(signature: string): string {
  return signature.toLowerCase().replace(/[^a-z0-9.+-]+/g, '-').replace(/^-+|-+$/g, '');
}

/** Writes each new signature the first time it is met; `written` (campaign.json's) says which are. */
export function writeNew(out: string, written: CampaignFile['written'], f: NewFinding): boolean {
  if (written[f.signature] !== undefined) return false;
  const taken = new Set(Object.values(written).map((w) => w.scenario));
  let slug = slugOf(f.signature);
  for (let n = 2; taken.has(`${NEW_DIR}/${slug}.json`) || existsSync(join(out, NEW_DIR, `${slug}.json`)); n++) slug = `${slugOf(f.signature)}-${n}`;
  mkdirSync(join(out, NEW_DIR), { recursive: true });
  const scenario = `${NEW_DIR}/${slug}.json`;
  const trace = `${NEW_DIR}/${slug}.trace.txt`;
  writeAtomic(join(out, trace), f.trace);
  // The loader wants a corpus entry's name to be its file's.
  writeAtomic(join(out, scenario), `${JSON.stringify({ ...f.entry, name: slug }, jsonReplacer, 2)}\n`);
  written[f.signature] = { scenario, trace };
  return true;
}

/**
 * A unit the watchdog ended, as a unit record with its one finding: the revision hung (a loop
 * that calls no kernel code) or exhausted its worker's heap in the scenario it was running. Not
 * shrunk: each attempt would hang or kill a worker again.
 */
export function stoppedUnit(unit: PlannedUnit, revision: Pick<Revision, 'id' | 'derivedFrom'> & Partial<Pick<Revision, 'arm'>>, ref: RevisionRef, invariants: readonly string[], o: Extract<UnitOutcome, { kind: 'hung' | 'died' }>, ms: number): UnitDone {
  const backend = unit.kind === 'explore' ? unit.cell.backend : unit.backend;
  const whatIf = unit.kind === 'explore' ? unit.cell.whatIf : undefined;
  const stopper = o.kind === 'hung' ? 'soft-lockup' : 'oops';
  const report = abortedReport({
    backend, revision, ref, ...(whatIf === undefined ? {} : { whatIf }), invariants: [...new Set([...invariants, stopper])],
    seed: unit.kind === 'explore' ? unit.seed : 0, runs: unit.kind === 'explore' ? unit.runs : 1, ms, run: o.run, scenario: o.scenario, events: o.events,
    cause: o.kind === 'hung' ? { kind: 'hung', seconds: o.seconds } : { kind: 'died', error: o.error, heapMb: workerHeapMb() },
  });
  const cell = report.cells.find((c) => c.findings.length > 0);
  const f = cell?.findings[0];
  if (cell === undefined || f === undefined) throw new Error('a stopped unit without its finding');
  const signature = { signature: f.signature, status: 'new' as const, firstRun: Math.max(0, o.run), runsWithIt: 1, ops: f.operations, pages: f.pages, message: f.message, reach: f.reach.label };
  const found: NewFinding = {
    signature: f.signature,
    entry: findingEntry({ ...f, backend, revision: ref.id, bug: undefined }),
    trace: [`${f.signature} on ${backend} × ${ref.module ?? ref.id}, unit ${unit.index}`, ...findingBlock(f, cell, '')].join('\n') + '\n',
  };
  const record: ExploreRecord | CorpusRecord = unit.kind === 'explore'
    ? { kind: 'explore', index: unit.index, backend, revision: ref.id, ...(whatIf === undefined ? {} : { whatIf }), k: unit.k, seed: unit.seed, runs: unit.runs, ran: Math.max(0, o.run), ms, coverage: [], signatures: [signature], modelErrors: [], stopped: o.kind }
    : { kind: 'corpus', index: unit.index, backend, revision: ref.id, ms, scenarios: 0, mismatches: [], signatures: [signature], modelErrors: [], stopped: o.kind };
  return { record, found: [found] };
}

/** A unit that could not run at all: a model error (a bug in gmemcheck), recorded so it is not retried forever. */
export function failedUnit(unit: PlannedUnit, ref: RevisionRef, error: string, ms: number): UnitDone {
  const modelErrors = [{ run: -1, error: error.split('\n').slice(0, 4).join('\n') }];
  const record: ExploreRecord | CorpusRecord = unit.kind === 'explore'
    ? { kind: 'explore', index: unit.index, backend: unit.cell.backend, revision: ref.id, ...(unit.cell.whatIf === undefined ? {} : { whatIf: unit.cell.whatIf }), k: unit.k, seed: unit.seed, runs: unit.runs, ran: 0, ms, coverage: [], signatures: [], modelErrors }
    : { kind: 'corpus', index: unit.index, backend: unit.backend, revision: ref.id, ms, scenarios: 0, mismatches: [], signatures: [], modelErrors };
  return { record, found: [] };
}
