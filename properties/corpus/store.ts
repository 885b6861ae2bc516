import { existsSync, linkSync, mkdirSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Scenario } from '../../model/scenario/Scenario.js';
import { corpusEntrySchema, type CorpusEntry } from './entry.js';
import { jsonReplacer } from '../../model/kernel/u64.js';

/** JSON with object keys sorted, so equal scenarios give equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (k, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : jsonReplacer(k, v),
  );
}

/** The corpus file that already holds this exact scenario, if one does. Unreadable files are skipped. */
export function findDuplicate(dir: string, scenario: Scenario): string | undefined {
  if (!existsSync(dir)) return undefined;
  const want = canonicalJson(scenario);
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.json')).sort()) {
    try {
      const parsed = corpusEntrySchema.safeParse(JSON.parse(readFileSync(join(dir, f), 'utf8')));
      if (parsed.success && canonicalJson(parsed.data.scenario) === want) return join(dir, f);
    } catch {
      // A broken file is reported by the loader, not here.
    }
  }
  return undefined;
}

export type SaveResult = { readonly kind: 'written'; readonly file: string } | { readonly kind: 'duplicate'; readonly file: string };

/**
 * Writes a new corpus entry, never over an existing file and never half-written: the text goes
 * to a temporary file that is then hard-linked under its final name (which fails rather than
 * replace a file), so a reader sees either no file or the whole of it. A scenario already in the
 * corpus is not written again. The name gets `-2`, `-3`... if taken by a different scenario.
 */
export function saveEntry(dir: string, entry: CorpusEntry): SaveResult {
  const dup = findDuplicate(dir, entry.scenario);
  if (dup !== undefined) return { kind: 'duplicate', file: dup };
  mkdirSync(dir, { recursive: true });
  for (let n = 1; n < 1000; n++) {
    const name = n === 1 ? entry.name : `${entry.name}-${n}`;
    const file = join(dir, `${name}.json`);
    if (existsSync(file)) continue;
    const tmp = join(dir, `.${name}.${process.pid}.tmp`);
    writeFileSync(tmp, `${JSON.stringify({ ...entry, name }, jsonReplacer, 2)}\n`, { flag: 'wx' });
    try {
      linkSync(tmp, file);
      return { kind: 'written', file };
    } catch (e) {
      if (!(e instanceof Error && 'code' in e && e.code === 'EEXIST')) throw e;
    } finally {
      unlinkSync(tmp);
    }
  }
  throw new Error(`${dir}: no free name for ${entry.name}`);
}
