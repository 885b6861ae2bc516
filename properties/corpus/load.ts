import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { revisionsFor } from '../../model/revisions/registry.js';
import { asScenario, issuesOf, type SchemaProblem } from '../../model/scenario/schema.js';
import { corpusEntrySchema, type CorpusEntry } from './entry.js';

/** A corpus file that cannot be used: which file, and every field that is wrong. */
export class CorpusFileError extends Error {
  constructor(readonly file: string, readonly problems: readonly SchemaProblem[]) {
    super(`${file}: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`);
  }
}

export interface LoadedEntry {
  readonly file: string;
  readonly entry: CorpusEntry;
}

export function loadCorpusFile(file: string): LoadedEntry {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new CorpusFileError(file, [{ path: '(file)', message: e instanceof Error ? e.message : String(e) }]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new CorpusFileError(file, [{ path: '(file)', message: `not JSON: ${e instanceof Error ? e.message : String(e)}` }]);
  }
  const parsed = corpusEntrySchema.safeParse(json);
  if (!parsed.success) throw new CorpusFileError(file, issuesOf(parsed.error));
  const entry: CorpusEntry = { ...parsed.data, scenario: asScenario(parsed.data.scenario) };
  const problems: SchemaProblem[] = [];
  if (entry.name !== basename(file, '.json')) problems.push({ path: 'name', message: `must match the file name (${basename(file, '.json')}), got ${entry.name}` });
  const known = revisionsFor(entry.scenario.backend).map((r) => r.id);
  for (const id of Object.keys(entry.verdicts)) {
    if (!known.includes(id)) problems.push({ path: `verdicts.${id}`, message: `no ${entry.scenario.backend} revision is called ${id} (known: ${known.join(', ')})` });
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
