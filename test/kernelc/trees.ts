import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { main } from '../../cli/main.js';
import { explore, scenarioSize, type ExploreSpec } from '../../properties/explore.js';
import { CLANG, build, treeKnows } from '../../kernelc/compile.js';
import { BACKENDS, extract } from '../../kernelc/extract.js';
import { kernelCRevision, type GmemApi, type KernelCBackend } from '../../model/kernelc/revision.js';
import { compileKernelModule } from '../../model/kernelc/wasm.js';
import type { Revision } from '../../model/revisions/Revision.js';
import { REVISIONS } from '../../model/revisions/registry.js';

/**
 * Kernel trees for kernel mode's tests: the fixture trees (C written here in the kernel's layout:
 * test/fixtures/kernel-trees/next with the behaviour of the kvm-x86-next revision, .../old with
 * that of kvm-x86-next-2025.11.07, the v6.11 .. v6.19 API, .../arm with that of rmi-newest), and
 * copies of them with one edit, as a reviewer's patch would make.
 */
export const FIXTURE_TREE = join(import.meta.dirname, '../fixtures/kernel-trees/next');
/** The v6.11 .. v6.19 API generation, with the kvm-x86-next-2025.11.07 revision's behaviour. */
export const FIXTURE_OLD_TREE = join(import.meta.dirname, '../fixtures/kernel-trees/old');
/** An arm64 tree with the RMI series (RMM 2.0), with the rmi-newest revision's behaviour. */
export const FIXTURE_ARM_TREE = join(import.meta.dirname, '../fixtures/kernel-trees/arm');

export interface Edit {
  readonly file: string;
  readonly from: string;
  readonly to: string;
}

/** A copy of a fixture tree with each edit's `from` replaced by its `to` (the text must be there). */
export function editsOfTree(tree: string, ...edits: readonly Edit[]): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'gmemcheck-tree-')), 'tree');
  cpSync(tree, dir, { recursive: true });
  for (const { file, from, to } of edits) {
    const path = join(dir, file);
    const text = readFileSync(path, 'utf8');
    if (!text.includes(from)) throw new Error(`${file} of the fixture tree has no '${from}'`);
    writeFileSync(path, text.replace(from, to));
  }
  return dir;
}

/** A copy of the fixture tree (test/fixtures/kernel-trees/next) with each edit made. */
export function editsOf(...edits: readonly Edit[]): string {
  return editsOfTree(FIXTURE_TREE, ...edits);
}

/** A copy of the fixture tree without `file` (a tree that has one vendor's code only). */
export function treeWithout(file: string): string {
  const dir = editsOf();
  rmSync(join(dir, file));
  return dir;
}

/** A copy of a fixture tree (by default .../next) with `from` replaced by `to` in `file`. */
export function editedTree(file: string, from: string, to: string, tree = FIXTURE_TREE): string {
  return editsOfTree(tree, { file, from, to });
}

/**
 * clang and wasm-ld, which `.ci/run` installs (Debian's clang and lld). Without them the tests
 * that build C are skipped with a warning outside CI, and fail in CI.
 */
export const haveClang = spawnSync(CLANG, ['--version']).status === 0 && spawnSync('wasm-ld', ['--version']).status === 0;
if (!haveClang && process.env.CI === undefined) console.warn(`kernel-mode build tests skipped: no ${CLANG} or wasm-ld (apt-get install clang lld)`);
export const testWithClang = haveClang || process.env.CI !== undefined ? test : test.skip;

/** A tree's populate C as the revision `gmemcheck kernel` runs, built for `backends`. */
export function treeRevision(tree: string, id: string, backends: readonly KernelCBackend[] = ['snp']): Revision {
  const modules = new Map<KernelCBackend, WebAssembly.Module>();
  let api: GmemApi | undefined;
  for (const b of backends) {
    const x = extract(tree, b);
    const r = build(x, BACKENDS[b].files, treeKnows(tree));
    if (r.kind !== 'built') throw new Error(`${tree} does not build for ${b}: ${JSON.stringify(r)}`);
    modules.set(b, compileKernelModule(r.wasm));
    api = x.api;
  }
  if (api === undefined) throw new Error('treeRevision() needs a backend');
  return kernelCRevision({ id, title: id, cites: [tree], api }, modules);
}

/** `gmemcheck ARGS` in-process: its exit status and what it wrote to stdout and stderr. */
export async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(args, (t) => (out += t), (t) => (err += t));
  return { code, out, err };
}

const builtInSeen = new Map<string, Record<string, number>>();

/**
 * Every signature a cell's runs show, with how many runs showed it: nothing shrunk, no model
 * error. A built-in revision's answer is kept for the file's other tests (the run-for-run
 * comparison and the seeded bugs' baseline ask for the same cell).
 */
export function seen(s: ExploreSpec): Record<string, number> {
  const builtIn = REVISIONS.includes(s.revision);
  const key = JSON.stringify([s.backend, s.revision.id, s.whatIf, s.invariants.map((i) => i.id), s.runs, s.seed]);
  const kept = builtIn ? builtInSeen.get(key) : undefined;
  if (kept !== undefined) return kept;
  const x = explore({ ...s, shrinkIf: () => false });
  expect(x.modelErrors).toEqual([]);
  const out = Object.fromEntries([...(x.counted ?? []), ...x.findings].map((f) => [f.key, f.runsWithIt]));
  if (builtIn) builtInSeen.set(key, out);
  return out;
}

/** A bug seeded into one file of a fixture tree, and the signature it must show. */
export interface SeededBug {
  readonly name: string;
  readonly from: string;
  readonly to: string;
  readonly key: string;
  /** The most operations its counterexample may shrink to. */
  readonly ops: number;
}

/**
 * A test per seeded bug: the tree with the edit, as a revision (`revisionOf`), shows `key` (a
 * signature the built-in `base` does not show under the same spec), shrunk to `ops` operations.
 */
export function seededBugTests(o: { readonly tree: string; readonly file: string; readonly spec: (r: Revision) => ExploreSpec; readonly revisionOf: (tree: string) => Revision; readonly base: Revision; readonly cases: readonly SeededBug[] }): void {
  let baseline: Record<string, number> | undefined;
  for (const c of o.cases) {
    testWithClang(c.name, () => {
      baseline ??= seen(o.spec(o.base));
      const before = baseline;
      const x = explore({ ...o.spec(o.revisionOf(editedTree(o.file, c.from, c.to, o.tree))), wanted: (key) => !(key in before) });
      expect(x.modelErrors).toEqual([]);
      const f = x.findings.find((g) => g.key === c.key);
      expect(f?.key, `found instead: ${x.findings.map((g) => g.key).join(', ')}`).toBe(c.key);
      if (f !== undefined) expect(scenarioSize(f.counterexample).ops).toBeLessThanOrEqual(c.ops);
    }, 120_000);
  }
}
