import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { run } from '../runCli.js';

/** `gmemcheck interleave`: what a reviewer runs, its exit status and what it prints. */
describe('gmemcheck interleave', () => {
  test('finds B2 on v6.17 under in-place semantics, prints the timeline and a scenario that replays it', async () => {
    const r = await run('interleave', '--backend', 'tdx', '--revision', 'v6.17', '--runs', '200', '--json');
    expect(r.code).toBe(0);
    const [out] = JSON.parse(r.out) as { status: string; asExpected: boolean; expected: string; findings: { signature: string; timeline: string; scenario: unknown }[] }[];
    expect(out).toMatchObject({ status: 'violated', asExpected: true, expected: 'B2' });
    const cell = out?.findings.find((f) => f.signature.startsWith('deadlock/gmem->invalidate_lock+mm->mmap_lock@'));
    expect(cell?.timeline).toMatch(/^deadlock: T\d → T\d → T\d → T\d/m);
    const dir = mkdtempSync(join(tmpdir(), 'gmemcheck-interleave-'));
    const file = join(dir, 'b2.json');
    writeFileSync(file, JSON.stringify(cell?.scenario));
    const again = await run('interleave', '--scenario', file, '--revision', 'v6.17');
    expect(again.code).toBe(0);
    expect(again.out).toMatch(/^tdx × v6\.17 \[in-place\] \(its schedule replayed\): ✓ B2 \(known\) deadlock\//);
    const fixed = await run('interleave', '--scenario', file, '--revision', 'v7.0', '--bound', '1');
    expect(fixed.code).toBe(0);
    expect(fixed.out).toMatch(/^tdx × v7\.0 \[in-place\] \(\d+ schedule\(s\) of at most 1 preemption\(s\), all of them\): holds$/m);
  });

  test('finds B20 on an injected form of RFC v2, the timeline ending at the bad mapping; RFC v2 as posted shows only its WARN past the file\'s end', async () => {
    const r = await run('interleave', '--backend', 'snp', '--revision', 'v7.0', '--in-place-series', 'rfc-v2~no-safe-refcount', '--runs', '400');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^snp × v7\.0 \[in-place rfc-v2~no-safe-refcount\] \(400 runs, PCT depth 3\): 2 findings; under in-place semantics$/m);
    expect(r.out).toMatch(/^✓ B20 \(known\) no-double-private\/hostMapsPrivate@/m);
    expect(r.out).toMatch(/^✓ rfc-v2 fault past EOF \(known\) warn-reachable\/warnWithoutFault@kvm_gmem_get_shared_folio/m);
    expect(r.out).toContain('▣ PTE maps gmem1');
    expect(r.out).toContain('✗ no-double-private/hostMapsPrivate');
    const posted = await run('interleave', '--backend', 'snp', '--revision', 'v7.0', '--in-place-series', 'rfc-v2', '--runs', '100', '--json');
    expect(posted.code).toBe(0);
    expect(JSON.parse(posted.out)).toMatchObject([{ series: 'rfc-v2', status: 'violated', asExpected: true, findings: [{ signature: 'warn-reachable/warnWithoutFault@kvm_gmem_get_shared_folio' }] }]);
  });

  test('exit 2 and the problem named: bad arguments, a scenario file that cannot be used', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gmemcheck-interleave-'));
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"backend":"snp","geometry":{"page_size":64,"pmd_order":2,"nr_host_pages":192},"ops":[{"kind":"close_vm"}],"ub":{}}');
    const cases: [string[], string][] = [
      [['interleave', '--backend', 'cca'], "--backend must be snp, tdx or all"],
      [['interleave', '--bound', '2'], 'give --scenario FILE too'],
      [['interleave', '--depth', '9'], '--depth must be between 1 and 6'],
      [['interleave', '--scenario', bad], 'threads: Invalid input'],
      [['interleave', '--scenario', join(dir, 'none.json')], 'cannot read it'],
      [['interleave', '--scenario', bad, '--runs', '5'], '--runs does not apply with --scenario'],
      [['interleave', '--in-place-series', 'rfc-v3'], "--in-place-series 'rfc-v3' is not a known in-place series (known: v8, rfc-v2,"],
      [['interleave', '--in-place-series', 'rfc-v2', '--what-if', 'none'], '--in-place-series needs the in-place what-if'],
    ];
    for (const [argv, message] of cases) {
      const r = await run(...argv);
      expect({ argv, code: r.code }).toEqual({ argv, code: 2 });
      expect(r.err).toContain(message);
    }
  });
});
