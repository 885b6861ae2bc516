import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { run } from './runCli.js';

/**
 * Whatever a reviewer's revision does, the tool reports it and stays in charge: an endless loop
 * that calls no kernel code (the wall-clock watchdog), an exception (an oops in the user's own
 * file), a heap blow-up (the worker's heap limit); and Ctrl-C still leaves a valid report.
 */
const REPO = join(import.meta.dirname, '..');
let dir = '';
const saved: Record<string, string | undefined> = {};
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'gmemcheck-guard-'));
  for (const k of ['INIT_CWD', 'GMEMCHECK_RUN_TIMEOUT_MS', 'GMEMCHECK_WORKER_HEAP_MB']) saved[k] = process.env[k];
  process.env.INIT_CWD = dir;
  process.env.GMEMCHECK_RUN_TIMEOUT_MS = '1500';
});
afterEach(() => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

/** A module derived from kvm-x86-next whose TDX ioctl handler is `body`. */
function moduleWith(name: string, body: string): string {
  writeFileSync(join(dir, name), [
    `import { kvm_x86_next, nextFns } from '${REPO}/model/revisions/kvm-x86-next.js';`,
    `import type { Revision } from '${REPO}/model/revisions/Revision.js';`,
    `export default { ...kvm_x86_next, id: 'mine', derivedFrom: 'kvm-x86-next', fns: { ...nextFns, tdx_vcpu_init_mem_region: ${body} } } satisfies Revision;`,
    '',
  ].join('\n'));
  return name;
}

describe('a revision module that misbehaves is a finding, never a hang or a crash of the tool', () => {
  test('an endless loop that calls no kernel code: soft-lockup from the wall-clock watchdog, with the trace up to it', async () => {
    const r = await run('check', '--revision-module', moduleWith('spin.ts', '() => { for (;;) { /* spin */ } }'), '--backend', 'tdx', '--what-if', 'none');
    expect(r.code).toBe(1);
    expect(r.out).toContain('✗ NEW soft-lockup/wallClock@tdx_vcpu_init_mem_region');
    expect(r.out).toContain('watchdog: BUG: soft lockup in tdx_vcpu_init_mem_region');
    expect(r.out).toMatch(/replay: npx gmemcheck check --backend tdx --revision-module spin\.ts --property soft-lockup .* --signature soft-lockup\/wallClock@tdx_vcpu_init_mem_region --path \d+/);
  }, 60_000);

  test('an exception: the revision\'s oops, in the user\'s own file and line, with a replay line', async () => {
    const r = await run('check', '--revision-module', moduleWith('oops.ts', "() => { throw new TypeError('Cannot read properties of null'); }"), '--backend', 'tdx', '--what-if', 'none');
    expect(r.code).toBe(1);
    expect(r.out).toContain('✗ NEW oops/exception@tdx_vcpu_init_mem_region');
    expect(r.out).toMatch(/TypeError: Cannot read properties of null in tdx_vcpu_init_mem_region \(\S*oops\.ts:3\)/);
    expect(r.out).toContain('!!! Oops: TypeError');
    expect(r.out).not.toContain('MODEL ERROR');
  }, 60_000);

  test('a heap blow-up: the worker\'s heap limit ends it, reported as the revision\'s oops', async () => {
    process.env.GMEMCHECK_WORKER_HEAP_MB = '96';
    // Only the heap limit may end this run: on a loaded machine filling 96 MB can take longer
    // than the short wall-clock watchdog the other tests use.
    process.env.GMEMCHECK_RUN_TIMEOUT_MS = '30000';
    const r = await run('check', '--revision-module', moduleWith('hog.ts', '() => { const a: number[][] = []; for (;;) a.push(new Array<number>(1e5).fill(1)); }'), '--backend', 'tdx', '--what-if', 'none');
    expect(r.code).toBe(1);
    expect(r.out).toContain('✗ NEW oops/outOfMemory@');
    expect(r.out).toContain('exhausted a 96 MB heap');
  }, 60_000);
});

describe('Ctrl-C', () => {
  test('--json interrupted still prints a valid document of the explorations done, exit 130', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(REPO, 'cli', 'main.ts'), 'check', '--backend', 'snp', '--revision', 'kvm-x86-next', '--json'], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    // Interrupt as soon as the first of its three explorations (default, hugepages, in-place) is
    // reported done (on stderr).
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.includes('checked snp × ')) child.kill('SIGINT');
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code, err).toBe(130);
    const doc = JSON.parse(out) as { interrupted: boolean; exit: number; explorations: unknown[] };
    expect(doc.interrupted).toBe(true);
    expect(doc.exit).toBe(130);
    expect(doc.explorations.length).toBeGreaterThan(0);
    expect(doc.explorations.length).toBeLessThan(3);
  }, 60_000);
});
