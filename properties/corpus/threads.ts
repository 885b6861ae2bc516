import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { z } from 'zod';
import type { ConcurrentModel } from '../../model/concurrent/load.js';
import { revisionsFor } from '../../model/revisions/registry.js';
import { inPlaceSeriesOf, type Scenario } from '../../model/scenario/Scenario.js';
import { fieldPath, issuesOf, parseThreadedScenario, type SchemaProblem } from '../../model/scenario/schema.js';
import { B2_DEADLOCK, B2_SELF_DEADLOCK, expectedInterleaving, judgeThreads, knownOn, RFC_V2_FAULT_PAST_EOF, TOCTOU, type InterleaveCell, type Verdict } from '../interleave.js';
import { CorpusFileError, readCorpusJson } from './load.js';

/**
 * The regression corpus of interleavings (`corpus/threads/`): a scenario with threads and the
 * schedule that shows a finding (as `gmemcheck interleave` prints it), and the verdict every
 * x86 revision of its backend gets when that schedule is replayed on it. A schedule names a
 * thread per step, so on another revision it is a schedule of that revision's steps: replayed
 * there it is still one deterministic run, and its verdict is recorded like any other. The
 * verdict is the run's first finding with nothing set aside (a deadlock, a violation, a crash,
 * a thread stuck or never stopping), so a patch that fixes or adds a bug on that run changes it.
 */
const reasoned = { reason: z.string().min(1), link: z.string().min(1) };
const threadsVerdict = z.discriminatedUnion('verdict', [
  z.strictObject({ verdict: z.literal('holds'), ...reasoned }),
  z.strictObject({ verdict: z.literal('found'), signature: z.string().min(1), ...reasoned }),
]);

export const threadsEntrySchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9.+-]*$/, 'lower-case letters, digits, ".", "+" and "-" only'),
  about: z.string().min(1),
  /** The cell random mode found it in, the bug it is (or `new`) and its signature. */
  origin: z.strictObject({ kind: z.literal('found'), revision: z.string(), bug: z.string(), signature: z.string().min(1) }),
  scenario: z.unknown(),
  verdicts: z.record(z.string(), threadsVerdict),
});

export type ThreadsVerdict = z.infer<typeof threadsVerdict>;
export type ThreadsEntry = Omit<z.infer<typeof threadsEntrySchema>, 'scenario'> & { readonly scenario: Scenario };

export interface LoadedThreadsEntry {
  readonly file: string;
  readonly entry: ThreadsEntry;
}

/** One file of the interleavings corpus, or a CorpusFileError naming every problem. */
export function loadThreadsFile(file: string): LoadedThreadsEntry {
  const parsed = threadsEntrySchema.safeParse(readCorpusJson(file));
  if (!parsed.success) throw new CorpusFileError(file, issuesOf(parsed.error));
  const problems: SchemaProblem[] = [];
  const s = parseThreadedScenario(parsed.data.scenario);
  if ('problems' in s) problems.push(...s.problems.map((p) => ({ path: `scenario.${p.path}`, message: p.message })));
  else if (s.scenario.backend === 'cca') problems.push({ path: 'scenario.backend', message: 'threads run on snp and tdx scenarios' });
  if (parsed.data.name !== basename(file, '.json')) problems.push({ path: 'name', message: `must match the file name (${basename(file, '.json')}), got ${parsed.data.name}` });
  const backend = 'scenario' in s ? s.scenario.backend : undefined;
  const known = backend === undefined ? [] : revisionsFor(backend).map((r) => r.id);
  for (const id of Object.keys(parsed.data.verdicts)) {
    if (backend !== undefined && !known.includes(id)) problems.push({ path: fieldPath(['verdicts', id]), message: `no ${backend} revision is called ${id} (known: ${known.join(', ')})` });
  }
  if (problems.length > 0 || !('scenario' in s)) throw new CorpusFileError(file, problems);
  return { file, entry: { ...parsed.data, scenario: s.scenario } };
}

/** Every `*.json` of the folder, sorted by name; none when the folder does not exist. */
export function loadThreadsCorpus(dir: string): LoadedThreadsEntry[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.filter((f) => f.endsWith('.json')).sort().map((f) => loadThreadsFile(join(dir, f)));
}

/** The interleaving cell a stored scenario runs in on a revision. */
export function threadsCellOf(scenario: Scenario, revision: string): InterleaveCell {
  const series = inPlaceSeriesOf(scenario);
  return { backend: scenario.backend === 'tdx' ? 'tdx' : 'snp', revision, inPlace: series !== undefined, series };
}

