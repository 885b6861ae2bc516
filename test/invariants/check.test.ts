import { describe, expect, test } from 'vitest';
import { cellsOf, runWithInvariant } from '../../properties/check.js';
import { explore, scenarioSize, shrinkSignature } from '../../properties/explore.js';
import { refcountBalance } from '../../properties/invariants/refcount-balance.js';
import { warnReachable } from '../../properties/invariants/warn-reachable.js';
import { oops } from '../../properties/invariants/oops.js';
import { INVARIANTS } from '../../properties/registry.js';
import type { Revision } from '../../model/revisions/Revision.js';
import { BUGS } from '../../properties/bugs.js';
import type { Coverage } from '../../properties/coverage.js';
import { PS, initMemRegion, launchUpdate, scenario, setupOps } from '../model/fixtures.js';
import { rev } from './caseTable.js';

const SEED = 4242;

describe('runWithInvariant()', () => {
  test('stops after the first operation that violates, and feeds coverage when asked', () => {
    const c: Coverage = new Map();
    const s = scenario('snp', [...setupOps(), launchUpdate({ uaddr: 0 }), launchUpdate({ uaddr: 0 }), launchUpdate()]);
    const { violations, result } = runWithInvariant(s, rev('v7.0'), warnReachable, c);
    expect(violations.map((v) => v.opIndex)).toEqual([4]);
    expect(violations[0]?.site).toBe('sev_gmem_post_populate');
    expect(result.results).toHaveLength(5);
    expect(c.get('warn:WARN_ON_ONCE')).toBe(1);
  });

  test('can trace calls', () => {
    const { result } = runWithInvariant(scenario('snp', [...setupOps(), launchUpdate()]), rev('kvm-x86-next-2025.11.07'), warnReachable, undefined, true);
    expect(result.world.log.some((e) => e.kind === 'call' && e.fn === 'kvm_gmem_populate')).toBe(true);
  });
});

