import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { run } from './runCli.js';
import { INVARIANTS } from '../properties/registry.js';

describe('gmemcheck list', () => {
  test('lists backends, revisions, injected bugs, properties and the matrix', async () => {
    const r = await run('list');
    expect(r.code).toBe(0);
    for (const word of ['snp', 'tdx', 'kvm-x86-next-2025.11.07', 'rfc-v1', 'v7.0', 'kvm-x86-next', 'kvm-x86-next+no-attr-check', 'lock-order', 'B3']) expect(r.out).toContain(word);
  });

  test('--json gives every cell of the matrix', async () => {
    const r = await run('list', '--json');
    const doc: unknown = JSON.parse(r.out);
    expect(doc).toMatchObject({ backends: expect.any(Array) as unknown, revisions: expect.any(Array) as unknown, properties: expect.any(Array) as unknown });
    if (typeof doc !== 'object' || doc === null || !('matrix' in doc) || !Array.isArray(doc.matrix)) throw new Error('no matrix');
    // Eighteen revision × backend cells, the 4K-guard-lifted cells of rme-v9 and rme-v12, and
    // the fifteen hugepages and fifteen in-place cells of the x86 revisions.
    expect(doc.matrix).toHaveLength(INVARIANTS.length * 63);
    expect(doc.matrix).toContainEqual(expect.objectContaining({ property: 'memory-safety', backend: 'snp', revision: 'rfc-v1', whatIf: 'hugepages', cell: 'rfc-v1 [hugepages]', expected: 'violated', bugs: ['B5'] }));
    expect(doc.matrix).toContainEqual(expect.objectContaining({ property: 'memory-safety', backend: 'tdx', revision: 'rfc-v1', expected: 'violated', bugs: ['B3'] }));
    expect(doc.matrix).toContainEqual(expect.objectContaining({ property: 'measurement', backend: 'cca', revision: 'rme-v12', whatIf: '4k-guard-lifted', cell: 'rme-v12 [4k-guard-lifted]', expected: 'violated', bugs: ['G11', 'G10'] }));
  });
});

describe('the matrix legend', () => {
  test('after each backend\'s matrix, every bug id it shows with its title and status', async () => {
    const r = await run('list');
    const sections = r.out.split(/\n(?= {34}\w+\/)/).slice(1);
    expect(sections).toHaveLength(3);
    for (const section of sections) {
      const [matrix = '', legend = ''] = section.split('\n\n');
      const ids = new Set(matrix.split('\n').slice(1).flatMap((l) => l.slice(34).split(/\s+/)).filter((x) => x !== '' && x !== '.'));
      const legendIds = legend.split('\n').filter((l) => /^ {2}\S/.test(l)).map((l) => l.trim().split(/\s+/)[0]);
      // The legend names every bug of the matrix, and the ones its cells only tolerate.
      for (const id of ids) expect(legendIds).toContain(id);
      expect(legend.split('\n').every((l) => l.length <= 110)).toBe(true);
    }
    expect(r.out).toContain('  B3              [userspace] TDX callback indexes src_pages[i] with i uninitialised (and src_pages NULL when…\n');
    expect(r.out).toContain('→ squashed fix (src_pages[0]) per Roth; moot from RFC v2 (single src_page)');
  });

  test('--reach lists the known bugs of one kind, with what they take and where they are expected', async () => {
    const r = await run('list', '--reach', 'what-if');
    expect(r.code).toBe(0);
    expect(r.out.split('\n')[0]).toMatch(/^known bugs that take a what-if mode \(\d+\):$/);
    expect(r.out).toContain('  B2              what-if: in-place: mmap_lock taken');
    expect(r.out).toContain('expected in: snp/paolo-v1 [in-place], snp/v6.17 [in-place], snp/kvm-x86-next-2025.11.07 [in-place], tdx/v6.17 [in-place], tdx/kvm-x86-next-2025.11.07 [in-place]');
    expect(r.out).not.toContain('  G4 ');
    const doc = JSON.parse((await run('list', '--reach', 'firmware', '--json')).out) as { bugs: { id: string; reach: { kind: string } }[] };
    expect(doc.bugs.map((b) => b.id)).toContain('G4');
    expect(doc.bugs.every((b) => b.reach.kind === 'firmware')).toBe(true);
    const bad = await run('list', '--reach', 'kernel');
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("--reach must be one of userspace, firmware, hardware, debug, what-if, got 'kernel'");
    const hw = JSON.parse((await run('list', '--reach', 'hardware', '--json')).out) as { bugs: { id: string }[] };
    expect(hw.bugs.map((b) => b.id)).toEqual(['G29']);
  });

  test('--json has every bug the matrix names, in full', async () => {
    const doc = JSON.parse((await run('list', '--json')).out) as { matrix: { bugs?: string[]; tolerated?: string[] }[]; bugs: { id: string; title: string; status: string; link: string }[] };
    const named = new Set(doc.matrix.flatMap((c) => [...(c.bugs ?? []), ...(c.tolerated ?? [])]));
    expect(new Set(doc.bugs.map((b) => b.id))).toEqual(named);
    expect(doc.bugs.find((b) => b.id === 'G9')?.status).toContain('https://lore.kernel.org/all/86tsuy8g0u.wl-maz@kernel.org/');
  });
});

