import { existsSync, linkSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import type { Revision } from '../../model/revisions/Revision.js';
import { REPO_ROOT, RevisionModuleError, shownPath } from '../revisionModule.js';

export interface NewRevisionOptions {
  readonly name: string;
  readonly from: Revision;
  /** Absolute path of the file to write. */
  readonly out: string;
}

/** `'../kernel/errno.js'` in model/revisions/X.ts, as seen from the new file's folder. */
function rebase(spec: string, outDir: string): string {
  const target = resolve(REPO_ROOT, 'model', 'revisions', spec);
  const rel = relative(outDir, target).split(sep).join('/');
  return rel.startsWith('.') ? rel : `./${rel}`;
}

/**
 * Writes a copy of a built-in revision's file, ready to edit: the same functions with their
 * kernel names and citations, imports re-pointed at this checkout, and a default export that
 * gives the copy its own id. Functions the revision takes from an older one stay imported; copy
 * them into the file to change them. Never overwrites a file.
 */
export function runNewRevision(o: NewRevisionOptions, write: (s: string) => void): number {
  const source = join(REPO_ROOT, 'model', 'revisions', `${o.from.id}.ts`);
  const text = readFileSync(source, 'utf8');
  const exported = /export const (\w+): Revision = \{/.exec(text)?.[1];
  if (exported === undefined) throw new Error(`${source}: no \`export const NAME: Revision\` to copy`);
  const outDir = dirname(o.out);
  const body = text.replace(/from '(\.{1,2}\/[^']+)'/g, (_m, spec: string) => `from '${rebase(spec, outDir)}'`);
  const shown = shownPath(o.out);
  const footer = [
    '',
    `// ---- ${o.name}: an editable copy of model/revisions/${o.from.id}.ts, made by \`gmemcheck new-revision\` ----`,
    '// Edit the functions above; functions imported from other revisions are used as they are',
    '// unless you copy them here. Check it with:',
    `//   npx gmemcheck check --revision-module ${shown}`,
    `export default { ...${exported}, id: '${o.name}', title: '${o.name} (edited copy of ${o.from.id})', derivedFrom: '${o.from.id}' } satisfies Revision;`,
    '',
  ].join('\n');
  if (existsSync(o.out)) throw new RevisionModuleError(shown, 'already exists; not overwritten (choose another --out)');
  // Refused rather than created: a folder that is not there is more often a typo than a wish.
  if (!existsSync(outDir)) throw new RevisionModuleError(shown, `cannot be written: there is no folder ${shownPath(outDir)} (create it, or choose another --out)`);
  if (!statSync(outDir).isDirectory()) throw new RevisionModuleError(shown, `cannot be written: ${shownPath(outDir)} is not a folder`);
  const tmp = join(outDir, `.${o.name}.${process.pid}.tmp`);
  try {
    writeFileSync(tmp, body + footer, { flag: 'wx' });
  } catch (e) {
    throw new RevisionModuleError(shown, `cannot be written: ${e instanceof Error ? e.message : String(e)}`);
  }
  try {
    linkSync(tmp, o.out);
  } catch (e) {
    throw new RevisionModuleError(shown, `cannot be written: ${e instanceof Error ? e.message : String(e)}`);
  } finally {
    unlinkSync(tmp);
  }
  write(`wrote ${shown}: a copy of ${o.from.id} named ${o.name}\nnext: edit it, then  npx gmemcheck check --revision-module ${shown}\n`);
  return 0;
}
