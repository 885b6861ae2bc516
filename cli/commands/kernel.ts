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
import { BACKENDS, ExtractError, OlderGenerationError, extract, type Extraction } from '../../kernelc/extract.js';
import { build, treeKnows, type Diagnostic } from '../../kernelc/compile.js';
import { KERNEL_C_BACKENDS, baseRevisionId, kernelCRevision, type KernelCBackend, type KernelCMeta } from '../../model/kernelc/revision.js';
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

/** A backend's build, before anything runs. */
interface Built {
  readonly backend: KernelCBackend;
  readonly wasm: Uint8Array;
}

/**
 * The backends to build: the ones asked for, or with `--backend all` every one whose vendor file
 * the tree has (an x86 tree is checked for SNP and TDX and says CCA was skipped, an Arm tree the
 * other way round).
 */
function chosenBackends(o: KernelOptions): { backends: KernelCBackend[]; skipped: string[] } {
  const asked = KERNEL_C_BACKENDS.filter((b) => o.check.backends.includes(b));
  if (o.check.backends.length === 1) return { backends: asked, skipped: [] };
  const vendorFile = (b: KernelCBackend): string => BACKENDS[b].files[BACKENDS[b].files.length - 1] ?? '';
  const backends = asked.filter((b) => existsSync(join(o.tree, vendorFile(b))));
  const skipped = asked.filter((b) => !backends.includes(b)).map((b) => `${b}: ${vendorFile(b)} is not in the tree`);
  if (backends.length === 0) throw new KernelModeError(`${o.treeShown} has none of ${asked.map(vendorFile).join(', ')}: kernel mode finds the populate path there`);
  return { backends, skipped };
}

