import { basename } from 'node:path';
import type { Revision } from '../../model/revisions/Revision.js';
import type { BackendId } from '../../model/scenario/Scenario.js';
import { cellName, scenarioWhatIf, type WhatIfMode } from '../../model/whatIf.js';
import type { CorpusEntry } from '../../properties/corpus/entry.js';
import { verdictMismatch } from '../../properties/corpus/judge.js';
import { loadCorpusFile } from '../../properties/corpus/load.js';
import { findingEntry } from '../../properties/corpus/record.js';
import { expectedFor } from '../../properties/expectations.js';
import { explore, judge, scenarioSize, showsSignature, type ExploreSpec, type PriorShown } from '../../properties/explore.js';
import { minimizeScenario } from '../../properties/minimize.js';
import { jsonReplacer } from '../../model/kernel/u64.js';
import type { Invariant, Violation } from '../../properties/Invariant.js';
import { bugForSignature, bugsForSignature } from '../../properties/matrix.js';
import { INVARIANTS } from '../../properties/registry.js';
import { keyOf, parseSignature, signatureMatches } from '../../properties/signature.js';
import type { CorpusRecord, ExploreRecord, SignatureRecord } from '../../reports/campaign.js';
import { explorationReport, findingReach, type RevisionRef } from '../../reports/checkReport.js';
import { findingBlock } from '../../reports/checkText.js';
import { buildTrace, formatTrace } from '../../reports/trace.js';
import { revisionOf } from '../revisionSource.js';
import type { RevisionSource } from '../workerProtocol.js';
import { HeartbeatWriter } from './heartbeat.js';
import type { PlannedUnit } from './plan.js';

/**
 * One unit of a fuzz campaign, run in a pool worker thread (unitWorker.mjs): an exploration of a
 * cell under one seed, or the corpus replayed on one revision. Triage starts here, beside the
 * revision code: a signature the matrix expects on the cell, or the corpus records on the
 * revision, is known and only counted (not shrunk: its signature is already all the campaign
 * needs of it); every other one is shrunk, and its corpus entry (with the verdict of every
 * modelled revision) and trace are made here, for the main thread to write once.
 */

export interface UnitTask {
  readonly unit: PlannedUnit;
  readonly revision: RevisionSource;
  readonly ref: RevisionRef;
  readonly invariants: readonly string[];
  /** Signatures the corpus records on this revision (or the built-in one it derives from). */
  readonly corpusKnown: readonly string[];
  /** A corpus unit's files, known failures first. */
  readonly corpusFiles: readonly string[];
  /** The watchdog's heartbeat, written before each scenario runs (heartbeat.ts). */
  readonly heartbeat: SharedArrayBuffer;
}

/** A new signature, ready to be written: its corpus entry and its trace as text. */
export interface NewFinding {
  readonly signature: string;
  readonly entry: CorpusEntry;
  readonly trace: string;
}

export interface UnitDone {
  readonly record: ExploreRecord | CorpusRecord;
  readonly found: readonly NewFinding[];
}

/**
 * The bug (or `corpus`) a signature is known by on a cell, or undefined: new. With `prior`, as
 * its shrunk counterexample has it (Finding.prior, for KnownBug.onlyAfter).
 */
function knownAs(revision: Revision, backend: BackendId, whatIf: WhatIfMode | undefined, key: string, corpusKnown: ReadonlySet<string>, prior?: PriorShown): string | undefined {
  const invariant = parseSignature(key)?.invariant;
  if (invariant === undefined) return undefined;
  const bug = bugForSignature(expectedFor(revision, invariant, backend, whatIf).expectation, key, prior === undefined ? undefined : { mode: whatIf, prior });
  if (bug !== undefined) return bug.id;
  return corpusKnown.has(key) ? 'corpus' : undefined;
}

/**
 * Whether a known signature is known only with a counterexample that showed another violation
 * before it (KnownBug.onlyAfter): such a signature is shrunk like a new one, then judged.
 */
function knownOnlyAfterPrior(revision: Revision, backend: BackendId, whatIf: WhatIfMode | undefined, key: string): boolean {
  const invariant = parseSignature(key)?.invariant;
  if (invariant === undefined) return false;
  return bugsForSignature(expectedFor(revision, invariant, backend, whatIf).expectation, key).some((b) => (b.onlyAfter ?? []).some((rule) => rule.signatures.some((k) => signatureMatches(k, key))));
}

