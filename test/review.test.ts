import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { run } from './runCli.js';
import { CorpusFileError, loadCorpusFile } from '../properties/corpus/load.js';
import { saveEntry } from '../properties/corpus/store.js';

/** The patch-review workflow: corpus files, replay, --save, new-revision and --revision-module. */
const CORPUS = join(import.meta.dirname, '..', 'corpus');
const B3 = join(CORPUS, 'tdx-rfc-v1-memory-safety-b3.json');
let dir = '';
let cwd: string | undefined;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'gmemcheck-review-'));
  cwd = process.env.INIT_CWD;
  process.env.INIT_CWD = dir;
});
afterEach(() => {
  if (cwd === undefined) delete process.env.INIT_CWD;
  else process.env.INIT_CWD = cwd;
});

function entryWith(edit: (e: Record<string, unknown>) => void, name = 'edited'): string {
  const e = JSON.parse(readFileSync(B3, 'utf8')) as Record<string, unknown>;
  e.name = name;
  edit(e);
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(e));
  return file;
}

describe('corpus files', () => {
  test('a bad file is refused with the file, the field and the problem', () => {
    const bad = entryWith((e) => {
      const s = e.scenario as { ops: Record<string, unknown>[] };
      const op = s.ops[3];
      if (op !== undefined) op.nr_pages = 'one';
    });
    expect(() => loadCorpusFile(bad)).toThrow(CorpusFileError);
    expect(() => loadCorpusFile(bad)).toThrow(/edited\.json: scenario\.ops\[3\]\.nr_pages: a u64 written as a string is 0x followed by 1 to 16 hex digits, or decimal/);
    writeFileSync(join(dir, 'x.json'), '{ nope');
    expect(() => loadCorpusFile(join(dir, 'x.json'))).toThrow(/x\.json: \(file\): not JSON/);
    expect(() => loadCorpusFile(entryWith(() => undefined, 'other'))).not.toThrow();
    expect(() => loadCorpusFile(entryWith((e) => (e.name = 'mismatch'), 'renamed'))).toThrow(/name: must match the file name \(renamed\)/);
    expect(() => loadCorpusFile(entryWith((e) => (e.verdicts = { 'v9.9': { verdict: 'holds', reason: 'r', link: 'l' } })))).toThrow(/verdicts\["v9\.9"\]: no tdx revision is called v9\.9/);
  });

  test('one problem a line, the first ten of them, the file shown where the user is', async () => {
    const bad = entryWith((e) => {
      const s = e.scenario as { ops: Record<string, unknown>[] };
      for (let i = 0; i < 15; i++) s.ops.push({ kind: 'close_vm', extra: i });
    });
    const r = await run('replay', bad);
    expect(r.code).toBe(2);
    const lines = r.err.trimEnd().split('\n');
    expect(lines[0]).toBe('gmemcheck: edited.json: scenario.ops[4]: Unrecognized key: "extra"');
    expect(lines.slice(1, 10).every((l) => /^edited\.json: scenario\.ops\[\d+\]: Unrecognized key/.test(l))).toBe(true);
    expect(lines.slice(10)).toEqual(['edited.json: ... and 5 more problems']);
  });

  test('saving writes once, never overwrites, never leaves a temporary file', () => {
    const { entry } = loadCorpusFile(B3);
    expect(saveEntry(dir, entry)).toEqual({ kind: 'written', file: join(dir, `${entry.name}.json`) });
    expect(saveEntry(dir, { ...entry, name: 'another-name' })).toEqual({ kind: 'duplicate', file: join(dir, `${entry.name}.json`) });
    const changed = { ...entry, scenario: { ...entry.scenario, ub: { 'tdx_gmem_post_populate:i': 1 } } };
    expect(saveEntry(dir, changed)).toEqual({ kind: 'written', file: join(dir, `${entry.name}-2.json`) });
    expect(readdirSync(dir).sort()).toEqual([`${entry.name}-2.json`, `${entry.name}.json`]);
    expect(loadCorpusFile(join(dir, `${entry.name}-2.json`)).entry.name).toBe(`${entry.name}-2`);
  });
});

