import fc from 'fast-check';
import { beforeAll, describe, expect, test } from 'vitest';
import { loadConcurrent, type ConcurrentModel } from '../../model/concurrent/load.js';
import { REVISIONS } from '../../model/revisions/registry.js';
import { runScenario } from '../../model/scenario/runScenario.js';
import type { RunResult } from '../../model/scenario/runScenario.js';
import type { ThreadsResult } from '../../model/scenario/runThreads.js';
import { whatIfCellsOf, type WhatIfMode } from '../../model/whatIf.js';
import { arbitraryFor } from '../../properties/explore.js';
import { suiteSeed } from '../suite.js';

/**
 * The concurrent build is the sequential model, only resumable: a scenario on one thread gives
 * the same results and the same event log, event for event, in both builds. Every built-in
 * revision, in each cell it has, on scenarios the cell's own generators draw (traced, so every
 * kernel call and return is compared too).
 */
let m: ConcurrentModel;
beforeAll(async () => {
  m = await loadConcurrent();
}, 120_000);

const PER_CELL = 25;

/** The log as text, an event a line, without what differs by build and not by behaviour (a crash's JS stack). */
function logOf(r: RunResult): string[] {
  return r.world.log.map((e) => JSON.stringify(e, (key, v: unknown) => (key === 'stack' ? undefined : typeof v === 'bigint' ? `${v}n` : v)));
}

/** The first event where two logs part, with the few before it: a readable failure. */
function firstDifference(a: readonly string[], b: readonly string[]): string | undefined {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return [`event ${i}:`, ...a.slice(Math.max(0, i - 3), i).map((x) => `  ${x}`), `- ${a[i] ?? '(end)'}`, `+ ${b[i] ?? '(end)'}`].join('\n');
  }
  return undefined;
}

function outcomeOf(r: RunResult): string {
  return JSON.stringify({ results: r.results.map((x) => [x.index, x.ret, x.out, x.lost]), crash: r.crash === undefined ? null : [r.crash.opIndex, r.crash.crash.kind, r.crash.crash.kind === 'exception' ? r.crash.crash.message : r.crash.crash.site] });
}

describe('one thread: the concurrent build runs as the sequential model', () => {
  test('the build makes the functions that reach a switch point generators, and no more than it must', () => {
    expect(m.build.generators).toBeGreaterThan(200);
    expect(m.build.generators).toBeLessThan(m.build.functions / 2);
  });

  for (const rev of REVISIONS) {
    for (const backend of rev.backends) {
      for (const whatIf of [undefined, ...whatIfCellsOf(rev)] as (WhatIfMode | undefined)[]) {
        test(`${backend} × ${rev.id}${whatIf === undefined ? '' : ` [${whatIf}]`}`, () => {
          const conRev = m.revisionById(rev.id);
          expect(conRev).toBeDefined();
          if (conRev === undefined) return;
          const scenarios = fc.sample(arbitraryFor({ backend, revision: rev, ...(whatIf === undefined ? {} : { whatIf }) }), { seed: suiteSeed(), numRuns: PER_CELL });
          let deadlocks = 0;
          for (const sc of scenarios) {
            const seq = runScenario(sc, rev, { traceCalls: true });
            const con: ThreadsResult = m.runThreads(sc, conRev, { traceCalls: true });
            // A lock taken twice by one thread: the sequential model takes it anyway (the
            // lock-order invariant reports it), the scheduler blocks for good.
            if (con.schedule.end.kind === 'deadlock') {
              deadlocks++;
              expect(con.schedule.end.cycle.every((l) => l.waitsFor === l.thread)).toBe(true);
              continue;
            }
            expect(outcomeOf(con)).toBe(outcomeOf(seq));
            expect(firstDifference(logOf(seq), logOf(con)), JSON.stringify(sc, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))).toBeUndefined();
          }
          expect(deadlocks).toBeLessThan(scenarios.length);
        });
      }
    }
  }
});