/** A model error's first lines: enough to find it, and the file stays small. */
function shortError(e: string): string {
  return e.split('\n').slice(0, 4).join('\n');
}

function exploreUnit(task: UnitTask, unit: Extract<PlannedUnit, { kind: 'explore' }>, revision: Revision, invariants: readonly Invariant[], beats: HeartbeatWriter): UnitDone {
  const { backend, whatIf } = unit.cell;
  const corpusKnown = new Set(task.corpusKnown);
  const t0 = performance.now();
  const x = explore({
    backend, revision, ...(whatIf === undefined ? {} : { whatIf }), invariants, runs: unit.runs, seed: unit.seed,
    wanted: (key) => knownAs(revision, backend, whatIf, key, corpusKnown) === undefined || knownOnlyAfterPrior(revision, backend, whatIf, key),
    onScenario: (scenario, phase) => beats.beat(phase, scenario),
  });
  const report = explorationReport(x, revision, task.ref, invariants, performance.now() - t0);
  const found: NewFinding[] = [];
  const signatures: SignatureRecord[] = [];
  for (const cell of report.cells) {
    for (const f of cell.findings) {
      const shrunk = x.findings.find((g) => g.key === f.signature);
      // Shrunk for KnownBug.onlyAfter: known once its counterexample is judged (a campaign that
      // does not watch the prior's invariant credits the signature as before).
      const bug = shrunk === undefined ? undefined : knownAs(revision, backend, whatIf, f.signature, corpusKnown, shrunk.prior);
      if (bug !== undefined) {
        signatures.push({ signature: f.signature, status: 'known', bug, firstRun: f.firstRun, runsWithIt: f.runsWithIt });
        continue;
      }
      signatures.push({ signature: f.signature, status: 'new', firstRun: f.firstRun, runsWithIt: f.runsWithIt, ops: f.operations, pages: f.pages, message: f.message, reach: f.reach.label });
      const head = `${f.signature} on ${backend} × ${cellName(task.ref.module ?? task.ref.id, whatIf)}, unit ${unit.index} (seed ${unit.seed}, ${unit.runs} runs)`;
      found.push({
        signature: f.signature,
        entry: findingEntry({ ...f, backend, revision: task.ref.id, bug: undefined }),
        trace: [head, ...findingBlock(f, cell, '')].join('\n') + '\n',
      });
    }
  }
  for (const c of x.counted ?? []) {
    signatures.push({ signature: c.key, status: 'known', bug: knownAs(revision, backend, whatIf, c.key, corpusKnown) ?? '?', firstRun: c.firstRun, runsWithIt: c.runsWithIt });
  }
  signatures.sort((a, b) => a.firstRun - b.firstRun || a.signature.localeCompare(b.signature));
  return {
    record: {
      kind: 'explore', index: unit.index, backend, revision: task.ref.id, ...(whatIf === undefined ? {} : { whatIf }), k: unit.k, seed: unit.seed,
      runs: unit.runs, ran: x.runs, ms: Math.round(performance.now() - t0),
      coverage: report.coverage.map((c) => {
        const r = x.reached.get(c.key);
        return { key: c.key, got: c.got, min: c.min, ...(r === undefined ? {} : { first: r.first, ...(r.atMin === undefined ? {} : { atMin: r.atMin }) }) };
      }),
      signatures,
      modelErrors: x.modelErrors.map((m) => ({ run: m.run, error: shortError(m.error) })),
    },
    found,
  };
}

