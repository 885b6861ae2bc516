/**
 * Where a CPU profile's time went (`npx tsx bench/cpuProfileTop.ts FILE.cpuprofile [--top N]`):
 * the functions with the most self time, the source files with the most self time, and the
 * project's functions with the most total time (self and callees). Made for profiles of the
 * throughput benchmark:
 *
 *   node --import tsx --cpu-prof --cpu-prof-dir scratch/prof bench/throughput.ts --no-scale --backend snp
 *
 * Times come from the profile's sample deltas (V8's .cpuprofile format: a tree of nodes, each with
 * its call frame; `samples` names the node on top of the stack at each tick, `timeDeltas` the time
 * since the tick before). A function is named with its file, not its line: tsx compiles a module
 * to one line, so every frame of it says line 1; its anonymous functions add up as one.
 */
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { fmt, textTable } from './textTable.js';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

// A reader that stops early (`| head`) ends the output quietly, as gmemcheck's commands do.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(141);
  throw e;
});

function usage(problem: string): never {
  console.error(`cpuProfileTop: ${problem}\nusage: npx tsx bench/cpuProfileTop.ts FILE.cpuprofile [--top N]`);
  process.exit(2);
}

function isCpuProfile(x: unknown): x is CpuProfile {
  if (typeof x !== 'object' || x === null) return false;
  const p = x as Partial<Record<keyof CpuProfile, unknown>>;
  return Array.isArray(p.nodes) && Array.isArray(p.samples) && Array.isArray(p.timeDeltas);
}

let parsed: { values: { top?: string }; positionals: string[] };
try {
  parsed = parseArgs({ options: { top: { type: 'string' } }, allowPositionals: true });
} catch (e) {
  usage(e instanceof Error ? e.message : String(e));
}
const [file, ...extra] = parsed.positionals;
if (file === undefined || extra.length > 0) usage('give one .cpuprofile file');
const top = Number(parsed.values.top ?? 25);
if (!Number.isInteger(top) || top < 1) usage(`--top must be a positive integer, got ${JSON.stringify(parsed.values.top)}`);
let profile: unknown;
try {
  profile = JSON.parse(readFileSync(file, 'utf8'));
} catch (e) {
  usage(`${file}: ${e instanceof Error ? e.message : String(e)}`);
}
if (!isCpuProfile(profile)) usage(`${file}: not a V8 .cpuprofile (no nodes, samples and timeDeltas)`);

const ROOT = join(import.meta.dirname, '..');
function where(f: CallFrame): string {
  if (f.url === '') return '';
  const path = f.url.startsWith('file://') ? fileURLToPath(f.url) : f.url;
  const rel = relative(ROOT, path);
  return rel.startsWith('..') ? path : rel;
}
/** A function is its name in its file: its several nodes (one per call path) add up. */
function keyOf(f: CallFrame): string {
  const at = where(f);
  const name = f.functionName === '' ? '(anonymous)' : f.functionName;
  return at === '' ? name : `${name} ${at}`;
}

const byId = new Map<number, ProfileNode>(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const self = new Map<string, number>();
const selfByFile = new Map<string, number>();
const totalOf = new Map<string, number>();
let all = 0;
profile.samples.forEach((id, i) => {
  const dt = profile.timeDeltas[i] ?? 0;
  const node = byId.get(id);
  if (node === undefined) return;
  all += dt;
  const k = keyOf(node.callFrame);
  self.set(k, (self.get(k) ?? 0) + dt);
  const file = where(node.callFrame) || node.callFrame.functionName;
  selfByFile.set(file, (selfByFile.get(file) ?? 0) + dt);
  // Total time: each function on the stack once, however often it recurses.
  const seen = new Set<string>();
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
    const n = byId.get(at);
    if (n === undefined) break;
    const key = keyOf(n.callFrame);
    if (seen.has(key)) continue;
    seen.add(key);
    totalOf.set(key, (totalOf.get(key) ?? 0) + dt);
  }
});

const sorted = (m: Map<string, number>): [string, number][] => [...m].sort((a, b) => b[1] - a[1]);
const share = (us: number): string => `${fmt((100 * us) / all, 1)} %`;
// The benchmark's own frames hold everything below them: left out of the totals.
const isProject = (k: string): boolean => /\s(model|properties|generators|reports|cli)\//.test(k);
console.log(`${file}: ${fmt(all / 1e6, 1)} s sampled`);
console.log(`\ntop ${top} functions by self time:`);
console.log(textTable([{ head: 'self', align: 'right' }, { head: 'ms', align: 'right' }, { head: 'function', align: 'left' }], sorted(self).slice(0, top).map(([k, us]) => [share(us), fmt(us / 1000), k]), '  '));
console.log(`\ntop ${top} files by self time:`);
console.log(textTable([{ head: 'self', align: 'right' }, { head: 'ms', align: 'right' }, { head: 'file', align: 'left' }], sorted(selfByFile).slice(0, top).map(([k, us]) => [share(us), fmt(us / 1000), k]), '  '));
console.log(`\ntop ${top} functions of model/, properties/, generators/, reports/ and cli/ by total time (self and callees):`);
console.log(textTable([{ head: 'total', align: 'right' }, { head: 'ms', align: 'right' }, { head: 'function', align: 'left' }], sorted(totalOf).filter(([k]) => isProject(k)).slice(0, top).map(([k, us]) => [share(us), fmt(us / 1000), k]), '  '));
