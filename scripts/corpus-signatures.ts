/**
 * Keeps one corpus scenario per expected signature, and every verdict up to date.
 *
 *   npx tsx scripts/corpus-signatures.ts [--seeds N] [--rerecord] [DIR]   (default: corpus/)
 *
 * For every cell of the matrix, every signature of its expected bugs (of its invariant) must be
 * recorded by some corpus scenario for that revision. Those not yet recorded are searched for
 * with check's own exploration under the default seed and then seeds 1..N (default 30), and each
 * shrunk counterexample is saved, named for its signature, with every revision's verdict.
 * Then every bug a cell requires gets a scenario of its own (origin.bug), searched for the same way.
 * `--rerecord` first re-judges every existing file and rewrites its verdicts (after a deliberate
 * change to the model, as a re-seeding would; review the diff).
 */
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { REVISIONS } from '../model/revisions/registry.js';
import type { BackendId } from '../model/scenario/Scenario.js';
import { loadCorpus } from '../properties/corpus/load.js';
import { findingEntry, recordVerdicts } from '../properties/corpus/record.js';
import { saveEntry } from '../properties/corpus/store.js';
import { CELL_RUNS, explore } from '../properties/explore.js';
import { bugForSignature, expectation, expectedSignatures } from '../properties/matrix.js';
import { cellName, scenarioWhatIf, whatIfCellsOf } from '../model/whatIf.js';
import { INVARIANTS } from '../properties/registry.js';
import { signatureMatches } from '../properties/signature.js';
import { scenarioNeeds } from '../properties/reach.js';
import { jsonReplacer } from '../model/kernel/u64.js';

const { values, positionals } = parseArgs({ options: { seeds: { type: 'string' }, rerecord: { type: 'boolean' } }, allowPositionals: true });
const dir = positionals[0] ?? join(import.meta.dirname, '..', 'corpus');
const seeds = [20261122, ...Array.from({ length: Number(values.seeds ?? 30) }, (_v, i) => i + 1)];

if (values.rerecord === true) {
  for (const { file, entry } of loadCorpus(dir)) {
    const next = { ...entry, verdicts: recordVerdicts(entry.scenario, entry.origin) };
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(next, jsonReplacer, 2)}\n`);
    renameSync(tmp, file);
  }
  console.log(`re-recorded the verdicts of every file in ${dir}`);
}

/** Signatures recorded for a revision on a backend by some corpus scenario. */
function recorded(backend: BackendId, revision: string): Set<string> {
  return new Set(loadCorpus(dir).flatMap(({ entry }) => {
    const v = entry.verdicts[revision];
    return entry.scenario.backend === backend && v?.verdict === 'violated' ? (v.signatures ?? []) : [];
  }));
}

const missing: string[] = [];
for (const backend of ['snp', 'tdx', 'cca'] as BackendId[]) {
  for (const { revision, whatIf } of REVISIONS.filter((r) => r.backends.includes(backend)).flatMap((r) => [undefined, ...whatIfCellsOf(r)].map((m) => ({ revision: r, whatIf: m })))) {
    const wanted = new Set(INVARIANTS.flatMap((inv) => expectedSignatures(expectation(inv.id, backend, revision.id, whatIf), inv.id, backend)));
    for (const seed of seeds) {
      const have = recorded(backend, revision.id);
      const todo = [...wanted].filter((k) => ![...have].some((h) => signatureMatches(k, h)));
      if (todo.length === 0) break;
      const x = explore({ backend, revision, ...(whatIf === undefined ? {} : { whatIf }), invariants: INVARIANTS, runs: CELL_RUNS[backend], seed });
      const saved = new Set<string>();
      for (const f of x.findings.filter((g) => todo.some((k) => signatureMatches(k, g.key)))) {
        // One witness for a wildcard signature is enough.
        const listed = todo.find((k) => signatureMatches(k, f.key)) ?? f.key;
        if (saved.has(listed)) continue;
        saved.add(listed);
        const bug = bugForSignature(expectation(f.signature.invariant, backend, revision.id, whatIf), f.key);
        const entry = saveEntry(dir, findingEntry({ backend, revision: revision.id, signature: f.key, ...f.signature, message: f.violation.message, bug: bug?.id, scenario: f.counterexample }));
        console.log(`${backend}/${revision.id} ${f.key}: ${entry.kind} ${entry.file} (seed ${seed})`);
      }
    }
    const have = recorded(backend, revision.id);
    for (const k of wanted) if (![...have].some((h) => signatureMatches(k, h))) missing.push(`${backend}/${cellName(revision.id, whatIf)} ${k}`);
  }
}
// Every required bug of the matrix has a scenario of its own (origin.bug), found on a cell that
// requires it and credited to it there: a signature two bugs share, recorded above for one, is
// not yet a witness of the other (B5 shares its signatures with B6, B31 with B6 and G23).
const ownBug = (): Set<string> => new Set(loadCorpus(dir).flatMap(({ entry }) => (entry.origin.kind === 'found' ? [entry.origin.bug] : [])));
for (const backend of ['snp', 'tdx', 'cca'] as BackendId[]) {
  for (const { revision, whatIf } of REVISIONS.filter((r) => r.backends.includes(backend)).flatMap((r) => [undefined, ...whatIfCellsOf(r)].map((m) => ({ revision: r, whatIf: m })))) {
    const required = (): string[] => [...new Set(INVARIANTS.flatMap((inv) => {
      const e = expectation(inv.id, backend, revision.id, whatIf);
      return e.verdict === 'violated' ? e.bugs.map((b) => b.id) : [];
    }))].filter((id) => !ownBug().has(id));
    for (const seed of seeds) {
      const todo = required();
      if (todo.length === 0) break;
      const x = explore({ backend, revision, ...(whatIf === undefined ? {} : { whatIf }), invariants: INVARIANTS, runs: CELL_RUNS[backend], seed });
      for (const f of x.findings) {
        const bug = bugForSignature(expectation(f.signature.invariant, backend, revision.id, whatIf), f.key, { mode: scenarioWhatIf(f.counterexample, revision), needs: scenarioNeeds(f.counterexample, revision) });
        if (bug === undefined || !todo.includes(bug.id) || ownBug().has(bug.id)) continue;
        const entry = saveEntry(dir, findingEntry({ backend, revision: revision.id, signature: f.key, ...f.signature, message: f.violation.message, bug: bug.id, scenario: f.counterexample }));
        console.log(`${backend}/${cellName(revision.id, whatIf)} ${bug.id} ${f.key}: ${entry.kind} ${entry.file} (seed ${seed})`);
      }
    }
    for (const id of required()) missing.push(`${backend}/${cellName(revision.id, whatIf)} ${id} (no scenario of its own)`);
  }
}

console.log(missing.length === 0 ? 'every expected signature and every required bug has a corpus scenario' : `no scenario found for:\n  ${missing.join('\n  ')}`);
process.exitCode = missing.length === 0 ? 0 : 1;