describe('explore()', () => {
  test('finds a known bug by its signature, minimized within the bug\'s bounds, and replays it from the printed path', () => {
    const spec = { backend: 'snp' as const, revision: rev('kvm-x86-next-2025.11.07'), invariants: [refcountBalance], runs: 300, seed: SEED };
    const x = explore(spec);
    const f = x.findings.find((g) => (BUGS.B1.signatures as readonly string[]).includes(g.key));
    expect(f, x.findings.map((g) => g.key).join(', ')).toBeDefined();
    if (f === undefined) return;
    const size = scenarioSize(f.counterexample);
    expect(size.ops).toBeLessThanOrEqual(BUGS.B1.maxOps);
    expect(size.pages).toBeLessThanOrEqual(BUGS.B1.maxPages);
    expect(f.runsWithIt).toBeGreaterThan(0);
    const again = shrinkSignature(spec, f.key, f.path);
    expect(again.kind).toBe('found');
    if (again.kind === 'found') expect(again.finding.counterexample).toEqual(f.counterexample);
  });

  test('a path whose scenario does not show the signature is refused, not followed to something else', () => {
    const spec = { backend: 'snp' as const, revision: rev('kvm-x86-next-2025.11.07'), invariants: [refcountBalance], runs: 300, seed: SEED };
    const key = 'refcount-balance/kmapLeaked@sev_gmem_post_populate';
    // Which early runs show the leak depends on the generators; what matters is that a run not
    // showing it is refused (fast-check would go on to a later run that does), and one showing it
    // is shrunk to that very signature.
    // The first 60 runs, up to the first of each kind (kmapLeaked shows in about one run in 8).
    const replays: ReturnType<typeof shrinkSignature>[] = [];
    for (let i = 0; i < 60 && !(['found', 'not-reproduced'] as const).every((k) => replays.some((r) => r.kind === k)); i++) replays.push(shrinkSignature(spec, key, String(i)));
    expect(replays.map((r) => r.kind)).toContain('not-reproduced');
    expect(replays.map((r) => r.kind)).toContain('found');
    for (const r of replays) {
      if (r.kind === 'found') expect(r.finding.key).toBe(key);
      else expect(r.reason).toMatch(/does not show .*fast-check went on to/);
    }
    expect(shrinkSignature(spec, key, '1:99:99').kind).toBe('not-reproduced');
  });

  test('every distinct signature is found, a known bug no longer hiding another on the same cell', () => {
    const x = explore({ backend: 'snp', revision: rev('rfc-v1'), invariants: [refcountBalance], runs: 300, seed: SEED });
    // B7 leaks the page array, and the pinned pages on a short pin: three signatures, one cell.
    expect(x.findings.map((f) => f.key)).toEqual(expect.arrayContaining(['refcount-balance/kmallocLeaked@kvm_gmem_populate', 'refcount-balance/pinLeaked@kvm_gmem_populate']));
  });

  test('shrinkIf is asked once with every signature the runs showed, and false leaves them all counted, none shrunk', () => {
    const spec = { backend: 'snp' as const, revision: rev('rfc-v1'), invariants: [refcountBalance], runs: 300, seed: SEED };
    const full = explore(spec);
    const asked: string[][] = [];
    const x = explore({ ...spec, shrinkIf: ({ seen }) => (asked.push(seen.map((s) => s.key)), false) });
    expect(asked).toEqual([full.findings.map((f) => f.key)]);
    expect(x.findings).toEqual([]);
    expect(x.counted?.map((c) => [c.key, c.firstRun])).toEqual(full.findings.map((f) => [f.key, f.firstRun]));
    expect(x.runs).toBe(full.runs);
  });

  test('a cell that holds reports its runs and the coverage it reached; one that missed its minimums is inconclusive', () => {
    const x = explore({ backend: 'tdx', revision: rev('kvm-x86-next'), invariants: [refcountBalance], runs: 30, seed: SEED });
    expect(x.runs).toBe(30);
    expect(x.coverage.get('op:tdx_init_mem_region')).toBeGreaterThan(0);
    const cell = cellsOf(x, 'tdx', rev('kvm-x86-next'))[0];
    expect(cell?.status).toBe('inconclusive');
    if (cell?.status === 'inconclusive') expect(cell.shortfall.length).toBeGreaterThan(0);
  });

  test('an exception raised by revision code is the revision\'s oops, with its own file and line', () => {
    const base = rev('kvm-x86-next');
    const broken: Revision = { ...base, id: 'broken', fns: { ...base.fns, snp_launch_update: () => { throw new Error('boom in the revision'); } } };
    const x = explore({ backend: 'snp', revision: broken, invariants: [oops], runs: 20, seed: SEED });
    expect(x.modelErrors).toEqual([]);
    const f = x.findings[0];
    expect(f?.key).toBe('oops/exception@snp_launch_update');
    expect(f?.violation.message).toMatch(/boom in the revision .*check\.test\.ts:\d+/);
  });

  test('an exception raised by model code is a model error, naming the model file and the revision line that called it', () => {
    const base = rev('kvm-x86-next');
    const misuse: Revision = { ...base, id: 'misuse', fns: { ...base.fns, tdx_vcpu_init_mem_region: (k: { copy_struct_from_user: (d: unknown) => unknown }) => k.copy_struct_from_user(undefined) } };
    const x = explore({ backend: 'tdx', revision: misuse, invariants: INVARIANTS, runs: 20, seed: SEED });
    expect(x.findings.filter((f) => f.signature.invariant === 'oops')).toEqual([]);
    expect(x.modelErrors.length).toBeGreaterThan(0);
    expect(x.modelErrors[0]?.error).toMatch(/model\/kernel\/services\/userStruct\.ts:\d+.*called from revision code at .*check\.test\.ts:\d+/s);
    expect(x.modelErrors[0]?.scenario.ops.some((o) => o.kind === 'tdx_init_mem_region')).toBe(true);
  });
});

describe('scenarioSize()', () => {
  test('counts operations and the pages populate calls ask for', () => {
    expect(scenarioSize(scenario('snp', [...setupOps(), launchUpdate({ npages: 3 }), launchUpdate({ len: PS + 1 }), launchUpdate({ len: -PS })]))).toEqual({ ops: 7, pages: 4 });
    expect(scenarioSize(scenario('tdx', [initMemRegion({ nr_pages: 2 }), initMemRegion({ nr_pages: -1 })]))).toEqual({ ops: 2, pages: 2 });
  });
});
