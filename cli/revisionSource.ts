import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Revision } from '../model/revisions/Revision.js';
import { MUTANTS } from '../model/revisions/mutants.js';
import { REVISIONS } from '../model/revisions/registry.js';
import { loadRevisionModule } from './revisionModule.js';
import type { RevisionSource } from './workerProtocol.js';
import { kernelCRevision, type KernelCBackend, type KernelCMeta } from '../model/kernelc/revision.js';
import { compileKernelModule } from '../model/kernelc/wasm.js';

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
  if ('kernelC' in src) return kernelCOf(src.kernelC, src.meta);
  const key = `${src.module}\0${createHash('sha256').update(readFileSync(src.module)).digest('hex')}`;
  let r = modules.get(key);
  if (r === undefined) {
    // The CLI type-checked and validated the module before sending it here.
    r = await loadRevisionModule(src.module, { typeCheck: false });
    modules.set(key, r);
  }
  return r;
}

const builds = new Map<string, Revision>();

/** A kernel tree's build (`gmemcheck kernel`), compiled once per worker. */
function kernelCOf(wasm: readonly (readonly [KernelCBackend, string])[], meta: KernelCMeta): Revision {
  const files = wasm.map(([b, path]) => [b, readFileSync(path)] as const);
  const hash = createHash('sha256');
  for (const [b, bytes] of files) hash.update(b).update(bytes);
  const key = `${wasm.map(([, p]) => p).join('\0')}\0${hash.digest('hex')}`;
  let r = builds.get(key);
  if (r === undefined) {
    r = kernelCRevision(meta, new Map(files.map(([b, bytes]) => [b, compileKernelModule(bytes)])));
    builds.set(key, r);
  }
  return r;
}
