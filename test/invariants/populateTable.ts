import { describe, expect, test } from 'vitest';
import { REVISIONS } from '../../model/revisions/registry.js';
import type { RunResult } from '../../model/scenario/runScenario.js';
import type { BackendId, Op, Scenario } from '../../model/scenario/Scenario.js';
import { runWithInvariant } from '../../properties/check.js';
import { returnValueContract } from '../../properties/invariants/return-value-contract.js';
import { scenario } from '../model/fixtures.js';

/** What the last operation must return: its ioctl value and (a subset of) its written-back fields. */
export interface Want {
  readonly ret: number;
  readonly out?: Readonly<Record<string, number>>;
  readonly check?: (r: RunResult) => void;
  /** Return-value-contract message ids the row shows on this revision (a known bug of it); none by default. */
  readonly contract?: readonly string[];
}

/**
 * A row: a scenario and, per revision id, what its last operation returns (`*` for every
 * revision not named). Every row also checks the return-value contract, which the matrix expects
 * to hold for every real revision.
 */
export interface PopulateRow {
  readonly name: string;
  readonly ops: readonly Op[];
  readonly ub?: Readonly<Record<string, number>>;
  /** Arm CCA machine set-up (granules per page, RTT depth); the backend's default when absent. */
  readonly cca?: Scenario['cca'];
  readonly want: Readonly<Record<string, Want>>;
}

export function populateTable(backend: BackendId, title: string, rows: readonly PopulateRow[]): void {
  describe(`${backend}: ${title}`, () => {
    for (const row of rows) {
      for (const revision of REVISIONS.filter((r) => r.backends.includes(backend))) {
        const want = row.want[revision.id] ?? row.want['*'];
        if (want === undefined) continue;
        test(`${row.name} [${revision.id}] -> ${want.ret}`, () => {
          const base = scenario(backend, row.ops, row.ub ?? {});
          const s: Scenario = row.cca === undefined ? base : { ...base, cca: row.cca };
          const { violations, result } = runWithInvariant(s, revision, returnValueContract);
          expect(violations.map((v) => v.messageId)).toEqual(want.contract ?? []);
          const lastResult = result.results[s.ops.length - 1];
          expect(lastResult?.ret).toBe(want.ret);
          if (want.out !== undefined) expect(lastResult?.out).toMatchObject(want.out);
          want.check?.(result);
        });
      }
    }
  });
}