describe('gmemcheck replay', () => {
  test('runs the scenario on every revision, compares verdicts, prints the trace and the content diagram', async () => {
    const r = await run('replay', B3);
    expect(r.code).toBe(0);
    expect(r.out).toContain('✓ rfc-v1: violates functional-spec, memory-safety, src-offset-straddling (takes userspace alone), as recorded — B3 [userspace]');
    expect(r.out).toContain('✓ v7.0: holds, as recorded');
    expect(r.out).toContain('trace on rfc-v1:');
    expect(r.out).toContain('uninitialized_var(i) = 0');
    expect(r.out).toMatch(/content of operation #3: .*\n.*\n {2}gfn \d+ <- pfn 0x[0-9a-f]+ {2}\|\?+\|\n +bytes 0-63 +from stale {2}WRONG, want a source byte \(none mapped\)/);
  });

  test('--json gives the verdicts and the trace as data', async () => {
    const r = await run('replay', B3, '--revision', 'rfc-v1', '--json');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out) as { ok: boolean; results: { revision: string; violated: string[]; trace: { op: string; calls: { fn?: string }[] }[] }[] };
    expect(doc.ok).toBe(true);
    expect(doc.results.map((x) => x.revision)).toEqual(['rfc-v1']);
    expect(doc.results[0]?.trace[3]?.op).toContain('KVM_TDX_INIT_MEM_REGION');
    expect(doc.results[0]?.trace[3]?.calls[0]?.fn).toBe('kvm_vcpu_ioctl');
  });

  test('a verdict the revision no longer gets: exit 1, saying what changed', async () => {
    const file = entryWith((e) => ((e.verdicts as Record<string, unknown>)['v7.0'] = { verdict: 'violated', invariants: ['lock-order'], reason: 'r', link: 'l' }));
    const r = await run('replay', file);
    expect(r.code).toBe(1);
    expect(r.out).toContain('✗ v7.0: holds, but the corpus records violates lock-order — lock-order no longer violated');
  });

  test('bad input exits 2 naming it', async () => {
    expect((await run('replay', 'nope.json')).err).toContain('gmemcheck: nope.json: (file): no such file');
    mkdirSync(join(dir, 'corpus'));
    expect((await run('replay', 'corpus')).err).toContain('gmemcheck: corpus: (file): is a directory, not a corpus file (.json)');
    expect((await run('replay')).code).toBe(2);
    expect((await run('replay', B3, '--revision', 'rme-v9')).err).toContain('rme-v9 has no tdx backend');
  });
});

describe('gmemcheck check --save', () => {
  test('writes each finding\'s shrunk scenario with every revision\'s verdict, and not twice', async () => {
    const args = ['check', '--backend', 'tdx', '--revision', 'rfc-v1', '--property', 'memory-safety', '--what-if', 'none', '--save', '--corpus', 'mine'];
    const first = await run(...args);
    expect(first.code).toBe(0);
    const name = 'tdx-rfc-v1-memory-safety-uninitialised-tdx-gmem-post-populate.json';
    expect(first.err).toContain(`saved memory-safety/uninitialised@tdx_gmem_post_populate as mine/${name}`);
    const { entry } = loadCorpusFile(join(dir, 'mine', name));
    expect(Object.keys(entry.verdicts)).toEqual(['v6.17', 'kvm-x86-next-2025.11.07', 'rfc-v1', 'roth-v2', 'roth-v3-posted', 'v7.0', 'kvm-x86-next', 'inplace-v7', 'inplace-v8']);
    expect(entry.origin).toEqual({ kind: 'found', revision: 'rfc-v1', property: 'memory-safety', bug: 'B3', signature: 'memory-safety/uninitialised@tdx_gmem_post_populate' });
    const files = readdirSync(join(dir, 'mine'));
    expect((await run(...args)).err).toContain(`already in the corpus: memory-safety/uninitialised@tdx_gmem_post_populate as mine/${name}`);
    expect(readdirSync(join(dir, 'mine'))).toEqual(files);
    expect((await run('check', '--corpus', 'x')).err).toContain('--corpus names where --save writes');
  });

  test('a folder it cannot write: the finding is still printed, then a clear error and exit 2', async () => {
    writeFileSync(join(dir, 'afile'), 'not a folder');
    const r = await run('check', '--backend', 'tdx', '--revision', 'rfc-v1', '--property', 'memory-safety', '--what-if', 'none', '--save', '--corpus', 'afile');
    expect(r.code).toBe(2);
    expect(r.out).toContain('memory-safety/uninitialised@tdx_gmem_post_populate');
    expect(r.err).toMatch(/cannot save memory-safety\/uninitialised@tdx_gmem_post_populate into afile: .*(EEXIST|ENOTDIR)/);
    expect(r.err).not.toMatch(/^\s+at /m);
    expect(r.out).toContain('exit 2: a finding could not be saved');
  });
});