/** The stored schedule replayed on a revision of the concurrent build: its first finding, nothing set aside. */
export function replayThreadsEntry(m: ConcurrentModel, scenario: Scenario, revision: string): { readonly verdict: 'holds' } | { readonly verdict: 'found'; readonly signature: string; readonly found: Verdict } {
  const r = m.revisionById(revision);
  if (r === undefined) throw new Error(`no revision ${revision} in the concurrent build`);
  const j = judgeThreads(m, scenario, r);
  return j.verdict.kind === 'ok' ? { verdict: 'holds' } : { verdict: 'found', signature: j.verdict.signature, found: j.verdict };
}

/**
 * Every x86 revision's verdict on the scenario, as the model gives it now, with the reason: the
 * bug interleaving is expected to show there, a bug the matrix already expects of the revision
 * in one thread (its single-thread known bugs run first on another revision's schedule), or
 * nothing known.
 */
export function recordThreadsVerdicts(m: ConcurrentModel, scenario: Scenario, origin: ThreadsEntry['origin']): Record<string, ThreadsVerdict> {
  const out: Record<string, ThreadsVerdict> = {};
  for (const r of revisionsFor(scenario.backend)) {
    const got = replayThreadsEntry(m, scenario, r.id);
    const link = r.cites[0] ?? 'properties/interleave.ts';
    if (got.verdict === 'holds') {
      out[r.id] = { verdict: 'holds', reason: `${origin.bug} does not occur on ${r.id} under this schedule`, link };
      continue;
    }
    const cell = threadsCellOf(scenario, r.id);
    const bug = expectedInterleaving(cell)?.bugs.find((b) => b.signatures.some((s) => got.signature.startsWith(s)));
    const single = got.found.kind === 'violation' && knownOn(cell)(got.found.violation);
    const reason = bug !== undefined ? `${bug.id}, expected on ${r.id} under interleaving` : single ? `a bug the matrix expects of ${r.id} in one thread (properties/matrix.ts)` : `nothing known on ${r.id}: a new finding`;
    out[r.id] = { verdict: 'found', signature: got.signature, reason, link };
  }
  return out;
}

/** How a replayed verdict differs from the recorded one (none: the same). */
export function threadsVerdictMismatch(recorded: ThreadsVerdict, got: ReturnType<typeof replayThreadsEntry>): string | undefined {
  if (recorded.verdict !== got.verdict) return `recorded ${recorded.verdict}${recorded.verdict === 'found' ? ` ${recorded.signature}` : ''}, got ${got.verdict}${got.verdict === 'found' ? ` ${got.signature}` : ''}`;
  if (recorded.verdict === 'found' && got.verdict === 'found' && recorded.signature !== got.signature) return `recorded ${recorded.signature}, got ${got.signature}`;
  return undefined;
}

/**
 * The cells the corpus keeps interleavings of (scripts/corpus-threads.ts), each with the
 * signatures it is kept for: B2's two forms on the old populate, RFC v2's WARN past the file's
 * end, B20 on each injected form of RFC v2; one cell per vendor each.
 */
export const THREADS_CORPUS_TARGETS: readonly { readonly cell: InterleaveCell; readonly signatures: readonly string[] }[] = [
  ...(['snp', 'tdx'] as const).map((backend) => ({ cell: { backend, revision: 'v6.17', inPlace: true }, signatures: [B2_DEADLOCK, B2_SELF_DEADLOCK] })),
  ...([['snp', 'v7.0'], ['tdx', 'kvm-x86-next']] as const).flatMap(([backend, revision]) => [
    { cell: { backend, revision, inPlace: true, series: 'rfc-v2' }, signatures: [RFC_V2_FAULT_PAST_EOF] },
    { cell: { backend, revision, inPlace: true, series: 'rfc-v2~check-outside-lock' }, signatures: [TOCTOU] },
    { cell: { backend, revision, inPlace: true, series: 'rfc-v2~no-safe-refcount' }, signatures: [TOCTOU] },
  ]),
];

/** `snp-v6.17-v8-deadlock`, `tdx-kvm-x86-next-rfc-v2-no-safe-refcount-no-double-private-hostmapsprivate`. */
export function threadsEntryName(cell: InterleaveCell, signature: string): string {
  return `${cell.backend}-${cell.revision}-${cell.series ?? 'v8'}-${signature.split('@')[0] ?? signature}`.toLowerCase().replace(/[^a-z0-9.+-]/g, '-').replace(/-+/g, '-');
}