export async function runKernel(o: KernelOptions, io: CheckIo): Promise<number> {
  if (!existsSync(o.tree) || !statSync(o.tree).isDirectory()) throw new UsageError(`--tree ${o.treeShown}: no such folder`);
  const chosen = chosenBackends(o);
  const skipped = [...chosen.skipped];
  if (o.compare !== undefined) {
    const other = o.compare;
    if (!chosen.backends.some((b) => other.backends.includes(b))) throw new UsageError(`--compare ${other.id}: it has no ${chosen.backends.join(' or ')} backend`);
  }
  // A vendor path of a generation kernel mode does not run yet is skipped under --backend all,
  // and said so; anything else missing (a renamed entry, no kvm_host.h) refuses the tree: exit 2.
  const xs: { backend: KernelCBackend; x: Extraction }[] = [];
  for (const backend of chosen.backends) {
    try {
      xs.push({ backend, x: extract(o.tree, backend) });
    } catch (e) {
      if (!(e instanceof ExtractError)) throw e;
      if (!(e instanceof OlderGenerationError) || o.check.backends.length === 1) throw new KernelModeError(e.message);
      skipped.push(`${backend}: ${e.message}`);
    }
  }
  if (xs.length === 0) throw new KernelModeError(`no populate path to run in ${o.treeShown}:\n${skipped.map((t) => `  ${t}`).join('\n')}`);
  const backends = xs.map((x) => x.backend);
  const api = xs[0]?.x.api ?? 'KSHIM_GMEM_API_PAGE_WB';
  // The row each backend's verdicts are compared with: x86 by API generation, Arm its own.
  const bases = [...new Set(backends.map((b) => baseRevisionId(b, api)))];
  const base = bases.join(', ');
  const commit = gitCommit(o.tree);
  const where = `${o.treeShown}${commit === null ? '' : `@${commit}`}`;
  const lists = xs.map(({ backend, x }) => ({ backend, list: taken(x) }));
  const about = { kernel: { tree: o.treeShown, commit, api, base: Object.fromEntries(backends.map((b) => [b, baseRevisionId(b, api)])), backends, skipped, taken: Object.fromEntries(lists.map(({ backend, list }) => [backend, list])) } };
  const info = [
    `kernel mode: ${where}, kvm_gmem_populate() API ${api.replace('KSHIM_GMEM_API_', '')}, compared with ${base}`,
    ...skipped.map((t) => `  skipped ${t}`),
    ...lists.flatMap(({ backend, list }) => list.map((t) => `  ${backend}: took ${t.file}:${t.lines} ${t.kind === 'function' ? `${t.name ?? ''}()` : (t.name ?? t.kind)}`)),
  ].join('\n');
  const knows = treeKnows(o.tree);
  const built: Built[] = [];
  const treeErrors: { backend: KernelCBackend; diagnostics: readonly Diagnostic[] }[] = [];
  for (const { backend, x } of xs) {
    const r = build(x, BACKENDS[backend].files, knows);
    switch (r.kind) {
      case 'toolchain':
        throw new KernelModeError(r.message);
      case 'prelude-gap':
        throw new KernelModeError(`the tree's ${backend} populate code uses what gmemcheck's kernel prelude (kernelc/prelude) does not declare yet, or declares otherwise: ${r.missing.join(', ')}\n${r.output.trim()}`);
      case 'tree-error':
        treeErrors.push({ backend, diagnostics: r.diagnostics });
        break;
      case 'built':
        built.push({ backend, wasm: r.wasm });
        break;
    }
  }
  if (treeErrors.length > 0) {
    // guest_memfd.c is in every backend's build: one error there is reported once.
    const seen = new Set<string>();
    const diagnostics = treeErrors.flatMap(({ diagnostics }) => diagnostics).filter((d) => {
      const key = diagnosticText(o.tree, d);
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    if (o.check.json) io.write(`${JSON.stringify({ ...about, build: { kind: 'tree-error', backends: treeErrors.map((t) => t.backend), diagnostics: diagnostics.map((d) => ({ ...d, file: join(o.tree, d.file) })) }, exit: 1 }, null, 2)}\n`);
    else io.write(`${info}\n\n${o.treeShown} does not build: the ${treeErrors.map((t) => t.backend).join(' and ')} populate path's own code fails to compile\n${diagnostics.map((d) => diagnosticText(o.tree, d)).join('\n')}\nexit 1: the tree's code does not build\n`);
    return 1;
  }
  if (!o.check.json) io.write(`${info}\n\n`);
  const dir = join(tmpdir(), 'gmemcheck-kernel');
  mkdirSync(dir, { recursive: true });
  const files = built.map(({ backend, wasm }) => [backend, join(dir, `${createHash('sha256').update(wasm).digest('hex').slice(0, 16)}.${process.pid}.${backend}.wasm`)] as const);
  built.forEach(({ wasm }, i) => writeFileSync(files[i]?.[1] ?? '', wasm));
  const meta: KernelCMeta = {
    id: kernelRevisionId(o.tree),
    title: `the populate path of ${where}`,
    cites: lists.flatMap(({ list }) => list).filter((t) => t.kind === 'function').map((t) => `${where}:${t.file}:${t.lines} ${t.name ?? ''}`).filter((c, i, all) => all.indexOf(c) === i),
    api,
  };
  // One revision per base: an x86 build and an Arm one borrow different revisions' code.
  const revisions = bases.map((b) => {
    const own = files.filter(([backend]) => baseRevisionId(backend, api) === b);
    const revision = kernelCRevision(meta, new Map(built.filter(({ backend }) => baseRevisionId(backend, api) === b).map(({ backend, wasm }) => [backend, compileKernelModule(wasm)])));
    const source: RevisionSource = { kernelC: own, meta };
    return { revision, source, ref: { id: meta.id, tree: o.treeShown, derivedFrom: b } };
  });
  try {
    if (o.compare !== undefined) return await runCompare(o, revisions, o.compare, about, io);
    return await runCheck({ ...o.check, backends: revisions.flatMap((r) => r.revision.backends) }, revisions, io, about);
  } finally {
    // The worker has compiled them by now; nothing else reads them.
    for (const [, f] of files) rmSync(f, { force: true });
  }
}

function comparisonText(mine: Revision, other: Revision, backend: KernelCBackend, c: Comparison, seed: number): string {
  const head = `${backend}: compared ${mine.id} with ${other.id} on ${c.runs} generated scenario(s), seed ${seed}`;
  const d = c.difference;
  if (d === null) return `${head}: no difference\n`;
  const indent = (t: string): string => t.trimEnd().split('\n').map((l) => `    ${l}`).join('\n');
  return [
    `${head}: run ${d.run} differs; minimized to ${d.scenario.ops.length} operation(s):`,
    ...d.scenario.ops.map((op, i) => `  ${i === d.opIndex ? '>' : ' '} ${i} ${opText(op)}`),
    `  at operation ${d.opIndex}, ${mine.id} (the tree's C):`, indent(d.a),
    `  ${other.id}:`, indent(d.b), '',
  ].join('\n');
}

async function runCompare(o: KernelOptions, revisions: readonly { readonly revision: Revision; readonly source: RevisionSource }[], other: Revision, about: Readonly<Record<string, unknown>>, io: CheckIo): Promise<number> {
  const backends = revisions.flatMap((r) => r.revision.backends).filter((b): b is KernelCBackend => other.backends.includes(b) && KERNEL_C_BACKENDS.some((k) => k === b));
  // In the worker, under the watchdog: a loop in the tree's C that calls no kernel service ends
  // as a reported hang, not a hung gmemcheck.
  const runner = sharedRunner();
  runner.begin();
  const results: { backend: KernelCBackend; comparison: Comparison }[] = [];
  for (const backend of backends) {
    const mine = revisions.find((r) => r.revision.backends.includes(backend));
    if (mine === undefined) throw new Error(`kernel --compare: no build for ${backend}`);
    const runs = o.check.runs ?? CELL_RUNS[backend];
    const outcome = await runner.run({ kind: 'compare', backend, revision: mine.source, other: other.id, runs, seed: o.check.seed });
    switch (outcome.kind) {
      case 'compared':
        results.push({ backend, comparison: outcome.comparison });
        if (!o.check.json) io.write(comparisonText(mine.revision, other, backend, outcome.comparison, o.check.seed));
        break;
      case 'hung':
      case 'died': {
        const what = outcome.kind === 'hung' ? `stopped making progress for ${outcome.seconds.toFixed(1)} s` : `died (${outcome.error})`;
        io.write(`${backend}: the run ${what} on ${outcome.phase === 'explore' ? `scenario ${outcome.run}` : 'a scenario being minimized'}:\n${outcome.scenario.ops.map((op, i) => `  ${i} ${opText(op)}`).join('\n')}\nexit 1: ${outcome.kind === 'hung' ? `the tree's C spun without calling the kernel (a soft lockup only the wall clock sees; ${other.id} runs under the model's work budget)` : 'the run died'}\n`);
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
  const differ = results.filter((r) => r.comparison.difference !== null).map((r) => r.backend);
  const code = differ.length === 0 ? 0 : 1;
  if (o.check.json) io.write(`${JSON.stringify({ ...about, compare: { with: other.id, seed: o.check.seed, results: results.map((r) => ({ backend: r.backend, ...r.comparison })) }, exit: code }, jsonReplacer, 2)}\n`);
  else io.write(code === 0 ? `exit 0: the tree's C and ${other.id} did the same\n` : `exit 1: the tree's C and ${other.id} differ (${differ.join(', ')})\n`);
  return code;
}