describe('reviewing a patch: new-revision and --revision-module', () => {


  test('new-revision writes a copy that names its parent and is never overwritten', async () => {
    expect((await run('new-revision', 'rfc-v1-fixed', '--from', 'rfc-v1')).code).toBe(0);
    expect(readFileSync(join(dir, 'rfc-v1-fixed.ts'), 'utf8')).toContain("derivedFrom: 'rfc-v1' } satisfies Revision;");
    expect((await run('new-revision', 'rfc-v1-fixed', '--from', 'rfc-v1')).err).toContain('rfc-v1-fixed.ts: already exists; not overwritten');
    // The walkthrough that checks, fixes and checks the copy again is test/readme.test.ts.
  });

  test.each([
    ['missing.ts', '', 'missing.ts: no such file'],
    ['typo.ts', "import type { Revision } from 'nowhere';\nconst x: number = 'a';\nexport default x;\n", 'typo.ts: does not type-check:'],
    ['empty.ts', 'export const nothing = 1;\n', 'empty.ts: exports no revision: expected `export default` (or `export const revision`) of type Revision; it exports nothing'],
    ['shape.ts', "export default { id: 'Bad Id', title: 't', backends: ['tdx'], cites: [], fns: {} };\n", 'shape.ts: is not a Revision: id: must be lower-case'],
    ['entry.ts', "export default { id: 'mine', title: 't', backends: ['tdx'], cites: ['x'], fns: {} };\n", 'entry.ts: fns lacks the entry point(s) tdx_vcpu_init_mem_region (tdx)'],
    ['entry-snp.ts', "export default { id: 'mine', title: 't', backends: ['snp'], cites: ['x'], fns: {} };\n", 'entry-snp.ts: fns lacks the entry point(s) snp_launch_update (snp)'],
    ['entry-cca.ts', "export default { id: 'mine', title: 't', backends: ['cca'], cites: ['x'], fns: {} };\n", 'entry-cca.ts: fns lacks the entry point(s) realm_populate_ioctl (cca), kvm_realm_unmap_range (cca), kvm_destroy_realm (cca), kvm_activate_realm (cca)'],
    ['clash.ts', "export default { id: 'v7.0', title: 't', backends: ['tdx'], cites: ['x'], fns: { tdx_vcpu_init_mem_region: () => 0, kvm_gmem_bind: () => 0, kvm_gmem_create: () => 0, kvm_gmem_fault_user_mapping: () => 0, kvm_gmem_allocate: () => 0 } };\n", "clash.ts: id 'v7.0' is a built-in revision's"],
  ])('a module that cannot be used exits 2: %s', async (name, text, message) => {
    if (text !== '') writeFileSync(join(dir, name), text);
    const r = await run('check', '--revision-module', name, '--backend', 'tdx', '--runs', '1');
    expect(r.code).toBe(2);
    expect(r.err).toContain(message);
    expect(existsSync(join(dir, name))).toBe(text !== '');
  });

  test('new-revision NAME.ts writes NAME.ts, a revision called NAME', async () => {
    const r = await run('new-revision', 'my-fix.ts', '--from', 'v7.0');
    expect(r.code).toBe(0);
    expect(r.out).toContain('wrote my-fix.ts: a copy of v7.0 named my-fix');
    expect(readdirSync(dir)).toEqual(['my-fix.ts']);
    expect(readFileSync(join(dir, 'my-fix.ts'), 'utf8')).toContain("id: 'my-fix', title: 'my-fix (edited copy of v7.0)'");
  });

  test('new-revision into a folder that is not there: exit 2, nothing written', async () => {
    const r = await run('new-revision', 'mine', '--from', 'v7.0', '--out', 'revs/mine.ts');
    expect(r.code).toBe(2);
    expect(r.err).toBe('gmemcheck: revs/mine.ts: cannot be written: there is no folder revs (create it, or choose another --out)\n');
    writeFileSync(join(dir, 'afile'), 'mine\n');
    expect((await run('new-revision', 'mine', '--from', 'v7.0', '--out', 'afile/mine.ts')).err).toContain('afile/mine.ts: cannot be written: afile is not a folder');
    expect(readdirSync(dir)).toEqual(['afile']);
    expect(readFileSync(join(dir, 'afile'), 'utf8')).toBe('mine\n');
  });

  test('a folder given as --revision-module is called a folder', async () => {
    mkdirSync(join(dir, 'mine.ts'));
    const r = await run('check', '--revision-module', 'mine.ts', '--backend', 'tdx', '--runs', '1');
    expect(r.code).toBe(2);
    expect(r.err).toBe('gmemcheck: mine.ts: is a directory; a revision module is a .ts file (see new-revision)\n');
  });

  test('new-revision refuses a bad name or source', async () => {
    expect((await run('new-revision', 'v7.0', '--from', 'v7.0')).err).toContain("'v7.0' is a built-in revision's name");
    expect((await run('new-revision', 'mine', '--from', 'v9.9')).err).toContain("--from 'v9.9' is not a built-in revision");
    expect((await run('new-revision', 'Mine', '--from', 'v7.0')).code).toBe(2);
    expect((await run('new-revision', 'mine', '--from', 'v7.0', '--out', 'x.js')).err).toContain('--out must name a .ts file');
  });
});
