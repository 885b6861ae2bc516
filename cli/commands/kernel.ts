import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { CheckOptions } from '../args.js';
import type { Revision } from '../../model/revisions/Revision.js';
import { jsonReplacer } from '../../model/kernel/u64.js';
import type { Comparison } from '../../properties/compare.js';
import { sharedRunner } from '../runner.js';
import type { RevisionSource } from '../workerProtocol.js';
import { CELL_RUNS } from '../../properties/explore.js';
import { opText } from '../../reports/format.js';
import { UsageError } from '../args.js';
import { BACKENDS, ExtractError, extract, type Extraction } from '../../kernelc/extract.js';
import { build, treeKnows, type Diagnostic } from '../../kernelc/compile.js';
import { BASE_REVISION, kernelCRevision, type KernelCMeta } from '../../model/kernelc/revision.js';
import { compileKernelModule } from '../../model/kernelc/wasm.js';
import { runCheck, type CheckIo } from './check.js';

/**
 * `gmemcheck kernel --tree DIR`: a kernel tree's own populate C (typically with the patch under
 * review applied) extracted, built against the prelude and run as a revision under every
 * invariant, exactly as `check` runs a built-in one; its cells are compared with the matrix row
 * of the built-in revision of the same API generation. Exit status: as check's (0, 1, 130), 1
 * also when the tree's code does not build (the patch's fault, with the compiler's messages at
 * the tree's own lines), 2 when it cannot be run: no such tree, a file or entry function
 * missing, an API generation kernel mode does not know, or code the prelude does not declare
 * yet (gmemcheck's fault, naming each missing declaration).
 */
export interface KernelOptions {
  /** The tree, as resolved against where gmemcheck was started. */
  readonly tree: string;
  /** As typed, for messages. */
  readonly treeShown: string;
  /** `--compare REV`: differential runs against a built-in revision instead of a check. */
  readonly compare: Revision | undefined;
  readonly check: CheckOptions;
}

/** A kernel-mode failure that is not the tree's: exit status 2. */
export class KernelModeError extends Error {}