describe('gmemcheck check', () => {
  test('a known-bad revision as the matrix expects: exit 0, one line per known bug', async () => {
    const r = await run('check', '--backend', 'tdx', '--revision', 'rfc-v1', '--property', 'memory-safety', '--what-if', 'none');
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/✓ B3 +userspace +memory-safety\/uninitialised@tdx_gmem_post_populate \(\d+ ops?, 1 page\(s\)\)/);
    expect(r.out).not.toContain('trace:');
    expect(r.out).toContain('exit 0: every cell as the matrix expects');
  });

  test('--verbose prints the trace and the replay line of known bugs too; --strict fails on them', async () => {
    const r = await run('check', '--backend', 'tdx', '--revision', 'rfc-v1', '--property', 'memory-safety', '--what-if', 'none', '--verbose', '--strict');
    expect(r.code).toBe(1);
    expect(r.out).toContain('✗ memory-safety/uninitialised@tdx_gmem_post_populate: B3');
    expect(r.out).toContain('tdx_gmem_post_populate(');
    expect(r.out).toMatch(/replay: npx gmemcheck check --backend tdx --revision rfc-v1 --property memory-safety --seed \d+ --runs \d+ --signature memory-safety\/uninitialised@tdx_gmem_post_populate --path [\d:]+/);
    expect(r.out).toContain('exit 1: --strict, and properties are violated');
  });

  test('the printed replay reproduces the same counterexample, and the same seed the same run', async () => {
    const args = ['check', '--backend', 'snp', '--revision', 'v7.0', '--property', 'warn-reachable', '--what-if', 'hugepages', '--seed', '7', '--verbose'];
    const first = await run(...args);
    const again = await run(...args);
    expect(again.out).toBe(first.out);
    const line = /replay: npx gmemcheck (.*)/.exec(first.out)?.[1];
    const scenario = /scenario: (.*)/.exec(first.out)?.[1];
    expect(line).toBeDefined();
    const replay = await run(...(line ?? '').split(' '), '--verbose');
    expect(replay.code).toBe(0);
    expect(/scenario: (.*)/.exec(replay.out)?.[1]).toBe(scenario);
  });

  test('a replay path that does not show its signature is bad input, not a different finding', async () => {
    const r = await run('check', '--backend', 'snp', '--revision', 'v7.0', '--property', 'warn-reachable', '--seed', '7', '--signature', 'warn-reachable/warnWithoutFault@sev_gmem_post_populate', '--path', '1');
    expect(r.code).toBe(2);
    expect(r.err).toContain('does not reproduce on snp × v7.0 with seed 7');
  });

  test('a holding cell that reached its coverage exits 0; one short of it is inconclusive and exits 1', async () => {
    const ok = await run('check', '--backend', 'snp', '--revision', 'kvm-x86-next', '--property', 'oops', '--what-if', 'none');
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/snp × kvm-x86-next \(300 runs\): as expected — 0 signatures, coverage (\d+)\/\1 minimums reached/);
    const few = await run('check', '--backend', 'snp', '--revision', 'kvm-x86-next', '--property', 'oops', '--what-if', 'none', '--runs', '20');
    expect(few.code).toBe(1);
    expect(few.out).toContain('? INCONCLUSIVE: 1 cell hold (oops) but the runs missed coverage minimums');
  });

  test('--json: one document, every cell with its status, expectation, findings and coverage', async () => {
    const r = await run('check', '--backend', 'snp', '--revision', 'rfc-v1', '--property', 'refcount-balance', '--what-if', 'none', '--json');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out) as { exit: number; explorations: { coverage: unknown[]; cells: unknown[] }[] };
    expect(doc.exit).toBe(0);
    expect(doc.explorations).toHaveLength(1);
    expect(doc.explorations[0]?.coverage.length).toBeGreaterThan(10);
    expect(doc.explorations[0]?.cells).toHaveLength(1);
    expect(doc.explorations[0]?.cells[0]).toMatchObject({
      backend: 'snp', revision: 'rfc-v1', property: 'refcount-balance', expected: 'violated', expectedBugs: ['B7'], status: 'violated', verdict: 'as-expected',
      findings: expect.arrayContaining([expect.objectContaining({ signature: 'refcount-balance/kmallocLeaked@kvm_gmem_populate', status: 'known', bug: expect.objectContaining({ id: 'B7' }) as unknown })]) as unknown,
    });
  });

  test('a revision its kernel refuses on some machines has a what-if cell of its own, named in the report and its replay lines', async () => {
    const r = await run('check', '--backend', 'cca', '--revision', 'rme-v12', '--property', 'return-value-contract', '--runs', '300', '--verbose');
    expect(r.out).toMatch(/^cca × rme-v12 \(300 runs\): /m);
    expect(r.out).toMatch(/^cca × rme-v12 \[4k-guard-lifted\] \(300 runs\): /m);
    expect(r.out).toContain('what-if: 4k-guard-lifted');
    expect(r.out).toMatch(/replay: npx gmemcheck check --backend cca --revision rme-v12 --what-if 4k-guard-lifted --property return-value-contract /);
    const only = await run('check', '--backend', 'cca', '--revision', 'rme-v12', '--property', 'return-value-contract', '--runs', '50', '--what-if', 'none');
    expect(only.out).not.toContain('[4k-guard-lifted]');
  });

  test('an injected bug is checked by name, against its base revision\'s row plus the bug it injects', async () => {
    const r = await run('check', '--revision', 'kvm-x86-next+return-i', '--property', 'return-value-contract', '--what-if', 'none');
    expect(r.code).toBe(0);
    expect(r.out).toContain('✓ injected:kvm-x86-next+return-i userspace        return-value-contract/noProgress@');
  });
});

