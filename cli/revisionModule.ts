import { copyFileSync, existsSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { threadId } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import type TS from 'typescript';
import { BACKENDS } from '../model/backends/registry.js';
import { ENTRY_POINTS, type Revision } from '../model/revisions/Revision.js';
import { REVISIONS } from '../model/revisions/registry.js';
import { MUTANTS } from '../model/revisions/mutants.js';

/** A revision module that cannot be used: the file, and what is wrong with it (exit status 2). */
export class RevisionModuleError extends Error {
  constructor(readonly file: string, readonly problem: string) {
    super(`${file}: ${problem}`);
  }
}

export const REPO_ROOT = join(import.meta.dirname, '..');

let loads = 0;

/** A path the user typed, relative to where they ran npm (npm run changes to the package root). */
export function userPath(p: string): string {
  return isAbsolute(p) ? p : resolve(process.env.INIT_CWD ?? process.cwd(), p);
}

/** How to show a path to the user: relative to where they ran gmemcheck. */
export function shownPath(file: string): string {
  return relative(process.env.INIT_CWD ?? process.cwd(), file) || file;
}

const revisionShape = z.object({
  id: z.string().regex(/^[a-z0-9][a-z0-9.+-]*$/, 'must be lower-case letters, digits, ".", "+" and "-"'),
  title: z.string().min(1),
  backends: z.array(z.enum(Object.keys(BACKENDS) as [keyof typeof BACKENDS, ...(keyof typeof BACKENDS)[]])).min(1),
  cites: z.array(z.string().min(1)).min(1, 'cite where the C lives (a lore link or repo:path@commit)'),
  fns: z.record(z.string(), z.unknown()),
  derivedFrom: z.string().refine((id) => REVISIONS.some((r) => r.id === id), 'must name a built-in revision').optional(),
  arm: z.strictObject({
    rmm: z.enum(['v1.0', 'v2.0']),
    uapi: z.enum(['rme-cap', 'rmi-populate-bytes', 'rmi-populate-writeback']),
    privateTracking: z.enum(['vm-attributes', 'guest_memfd']),
  }).optional(),
});

/** The compiler, loaded once, and the last program, whose unchanged files a new one reuses. */
let compiler: typeof TS | undefined;
let previous: TS.Program | undefined;

/**
 * Type-checks the module with the project's compiler settings and the compiler it pins, so a
 * revision that does not fit the kernel-services API fails here with tsc's own message rather
 * than at run time in the middle of a scenario. In-process, through the compiler API: a process
 * that checks several modules (a test suite, a reviewer's session) builds the model's half of
 * the program once.
 */
async function typeCheck(file: string): Promise<string[]> {
  const ts = (compiler ??= (await import('typescript')).default);
  const base = ts.readConfigFile(join(REPO_ROOT, 'tsconfig.json'), (f) => ts.sys.readFile(f));
  const json = base.config as { compilerOptions?: Record<string, unknown> };
  const config = {
    // A file outside this package is not under its "type": "module"; check it as an ES module either way.
    compilerOptions: { ...json.compilerOptions, noEmit: true, module: 'preserve', moduleResolution: 'bundler', typeRoots: [join(REPO_ROOT, 'node_modules', '@types')] },
    files: [file],
    include: [],
  };
  const parsed = ts.parseJsonConfigFileContent(config, ts.sys, REPO_ROOT);
  const program = ts.createProgram({ rootNames: [file], options: parsed.options, ...(previous === undefined ? {} : { oldProgram: previous }) });
  previous = program;
  const diagnostics = ts.getPreEmitDiagnostics(program);
  if (diagnostics.length === 0) return [];
  const host = { getCanonicalFileName: (f: string) => f, getCurrentDirectory: () => dirname(file), getNewLine: () => '\n' };
  return ts.formatDiagnostics(diagnostics, host).split('\n').filter((l) => l.trim() !== '');
}

/**
 * Loads a reviewer's revision from a TypeScript file outside the tree: its default export (or
 * `export const revision`) must be a Revision (model/revisions/Revision.ts) with the entry points
 * of every backend it claims. Each failure names the file and what is missing.
 */
export async function loadRevisionModule(pathArg: string, opts: { readonly typeCheck?: boolean } = {}): Promise<Revision> {
  const file = userPath(pathArg);
  const shown = shownPath(file);
  if (!existsSync(file)) throw new RevisionModuleError(shown, 'no such file');
  if (statSync(file).isDirectory()) throw new RevisionModuleError(shown, 'is a directory; a revision module is a .ts file (see new-revision)');
  if (!statSync(file).isFile()) throw new RevisionModuleError(shown, 'is not a regular file; a revision module is a .ts file');
  if (!/\.(ts|mts)$/.test(file)) throw new RevisionModuleError(shown, 'a revision module is a TypeScript file (.ts or .mts)');
  // A worker thread loading a module the CLI has already checked skips the 0.3 s tsc run.
  const errors = opts.typeCheck === false ? [] : await typeCheck(file);
  if (errors.length > 0) {
    throw new RevisionModuleError(shown, `does not type-check:\n  ${errors.slice(0, 12).join('\n  ')}${errors.length > 12 ? `\n  ... ${errors.length - 12} more` : ''}`);
  }
  let mod: Record<string, unknown>;
  // Module loaders cache by path, and ignore a query: load a fresh copy, beside the file so its
  // relative imports resolve, so an edited file is seen again by a process that loaded it before.
  // `.mts`: an ES module whatever package.json (if any) sits above the user's file, which a
  // worker thread's tsx would otherwise load as CommonJS.
  const copy = join(dirname(file), `.${basename(file)}.${process.pid}.${threadId}.${++loads}.mts`);
  copyFileSync(file, copy);
  try {
    mod = (await import(pathToFileURL(copy).href)) as Record<string, unknown>;
  } catch (e) {
    throw new RevisionModuleError(shown, `does not load: ${e instanceof Error ? e.message : String(e)}`);
  } finally {
    rmSync(copy, { force: true });
  }
  const value = mod.default ?? mod.revision;
  if (value === undefined) {
    throw new RevisionModuleError(shown, `exports no revision: expected \`export default\` (or \`export const revision\`) of type Revision; it exports ${Object.keys(mod).join(', ') || 'nothing'}`);
  }
  const parsed = revisionShape.safeParse(value);
  if (!parsed.success) {
    throw new RevisionModuleError(shown, `is not a Revision: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(export)'}: ${i.message}`).join('; ')}`);
  }
  const r = parsed.data;
  const missing = r.backends.flatMap((b) => ENTRY_POINTS[b].filter((fn) => typeof r.fns[fn] !== 'function').map((fn) => `${fn} (${b})`));
  if (missing.length > 0) throw new RevisionModuleError(shown, `fns lacks the entry point(s) ${missing.join(', ')}`);
  if (r.backends.includes('cca') && r.arm === undefined) throw new RevisionModuleError(shown, 'a cca revision needs `arm: { rmm, uapi, privateTracking }`');
  if ([...REVISIONS, ...MUTANTS].some((b) => b.id === r.id)) {
    throw new RevisionModuleError(shown, `id '${r.id}' is a built-in revision's; give your revision its own id`);
  }
  return value as Revision;
}
