import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SUMMARY_FORMAT } from '../reports/campaignSummary.js';

/**
 * How a real campaign's throughput scales with workers: `gmemcheck fuzz` run as a child process
 * (bin/gmemcheck.mjs, as `npx gmemcheck` starts it) once per worker count, same seed, same
 * runs, each into a fresh folder, one after the other so they never share the cores. The
 * figures are the campaign's own (summary.json): exploration runs over its wall time, which also
 * holds the corpus replay that every campaign does first, and the time its units took summed over
 * the workers. The child's CPU time and peak resident set, its worker threads included, come
 * from its own resource usage at exit (bench/usageAtExit.mjs): CPU per run says whether a
 * campaign does more work with more workers, which the wall-time speedup cannot tell apart from
 * cores that other jobs on the machine held.
 */

export interface CampaignRun {
  readonly workers: number;
  readonly exitCode: number;
  /** Exploration runs, and the campaign's wall time (summary.json totals.runs, wallMs). */
  readonly runs: number;
  readonly wallMs: number;
  /** Time in units summed over the workers (totals.ms): corpus replays and explorations. */
  readonly unitMs: number;
  readonly units: number;
  readonly corpusScenarios: number;
  /** The child process from start to exit: the campaign plus starting Node, tsx and the pool. */
  readonly processMs: number;
  /** The child's CPU time (user and system, every thread) and peak resident set, from its usage at exit. */
  readonly cpuMs: number;
  readonly peakRssBytes: number;
  /** The 1-minute load average when the campaign started. */
  readonly loadAverage: number;
  /** The campaign's last line of totals, as it printed it. */
  readonly line: string;
}

export interface ScalingSpec {
  readonly root: string;
  readonly seed: number;
  readonly runs: number;
  readonly workers: readonly number[];
  readonly backend?: string;
  readonly revision?: string;
  readonly onStart?: (workers: number) => void;
}

interface Totals {
  readonly runs: number;
  readonly ms: number;
  readonly units: number;
  readonly corpusScenarios: number;
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null;
}

function readSummary(file: string): { wallMs: number; totals: Totals } {
  const s: unknown = JSON.parse(readFileSync(file, 'utf8'));
  if (!isRecord(s) || s.format !== SUMMARY_FORMAT || typeof s.wallMs !== 'number' || !isRecord(s.totals)) throw new Error(`${file}: not a ${SUMMARY_FORMAT} summary`);
  const t = s.totals;
  const num = (k: string): number => {
    const v = t[k];
    if (typeof v !== 'number') throw new Error(`${file}: totals.${k} is not a number`);
    return v;
  };
  return { wallMs: s.wallMs, totals: { runs: num('runs'), ms: num('ms'), units: num('units'), corpusScenarios: num('corpusScenarios') } };
}

function readUsage(file: string): { cpuMs: number; peakRssBytes: number } {
  const u: unknown = JSON.parse(readFileSync(file, 'utf8'));
  if (!isRecord(u) || typeof u.userCPUTime !== 'number' || typeof u.systemCPUTime !== 'number' || typeof u.maxRSS !== 'number') throw new Error(`${file}: not a process.resourceUsage() record`);
  // process.resourceUsage(): CPU times in microseconds, maxRSS in kilobytes.
  return { cpuMs: (u.userCPUTime + u.systemCPUTime) / 1000, peakRssBytes: u.maxRSS * 1024 };
}

async function runOnce(spec: ScalingSpec, workers: number, out: string, usageFile: string): Promise<CampaignRun> {
  const args = [
    '--import', pathToFileURL(join(import.meta.dirname, 'usageAtExit.mjs')).href, join(spec.root, 'bin', 'gmemcheck.mjs'), 'fuzz', '--seed', String(spec.seed), '--runs', String(spec.runs), '--workers', String(workers), '--out', out,
    ...(spec.backend === undefined ? [] : ['--backend', spec.backend]),
    ...(spec.revision === undefined ? [] : ['--revision', spec.revision]),
  ];
  const loadAverage = loadavg()[0] ?? 0;
  const t0 = performance.now();
  const child = spawn(process.execPath, args, { cwd: spec.root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, GMEMCHECK_BENCH_USAGE: usageFile } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (c, signal) => resolve(c ?? (signal === null ? 1 : 128)));
  });
  const processMs = performance.now() - t0;
  // 0: no new signature; 1: a new signature or a model error. Either way the campaign ran to its end.
  if (code !== 0 && code !== 1) throw new Error(`gmemcheck fuzz --workers ${workers} exited ${code}:\n${stderr.split('\n').slice(-8).join('\n')}${stdout}`);
  const s = readSummary(join(out, 'summary.json'));
  const usage = readUsage(usageFile);
  return {
    workers, exitCode: code, runs: s.totals.runs, wallMs: s.wallMs, unitMs: s.totals.ms, units: s.totals.units, corpusScenarios: s.totals.corpusScenarios,
    processMs, ...usage, loadAverage, line: stdout.split('\n').find((l) => / units, \d+ runs in /.test(l)) ?? '',
  };
}

export async function campaignScaling(spec: ScalingSpec): Promise<CampaignRun[]> {
  const dir = mkdtempSync(join(tmpdir(), 'gmemcheck-bench-'));
  try {
    const runs: CampaignRun[] = [];
    for (const w of spec.workers) {
      spec.onStart?.(w);
      runs.push(await runOnce(spec, w, join(dir, `workers-${w}`), join(dir, `usage-${w}.json`)));
    }
    return runs;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
