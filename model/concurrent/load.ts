import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildConcurrent } from './build.js';
import type * as RunThreads from '../scenario/runThreads.js';
import type * as Registry from '../revisions/registry.js';
import type * as Mutants from '../revisions/mutants.js';

/**
 * The concurrent build's entry points (build.ts): `runThreads` and the revisions as that build
 * emits them. A revision object of the sequential model cannot run there (its functions do not
 * yield), so threads run built-in revisions and injected bugs, by id.
 */
export interface ConcurrentModel {
  readonly runThreads: typeof RunThreads.runThreads;
  readonly revisionById: typeof Registry.revisionById;
  readonly mutantById: (id: string) => Mutants.Mutant | undefined;
  readonly build: ReturnType<typeof buildConcurrent>;
}

let loaded: Promise<ConcurrentModel> | undefined;

export function loadConcurrent(): Promise<ConcurrentModel> {
  loaded ??= (async () => {
    const build = buildConcurrent();
    const at = (file: string): string => pathToFileURL(join(build.dir, 'model', file)).href;
    const threads = (await import(at('scenario/runThreads.js'))) as typeof RunThreads;
    const registry = (await import(at('revisions/registry.js'))) as typeof Registry;
    const mutants = (await import(at('revisions/mutants.js'))) as typeof Mutants;
    return {
      runThreads: threads.runThreads,
      revisionById: registry.revisionById,
      mutantById: (id) => mutants.MUTANTS.find((m) => m.id === id),
      build,
    };
  })();
  return loaded;
}