function corpusUnit(task: UnitTask, unit: Extract<PlannedUnit, { kind: 'corpus' }>, revision: Revision, invariants: readonly Invariant[], beats: HeartbeatWriter): UnitDone {
  const t0 = performance.now();
  const everyInvariant = invariants.length === INVARIANTS.length;
  const corpusKnown = new Set(task.corpusKnown);
  const seen = new Map<string, SignatureRecord>();
  const found: NewFinding[] = [];
  const mismatches: CorpusRecord['mismatches'] = [];
  const modelErrors: CorpusRecord['modelErrors'] = [];
  task.corpusFiles.forEach((file, i) => {
    const { entry } = loadCorpusFile(file);
    beats.beat('corpus', entry.scenario);
    const j = judge(entry.scenario, revision, invariants);
    if (j.modelError !== undefined) modelErrors.push({ run: i, error: shortError(j.modelError) });
    const violated = new Map<string, Violation>();
    for (const v of j.violations) if (!violated.has(v.invariant)) violated.set(v.invariant, v);
    const keys = [...new Set(j.violations.map(keyOf))].sort();
    const recorded = entry.verdicts[task.ref.id];
    // A verdict is the whole set of invariants violated: comparable only with every one watching.
    const problems = recorded === undefined || !everyInvariant ? [] : verdictMismatch(recorded, { violated: new Map([...violated].sort(([a], [b]) => a.localeCompare(b))), signatures: keys });
    if (problems.length > 0) mismatches.push({ file: basename(file), problems });
    const whatIf = scenarioWhatIf(entry.scenario, revision);
    for (const key of keys) {
      const s = seen.get(key);
      if (s !== undefined) {
        seen.set(key, { ...s, runsWithIt: s.runsWithIt + 1 });
        continue;
      }
      const bug = knownAs(revision, unit.backend, whatIf, key, corpusKnown);
      const v = j.violations.find((x) => keyOf(x) === key);
      if (bug !== undefined || v === undefined) {
        seen.set(key, { signature: key, status: 'known', bug: bug ?? '?', firstRun: i, runsWithIt: 1 });
        continue;
      }
      // Shrunk like an exploration's finding (the deterministic minimizer: no fast-check path to
      // start from), keeping the signature.
      const invariant = invariants.find((inv) => inv.id === v.invariant);
      const beat: NonNullable<ExploreSpec['onScenario']> = (scenario) => beats.beat('shrink', scenario);
      const small = invariant === undefined ? entry.scenario : minimizeScenario(entry.scenario, (x) => showsSignature(x, revision, invariant, key, beat));
      const traced = judge(small, revision, invariants, { traceCalls: true });
      const w = traced.violations.find((x) => keyOf(x) === key) ?? v;
      const reach = findingReach(small, revision);
      const size = scenarioSize(small);
      seen.set(key, { signature: key, status: 'new', firstRun: i, runsWithIt: 1, ops: size.ops, pages: size.pages, message: w.message, reach: reach.label });
      const sig = parseSignature(key);
      found.push({
        signature: key,
        entry: findingEntry({
          backend: unit.backend, revision: task.ref.id, signature: key, invariant: w.invariant, messageId: w.messageId, ...(w.detail === undefined ? {} : { detail: w.detail }),
          site: sig?.site ?? w.site, message: w.message, bug: undefined, scenario: small,
        }),
        trace: [
          `${key} on ${unit.backend} × ${task.ref.module ?? task.ref.id}: corpus scenario ${basename(file)}, minimized to ${size.ops} operations, ${size.pages} page(s)`,
          `[${w.invariant}/${w.messageId}] at operation #${w.opIndex}: ${w.message}`,
          `takes: ${reach.needs}`,
          `the corpus scenario: npx gmemcheck replay corpus/${basename(file)} ${task.ref.module === undefined ? `--revision ${task.ref.id}` : `--revision-module ${task.ref.module}`}`,
          'trace:',
          ...formatTrace(buildTrace(traced.run.world.log, traced.violations)).split('\n').map((l) => `  ${l}`),
          `scenario: ${JSON.stringify(small, jsonReplacer)}`,
          '',
        ].join('\n'),
      });
    }
  });
  return {
    record: {
      kind: 'corpus', index: unit.index, backend: unit.backend, revision: task.ref.id, ms: Math.round(performance.now() - t0), scenarios: task.corpusFiles.length,
      mismatches, signatures: [...seen.values()].sort((a, b) => a.firstRun - b.firstRun || a.signature.localeCompare(b.signature)), modelErrors,
    },
    found,
  };
}

/** The pool's task (unitWorker.mjs exports it). */
export default async function runUnit(task: UnitTask): Promise<UnitDone> {
  const revision = await revisionOf(task.revision);
  const invariants = INVARIANTS.filter((i) => task.invariants.includes(i.id));
  const beats = new HeartbeatWriter(task.heartbeat);
  return task.unit.kind === 'explore' ? exploreUnit(task, task.unit, revision, invariants, beats) : corpusUnit(task, task.unit, revision, invariants, beats);
}
