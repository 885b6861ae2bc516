import { describe, expect, test } from 'vitest';
import { MUTANTS, type Mutant } from '../../model/revisions/mutants.js';
import { revisionById } from '../../model/revisions/registry.js';
import type { Revision } from '../../model/revisions/Revision.js';
import type { RunResult } from '../../model/scenario/runScenario.js';
import type { BackendId, Scenario } from '../../model/scenario/Scenario.js';
import type { WhatIfMode } from '../../model/whatIf.js';
import { runWithInvariant } from '../../properties/check.js';
import type { Invariant } from '../../properties/Invariant.js';
import { expectation } from '../../properties/matrix.js';
import { bugMessageIds } from '../../properties/bugs.js';

/**
 * typescript-eslint RuleTester-style tables for invariants: `holds` rows are scenarios on which
 * the invariant must report nothing for the given revision; `violated` rows name the message id
 * the first violation must carry (and, optionally, the operation it happens in and further ids
 * the same operation must also report). A `check` sees the run, to pin ioctl results.
 */
export interface HoldsCase {
  readonly name: string;
  readonly revision: Revision;
  readonly scenario: Scenario;
  readonly check?: (r: RunResult) => void;
}

export interface ViolatedCase<M extends string> {
  readonly name: string;
  readonly revision: Revision;
  readonly scenario: Scenario;
  readonly messageId: M;
  /** The first violation's detail (the oracle row in its signature), where it has one. */
  readonly detail?: string;
  readonly opIndex?: number;
  /** Other message ids the failing operation must report too. */
  readonly also?: readonly M[];
  readonly check?: (r: RunResult) => void;
}

export interface CaseTable<M extends string> {
  readonly holds: readonly HoldsCase[];
  readonly violated: readonly ViolatedCase<M>[];
}

export function rev(id: string): Revision {
  const r = revisionById(id);
  if (r === undefined) throw new Error(`no revision ${id}`);
  return r;
}

export function mutant(id: string): Mutant {
  const m = MUTANTS.find((x) => x.id === id);
  if (m === undefined) throw new Error(`no mutant ${id}`);
  return m;
}

export function invariantCases<M extends string>(inv: Invariant<M>, table: CaseTable<M>): void {
  describe(inv.id, () => {
    test('the table has both kinds of rows', () => {
      expect(table.holds.length).toBeGreaterThan(0);
      expect(table.violated.length).toBeGreaterThan(0);
    });
    for (const c of table.holds) {
      test(`holds: ${c.name} [${c.revision.id}]`, () => {
        const { violations, result } = runWithInvariant(c.scenario, c.revision, inv);
        expect(violations.map((v) => `${v.messageId}: ${v.message}`)).toEqual([]);
        expect(result.results).toHaveLength(c.scenario.ops.length);
        c.check?.(result);
      });
    }
    for (const c of table.violated) {
      test(`violated (${c.messageId}): ${c.name} [${c.revision.id}]`, () => {
        expect(Object.keys(inv.messages)).toContain(c.messageId);
        const { violations, result } = runWithInvariant(c.scenario, c.revision, inv);
        const first = violations[0];
        expect(first?.messageId, violations.map((v) => v.message).join('\n')).toBe(c.messageId);
        expect(first?.invariant).toBe(inv.id);
        if (c.detail !== undefined) expect(first?.detail).toBe(c.detail);
        if (c.opIndex !== undefined) expect(first?.opIndex).toBe(c.opIndex);
        // The run stops after the operation that broke the invariant (in it, if the kernel crashed).
        if (first !== undefined) expect(result.results).toHaveLength(result.crash === undefined ? first.opIndex + 1 : first.opIndex);
        for (const id of c.also ?? []) expect(violations.map((v) => v.messageId)).toContain(id);
        c.check?.(result);
      });
    }
  });
}

/** The matrix says this real revision must break this invariant on this backend (one of the cell's bugs carries the message). */
export function expectMatrixViolated(invariant: string, backend: BackendId, revision: string, messageId: string, whatIf?: WhatIfMode): void {
  const e = expectation(invariant, backend, revision, whatIf);
  expect(e.verdict).toBe('violated');
  if (e.verdict === 'violated') expect(e.bugs.flatMap(bugMessageIds)).toContain(messageId);
}
