import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Revision } from '../model/revisions/Revision.js';
import { MUTANTS } from '../model/revisions/mutants.js';
import { REVISIONS } from '../model/revisions/registry.js';
import { loadRevisionModule } from './revisionModule.js';
import type { RevisionSource } from './workerProtocol.js';

const modules = new Map<string, Revision>();

/**
 * The revision a worker thread runs (check's worker, fuzz's pool): a built-in one by id, or a
 * reviewer's module file. A worker serves every task of its process: a file edited between two
 * checks (the review walkthrough does exactly that) is a new module, so the cache is keyed by
 * content too.
 */
export async function revisionOf(src: RevisionSource): Promise<Revision> {
  if ('builtIn' in src) {
    const r = [...REVISIONS, ...MUTANTS].find((x) => x.id === src.builtIn);
    if (r === undefined) throw new Error(`unknown revision ${src.builtIn}`);
    return r;
  }
  const key = `${src.module}\0${createHash('sha256').update(readFileSync(src.module)).digest('hex')}`;
  let r = modules.get(key);
  if (r === undefined) {
    // The CLI type-checked and validated the module before sending it here.
    r = await loadRevisionModule(src.module, { typeCheck: false });
    modules.set(key, r);
  }
  return r;
}
