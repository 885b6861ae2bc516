import { describe, expect, test } from 'vitest';
import { checkCell, runWithInvariant, scenarioSize } from '../../properties/check.js';
import { refcountBalance } from '../../properties/invariants/refcount-balance.js';
import { warnReachable } from '../../properties/invariants/warn-reachable.js';
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
    expect(result.results).toHaveLength(5);
    expect(c.get('warn:WARN_ON_ONCE')).toBe(1);
  });

  test('can trace calls', () => {
    const { result } = runWithInvariant(scenario('snp', [...setupOps(), launchUpdate()]), rev('v6.11'), warnReachable, undefined, true);
    expect(result.world.log.some((e) => e.kind === 'call' && e.fn === 'kvm_gmem_populate')).toBe(true);
  });
});

describe('checkCell()', () => {
  test('finds a known bug, minimizes it within the bug\'s bounds, and reports its message', () => {
    const out = checkCell({ backend: 'snp', revision: rev('v6.11'), invariant: refcountBalance, runs: 300, seed: SEED });
    expect(out.status).toBe('violated');
    if (out.status !== 'violated') return;
    expect(BUGS.B1.messageIds).toContain(out.violations[0]?.messageId);
    const size = scenarioSize(out.counterexample);
    expect(size.ops).toBeLessThanOrEqual(BUGS.B1.maxOps);
    expect(size.pages).toBeLessThanOrEqual(BUGS.B1.maxPages);
    expect(out.path).not.toBe('');
    // The printed seed and path replay the same failure.
    const again = checkCell({ backend: 'snp', revision: rev('v6.11'), invariant: refcountBalance, runs: 300, seed: SEED, path: out.path });
    expect(again.status).toBe('violated');
    if (again.status === 'violated') expect(again.counterexample).toEqual(out.counterexample);
  });

  test('a cell that holds reports its runs and the coverage it reached', () => {
    const out = checkCell({ backend: 'tdx', revision: rev('kvm-x86-next'), invariant: refcountBalance, runs: 30, seed: SEED });
    expect(out.status).toBe('holds');
    if (out.status !== 'holds') return;
    expect(out.runs).toBe(30);
    expect(out.seed).toBe(SEED);
    expect(out.coverage.get('op:tdx_init_mem_region')).toBeGreaterThan(0);
  });

  test('a model that throws is an error, not a finding', () => {
    const base = rev('kvm-x86-next');
    const broken: Revision = { ...base, id: 'broken', fns: { ...base.fns, snp_launch_update: () => { throw new Error('boom in the model'); } } };
    const out = checkCell({ backend: 'snp', revision: broken, invariant: refcountBalance, runs: 50, seed: SEED });
    expect(out.status).toBe('error');
    if (out.status === 'error') {
      expect(out.error).toContain('boom in the model');
      expect(out.counterexample?.ops.some((o) => o.kind === 'snp_launch_update')).toBe(true);
    }
  });
});

describe('scenarioSize()', () => {
  test('counts operations and the pages populate calls ask for', () => {
    expect(scenarioSize(scenario('snp', [...setupOps(), launchUpdate({ npages: 3 }), launchUpdate({ len: PS + 1 }), launchUpdate({ len: -PS })]))).toEqual({ ops: 7, pages: 4 });
    expect(scenarioSize(scenario('tdx', [initMemRegion({ nr_pages: 2 }), initMemRegion({ nr_pages: -1 })]))).toEqual({ ops: 2, pages: 2 });
  });
});
