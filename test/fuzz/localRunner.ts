import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { data, Evaluator, Lexer, Parser } from '@actions/expressions';
import { parse } from 'yaml';
import { z } from 'zod';

/**
 * Just enough of a GitHub Actions runner to run .github/workflows/nightly.yml on this machine,
 * which has no runner and no route to GitHub: `${{ }}` expressions are evaluated by GitHub's own
 * expression engine (@actions/expressions); `run:` steps run as the ubuntu runner runs them
 * (`bash --noprofile --norc -eo pipefail`, with GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files);
 * actions/upload-artifact@v4 and actions/download-artifact@v4 are copies into and out of one
 * artifact store, laid out as v4 lays them out (a pattern that matches several artifacts
 * downloads each into a folder named after it). The runner's own set-up steps (checkout,
 * setup-node, npm ci) are this repository as it is: each job's workspace is a fresh folder whose
 * node_modules/.bin/gmemcheck is the repository's launcher, so `npx gmemcheck` resolves there
 * without the registry.
 */

const Expr = z.union([z.string(), z.number(), z.boolean()]);
const StepSchema = z.object({
  id: z.string().optional(),
  if: z.string().optional(),
  uses: z.string().optional(),
  run: z.string().optional(),
  env: z.record(z.string(), Expr).optional(),
  with: z.record(z.string(), Expr).optional(),
});
const JobSchema = z.object({
  needs: z.union([z.string(), z.array(z.string())]).optional(),
  if: z.string().optional(),
  outputs: z.record(z.string(), z.string()).optional(),
  strategy: z.object({ matrix: z.record(z.string(), z.array(Expr)) }).optional(),
  steps: z.array(StepSchema),
});
export const WorkflowSchema = z.object({ jobs: z.record(z.string(), JobSchema) });
export type Workflow = z.infer<typeof WorkflowSchema>;
export type Job = z.infer<typeof JobSchema>;
type Step = z.infer<typeof StepSchema>;

export function loadWorkflow(file: string): Workflow {
  return WorkflowSchema.parse(parse(readFileSync(file, 'utf8')));
}

/** `${{ expr }}` spans of a string evaluated against `context` (a JSON-shaped object), as a runner does. */
export function interpolate(text: string, context: object): string {
  const ctx = JSON.parse(JSON.stringify(context), data.reviver) as data.Dictionary;
  return text.replace(/\$\{\{(.+?)\}\}/gs, (_m, src: string) => {
    const lexed = new Lexer(src.trim()).lex();
    const expr = new Parser(lexed.tokens, Object.keys(context), []).parse();
    return new Evaluator(expr, ctx).evaluate().coerceString();
  });
}

/** The runner-provided steps this emulation stands in for: the repository is already checked out and installed. */
const PROVIDED = [/^actions\/checkout@v4$/, /^actions\/setup-node@v4$/];

export interface StepResult {
  readonly label: string;
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface JobRun {
  readonly steps: StepResult[];
  readonly outputs: Record<string, string>;
  readonly summary: string;
  readonly workspace: string;
}

/** Runs one job (one matrix combination) in a fresh workspace under `root`, with artifacts in `root/artifacts`. */
export function runJob(opts: { repo: string; root: string; name: string; job: Job; context: Record<string, unknown>; env?: Record<string, string> }): JobRun {
  const { repo, root, job } = opts;
  const workspace = join(root, opts.name);
  mkdirSync(join(workspace, 'node_modules', '.bin'), { recursive: true });
  writeFileSync(join(workspace, 'package.json'), '{ "private": true }\n');
  symlinkSync(join(repo, 'bin', 'gmemcheck.mjs'), join(workspace, 'node_modules', '.bin', 'gmemcheck'));
  const store = join(root, 'artifacts');
  mkdirSync(store, { recursive: true });
  const summaryFile = join(workspace, '.step-summary');
  writeFileSync(summaryFile, '');
  const stepOutputs: Record<string, { outputs: Record<string, string> }> = {};
  const results: StepResult[] = [];
  let failed = false;
  job.steps.forEach((step: Step, k) => {
    const always = step.if?.trim() === 'always()';
    if (step.if !== undefined && !always) throw new Error(`step ${k}: condition ${step.if} is not one this runner evaluates`);
    if (failed && !always) return;
    const context = { ...opts.context, steps: stepOutputs };
    const label = step.id ?? step.uses ?? step.run?.split('\n')[0] ?? `step ${k}`;
    if (step.uses !== undefined) {
      if (PROVIDED.some((re) => re.test(step.uses ?? ''))) return;
      const w = Object.fromEntries(Object.entries(step.with ?? {}).map(([key, v]) => [key, interpolate(String(v), context)]));
      const r = artifactStep(step.uses, w, workspace, store);
      results.push({ label, ...r });
      if (r.status !== 0) failed = true;
      return;
    }
    if (step.run === undefined) throw new Error(`step ${k} neither runs nor uses`);
    if (step.run.trim() === 'npm ci') return;
    const outputFile = join(workspace, `.output-${k}`);
    writeFileSync(outputFile, '');
    const env = Object.fromEntries(Object.entries(step.env ?? {}).map(([key, v]) => [key, interpolate(String(v), context)]));
    const script = interpolate(step.run, context);
    const p = spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', script], {
      cwd: workspace,
      encoding: 'utf8',
      env: { ...process.env, ...opts.env, ...env, GITHUB_OUTPUT: outputFile, GITHUB_STEP_SUMMARY: summaryFile, CI: 'true' },
    });
    results.push({ label, status: p.status ?? 1, stdout: p.stdout, stderr: p.stderr });
    if (p.status !== 0) failed = true;
    if (step.id !== undefined) stepOutputs[step.id] = { outputs: keyValues(readFileSync(outputFile, 'utf8')) };
  });
  const context = { ...opts.context, steps: stepOutputs };
  const outputs = Object.fromEntries(Object.entries(job.outputs ?? {}).map(([key, v]) => [key, interpolate(v, context)]));
  return { steps: results, outputs, summary: readFileSync(summaryFile, 'utf8'), workspace };
}

function keyValues(text: string): Record<string, string> {
  return Object.fromEntries(text.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

function artifactStep(uses: string, w: Record<string, string>, workspace: string, store: string): { status: number; stdout: string; stderr: string } {
  if (uses === 'actions/upload-artifact@v4') {
    const name = w.name;
    const path = w.path;
    if (name === undefined || path === undefined) return { status: 1, stdout: '', stderr: 'upload-artifact: name and path are required here' };
    const from = join(workspace, path);
    if (!existsSync(from) || readdirSync(from).length === 0) {
      return w['if-no-files-found'] === 'error' ? { status: 1, stdout: '', stderr: `upload-artifact: no files at ${path}` } : { status: 0, stdout: '', stderr: '' };
    }
    cpSync(from, join(store, name), { recursive: true });
    return { status: 0, stdout: `uploaded ${name}`, stderr: '' };
  }
  if (uses === 'actions/download-artifact@v4') {
    const pattern = w.pattern;
    const path = w.path;
    if (pattern === undefined || path === undefined) return { status: 1, stdout: '', stderr: 'download-artifact: pattern and path are required here' };
    const re = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
    const names = readdirSync(store).filter((n) => re.test(n));
    for (const n of names) cpSync(join(store, n), join(workspace, path, n), { recursive: true });
    return { status: 0, stdout: `downloaded ${names.join(', ')}`, stderr: '' };
  }
  return { status: 1, stdout: '', stderr: `${uses}: not an action this runner stands in for` };
}