describe('bad arguments exit 2 and name the problem', () => {
  test.each([
    [['frobnicate'], "unknown command 'frobnicate'"],
    [['check', '--backend', 'sev'], "--backend must be snp, tdx, cca or all, got 'sev'"],
    [['check', '--revision', 'v9.9'], "--revision 'v9.9' is not a known revision"],
    [['check', '--property', 'nope'], "--property 'nope' is not a known property"],
    [['check', '--seed', '1.5'], "--seed must be an integer, got '1.5'"],
    [['check', '--runs', '0'], '--runs must be between 1 and 100000, got 0'],
    [['check', '--path', '1:2'], '--signature and --path go together'],
    [['check', '--path', '1:2', '--signature', 'lock-order/cycle@f'], '--path replays one finding'],
    [['check', '--backend', 'snp', '--revision', 'v7.0', '--property', 'oops', '--path', '1', '--signature', 'lock-order/cycle@f'], 'is a finding of lock-order, not of --property oops'],
    [['check', '--path', '1', '--signature', 'nonsense'], "--signature must look like invariant/message@function, got 'nonsense'"],
    [['check', '--path', 'x', '--signature', 'oops/exception@f'], "--path must look like 12:0:3, got 'x'"],
    [['check', '--what-if', 'thp'], "--what-if must be none, all or a mode (4k-guard-lifted, in-place, hugepages), got 'thp'"],
    [['check', '--revision', 'v7.0', '--what-if', '4k-guard-lifted'], "no 'v7.0' cell runs under --what-if 4k-guard-lifted (revisions with it: rme-v9, rme-v12)"],
    [['check', '--backend', 'cca', '--revision', 'rme-v12', '--property', 'measurement', '--what-if', 'all', '--path', '1', '--signature', 'measurement/extra@f'], '--path replays one cell'],
    [['check', '--bogus'], "Unknown option '--bogus'"],
    [['list', 'extra'], 'Unexpected argument'],
    [['check', '--backend', 'tdx', '--backend', 'snp'], "--backend given 2 times ('tdx', 'snp'); it takes one value"],
    [['check', '--seed', '1', '--runs', '5', '--seed', '2'], "--seed given 2 times ('1', '2'); it takes one value"],
    [['replay', 'x.json', '--revision', 'v7.0', '--revision', 'rfc-v1'], "--revision given 2 times ('v7.0', 'rfc-v1')"],
    [['new-revision', 'mine', '--from', 'v7.0', '--from', 'kvm-x86-next-2025.11.07'], "--from given 2 times ('v7.0', 'kvm-x86-next-2025.11.07')"],
  ])('%j', async (argv, message) => {
    const r = await run(...argv);
    expect(r.code).toBe(2);
    expect(r.err).toContain(message);
    expect(r.err).toContain('usage: npx gmemcheck');
    expect(r.out).toBe('');
  });
});

