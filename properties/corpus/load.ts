import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { revisionsFor } from '../../model/revisions/registry.js';
import { asScenario, fieldPath, issuesOf, type SchemaProblem } from '../../model/scenario/schema.js';
import { corpusEntrySchema, type CorpusEntry } from './entry.js';

/** Problems shown per file: a file pasted wrong could otherwise list one per operation. */
const SHOWN_PROBLEMS = 10;

/** A corpus file that cannot be used: which file, and every field that is wrong. */
export class CorpusFileError extends Error {
  constructor(readonly file: string, readonly problems: readonly SchemaProblem[]) {
    super(CorpusFileError.describe(file, problems));
  }

  /** `file: path: problem`, one a line, the first SHOWN_PROBLEMS of them. */
  static describe(file: string, problems: readonly SchemaProblem[]): string {
    const lines = problems.slice(0, SHOWN_PROBLEMS).map((p) => `${p.path}: ${p.message}`);
    if (problems.length > SHOWN_PROBLEMS) lines.push(`... and ${problems.length - SHOWN_PROBLEMS} more problems`);
    return lines.map((l) => `${file}: ${l}`).join('\n');
  }
}

export interface LoadedEntry {
  readonly file: string;
  readonly entry: CorpusEntry;
}

/** A corpus file's JSON, or a CorpusFileError saying why it cannot be read or parsed. */
export function readCorpusJson(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = e instanceof Error && 'code' in e ? e.code : undefined;
    const message = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory, not a corpus file (.json)' : e instanceof Error ? e.message : String(e);
    throw new CorpusFileError(file, [{ path: '(file)', message }]);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new CorpusFileError(file, [{ path: '(file)', message: `not JSON: ${e instanceof Error ? e.message : String(e)}` }]);
  }
}

export function loadCorpusFile(file: string): LoadedEntry {
  const json = readCorpusJson(file);
  const parsed = corpusEntrySchema.safeParse(json);
  if (!parsed.success) throw new CorpusFileError(file, issuesOf(parsed.error));
  const entry: CorpusEntry = { ...parsed.data, scenario: asScenario(parsed.data.scenario) };
  const problems: SchemaProblem[] = [];
  if (entry.name !== basename(file, '.json')) problems.push({ path: 'name', message: `must match the file name (${basename(file, '.json')}), got ${entry.name}` });
  const known = revisionsFor(entry.scenario.backend).map((r) => r.id);
  for (const id of Object.keys(entry.verdicts)) {
    if (!known.includes(id)) problems.push({ path: fieldPath(['verdicts', id]), message: `no ${entry.scenario.backend} revision is called ${id} (known: ${known.join(', ')})` });
  }
  if (problems.length > 0) throw new CorpusFileError(file, problems);
  return { file, entry };
}

/** Every `*.json` in the corpus folder, sorted by name; the first bad file throws. */
export function loadCorpus(dir: string): LoadedEntry[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => loadCorpusFile(join(dir, f)));
}