function gitCommit(tree: string): string | null {
  if (!existsSync(join(tree, '.git'))) return null;
  const r = spawnSync('git', ['-C', tree, 'rev-parse', 'HEAD'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

/** A revision id from the tree's folder name (`kernel-linux`), in the form revision ids take. */
export function kernelRevisionId(tree: string): string {
  const name = basename(tree).toLowerCase().replace(/[^a-z0-9.+-]+/g, '-').replace(/^-+|-+$/g, '');
  return `kernel-${name === '' ? 'tree' : name}`;
}

export interface TakenReport {
  readonly file: string;
  readonly lines: string;
  readonly kind: string;
  readonly name: string | null;
}

function taken(x: Extraction): TakenReport[] {
  return x.taken.map((t) => ({ file: t.file, lines: `${t.unit.startLine}-${t.unit.endLine}`, kind: t.unit.kind, name: t.unit.name }));
}

function diagnosticText(tree: string, d: Diagnostic): string {
  return `${join(tree, d.file)}:${d.line}:${d.column}: ${d.severity}: ${d.message}`;
}

export async function runKernel(o: KernelOptions, io: CheckIo): Promise<number> {
  if (!existsSync(o.tree) || !statSync(o.tree).isDirectory()) throw new UsageError(`--tree ${o.treeShown}: no such folder`);
  const backends = o.check.backends.filter((b) => b === 'snp');
  if (backends.length === 0) throw new UsageError(`kernel mode covers the snp backend so far, not ${o.check.backends.join(', ')}`);
  let x: Extraction;
  try {
    x = extract(o.tree, 'snp');
  } catch (e) {
    if (e instanceof ExtractError) throw new KernelModeError(e.message);
    throw e;
  }
  const base = BASE_REVISION[x.api];
  if (base === null) {
    throw new KernelModeError(`${o.treeShown} has the v6.11-v6.19 kvm_gmem_populate() API (the callback copies from the user source); kernel mode runs v7.0 and later trees so far: check this generation's revisions with gmemcheck check --revision v6.17`);
  }
  const commit = gitCommit(o.tree);
  const where = `${o.treeShown}${commit === null ? '' : `@${commit}`}`;
  const list = taken(x);
  const about = { kernel: { tree: o.treeShown, commit, api: x.api, base, taken: list } };
  const info = [
    `kernel mode: ${where}, kvm_gmem_populate() API ${x.api.replace('KSHIM_GMEM_API_', '')}, compared with ${base}`,
    ...list.map((t) => `  took ${t.file}:${t.lines} ${t.kind === 'function' ? `${t.name ?? ''}()` : (t.name ?? t.kind)}`),
  ].join('\n');
  const r = build(x, BACKENDS.snp.files, treeKnows(o.tree));
  switch (r.kind) {
    case 'toolchain':
      throw new KernelModeError(r.message);
    case 'prelude-gap':
      throw new KernelModeError(`the tree's populate code uses what gmemcheck's kernel prelude (kernelc/prelude) does not declare yet, or declares otherwise: ${r.missing.join(', ')}\n${r.output.trim()}`);
    case 'tree-error':
      if (o.check.json) io.write(`${JSON.stringify({ ...about, build: { kind: 'tree-error', diagnostics: r.diagnostics.map((d) => ({ ...d, file: join(o.tree, d.file) })) }, exit: 1 }, null, 2)}\n`);
      else io.write(`${info}\n\n${o.treeShown} does not build: the populate path's own code fails to compile\n${r.diagnostics.map((d) => diagnosticText(o.tree, d)).join('\n')}\nexit 1: the tree's code does not build\n`);
      return 1;
    case 'built':
      break;
  }
  if (!o.check.json) io.write(`${info}\n\n`);
  const dir = join(tmpdir(), 'gmemcheck-kernel');
  mkdirSync(dir, { recursive: true });
  const wasm = join(dir, `${createHash('sha256').update(r.wasm).digest('hex').slice(0, 16)}.${process.pid}.wasm`);
  writeFileSync(wasm, r.wasm);
  const meta: KernelCMeta = {
    id: kernelRevisionId(o.tree),
    title: `the populate path of ${where}`,
    cites: list.filter((t) => t.kind === 'function').map((t) => `${where}:${t.file}:${t.lines} ${t.name ?? ''}`),
    api: x.api,
  };
  const revision = kernelCRevision(meta, compileKernelModule(r.wasm));
  const source: RevisionSource = { kernelC: wasm, meta };
  try {
    if (o.compare !== undefined) return await runCompare(o, revision, o.compare, source, about, io);
    return await runCheck({ ...o.check, backends }, [{ revision, source, ref: { id: meta.id, tree: o.treeShown, derivedFrom: base } }], io, about);
  } finally {
    // The worker has compiled it by now; nothing else reads it.
    rmSync(wasm, { force: true });
  }
}

function comparisonText(mine: Revision, other: Revision, c: Comparison, seed: number): string {
  const head = `compared ${mine.id} with ${other.id} on ${c.runs} generated scenario(s), seed ${seed}`;
  const d = c.difference;
  if (d === null) return `${head}: no difference\nexit 0: the tree's C and ${other.id} did the same\n`;
  const indent = (t: string): string => t.trimEnd().split('\n').map((l) => `    ${l}`).join('\n');
  return [
    `${head}: run ${d.run} differs; minimized to ${d.scenario.ops.length} operation(s):`,
    ...d.scenario.ops.map((op, i) => `  ${i === d.opIndex ? '>' : ' '} ${i} ${opText(op)}`),
    `  at operation ${d.opIndex}, ${mine.id} (the tree's C):`, indent(d.a),
    `  ${other.id}:`, indent(d.b),
    `exit 1: the tree's C and ${other.id} differ`, '',
  ].join('\n');
}

async function runCompare(o: KernelOptions, mine: Revision, other: Revision, source: RevisionSource, about: Readonly<Record<string, unknown>>, io: CheckIo): Promise<number> {
  if (!other.backends.includes('snp')) throw new UsageError(`--compare ${other.id}: it has no snp backend`);
  const runs = o.check.runs ?? CELL_RUNS.snp;
  // In the worker, under the watchdog: a loop in the tree's C that calls no kernel service ends
  // as a reported hang, not a hung gmemcheck.
  const runner = sharedRunner();
  runner.begin();
  const outcome = await runner.run({ kind: 'compare', backend: 'snp', revision: source, other: other.id, runs, seed: o.check.seed });
  switch (outcome.kind) {
    case 'compared': {
      const c = outcome.comparison;
      const code = c.difference === null ? 0 : 1;
      if (o.check.json) io.write(`${JSON.stringify({ ...about, compare: { with: other.id, seed: o.check.seed, ...c }, exit: code }, jsonReplacer, 2)}\n`);
      else io.write(comparisonText(mine, other, c, o.check.seed));
      return code;
    }
    case 'hung':
    case 'died': {
      const what = outcome.kind === 'hung' ? `stopped making progress for ${outcome.seconds.toFixed(1)} s` : `died (${outcome.error})`;
      io.write(`the run ${what} on ${outcome.phase === 'explore' ? `scenario ${outcome.run}` : 'a scenario being minimized'}:\n${outcome.scenario.ops.map((op, i) => `  ${i} ${opText(op)}`).join('\n')}\nexit 1: ${outcome.kind === 'hung' ? `the tree's C spun without calling the kernel (a soft lockup only the wall clock sees; ${other.id} runs under the model's work budget)` : 'the run died'}\n`);
      return 1;
    }
    case 'aborted':
      return 130;
    case 'failed':
    case 'done':
    case 'not-reproduced':
      throw new Error(`kernel --compare: the worker answered ${outcome.kind}${outcome.kind === 'failed' ? `: ${outcome.error}` : ''}`);
  }
}