describe('the npm script', () => {
  test('npm run gmemcheck passes arguments and exit status through', () => {
    const ok = spawnSync('npm', ['run', '-s', 'gmemcheck', '--', 'list'], { encoding: 'utf8' });
    expect(ok.status).toBe(0);
    expect(ok.stdout).toContain('expected matrix');
    const bad = spawnSync('npm', ['run', '-s', 'gmemcheck', '--', 'check', '--runs', 'lots'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("--runs must be an integer, got 'lots'");
  }, 60_000);
});

describe('the gmemcheck bin', () => {
  const ROOT = join(import.meta.dirname, '..');
  const BIN = join(ROOT, 'bin', 'gmemcheck.mjs');

  test('package.json names it, and its stdout is only what gmemcheck prints', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin?: Record<string, string> };
    expect(pkg.bin).toEqual({ gmemcheck: 'bin/gmemcheck.mjs' });
    // Run as a shell runs it (shebang, execute bit), from another folder.
    const r = spawnSync(BIN, ['list', '--json'], { encoding: 'utf8', cwd: tmpdir() });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ backends: expect.any(Array) as unknown, matrix: expect.any(Array) as unknown });
  }, 60_000);

  test('npx gmemcheck runs it (offline: the local bin, nothing fetched)', () => {
    const r = spawnSync('npx', ['--offline', 'gmemcheck', 'list', '--json'], { encoding: 'utf8', cwd: ROOT });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ backends: expect.any(Array) as unknown });
    const bad = spawnSync('npx', ['--offline', 'gmemcheck', 'check', '--runs', 'lots'], { encoding: 'utf8', cwd: ROOT });
    expect(bad.status).toBe(2);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toContain("--runs must be an integer, got 'lots'");
  }, 60_000);

  test('paths are relative to where it is run', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gmemcheck-bin-'));
    writeFileSync(join(dir, 'x.json'), '{ nope');
    // An INIT_CWD left by an outer npm process must not win over where the bin runs.
    const r = spawnSync(BIN, ['replay', 'x.json'], { encoding: 'utf8', cwd: dir, env: { ...process.env, INIT_CWD: ROOT } });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('gmemcheck: x.json: (file): not JSON');
  }, 60_000);

  test('a revision module outside the package loads (new-revision, then check it)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gmemcheck-bin-'));
    expect(spawnSync(BIN, ['new-revision', 'mine', '--from', 'rfc-v1'], { encoding: 'utf8', cwd: dir }).status).toBe(0);
    const r = spawnSync(BIN, ['check', '--revision-module', 'mine.ts', '--backend', 'tdx', '--property', 'memory-safety', '--what-if', 'none', '--runs', '20'], { encoding: 'utf8', cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/✓ B3 +userspace +memory-safety\/uninitialised@tdx_gmem_post_populate \(.*as in rfc-v1\)/);
    // B3 is found, as rfc-v1's row expects: exit 0 (coverage makes only holding cells inconclusive).
    expect(r.status).toBe(0);
  }, 60_000);

  test('a reader that closes early ends it quietly, with the SIGPIPE status', async () => {
    const child = spawn(BIN, ['check', '--backend', 'snp', '--runs', '5'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
    // `| head -1`: take the first chunk, then close the pipe while gmemcheck still has cells to print.
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise<number | null>((done) => child.on('close', done));
    expect(err).toBe('');
    expect(code).toBe(141);
  }, 60_000);
});
