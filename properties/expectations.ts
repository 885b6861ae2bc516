import type { Revision } from '../model/revisions/Revision.js';
import { MUTANTS, type Mutant } from '../model/revisions/mutants.js';
import { REVISIONS } from '../model/revisions/registry.js';
import type { BackendId } from '../model/scenario/Scenario.js';
import type { WhatIfMode } from '../model/whatIf.js';
import type { KnownBug } from './bugs.js';
import { expectation, judgeAgainst, type CellJudgement, type Expectation } from './matrix.js';
import type { Finding } from './explore.js';
import type { SignatureKey } from './signature.js';

/**
 * What a cell is expected to do, for any revision a check can run: a built-in revision has its
 * matrix row; an injected bug has its base revision's row plus the bug it injects; a reviewer's
 * module made with `new-revision --from` is held to its parent's row (so the report reads as a
 * delta); any other module has no expectation, and everything it shows is new.
 */
export interface CellExpectation {
  readonly expectation: Expectation;
  /** The built-in revision whose row this is, when it is not the revision's own. */
  readonly inheritedFrom?: string;
  /** A reviewer's module made from `inheritedFrom`: a bug of that row it no longer shows is fixed. */
  readonly derived?: true;
  /** No row at all: a module without `derivedFrom`. */
  readonly unspecified?: true;
}

/** The signature an injected bug must be found by: its message (with its row, if it names one) at any function. */
export function breaksKey(m: Pick<Mutant, 'breaks'>): SignatureKey {
  return `${m.breaks.invariant}/${m.breaks.messageId}[${m.breaks.detail ?? '*'}]@*`;
}

export function expectedFor(revision: Pick<Revision, 'id' | 'derivedFrom'>, invariant: string, backend: BackendId, whatIf?: WhatIfMode): CellExpectation {
  const mutant = MUTANTS.find((m) => m.id === revision.id);
  if (mutant !== undefined) {
    const base = expectation(invariant, backend, mutant.base, whatIf);
    if (mutant.breaks.invariant !== invariant) return { expectation: base, inheritedFrom: mutant.base };
    const injected: KnownBug = {
      id: `injected:${mutant.id}`,
      title: mutant.description,
      link: 'model/revisions/mutants.ts',
      status: 'injected to show the invariant can fail',
      signatures: [breaksKey(mutant)],
      maxOps: 6,
      maxPages: 8,
    };
    const bugs = base.verdict === 'violated' ? [injected, ...base.bugs] : [injected];
    return { expectation: { verdict: 'violated', bug: injected, bugs, tolerated: base.tolerated, excluded: base.excluded }, inheritedFrom: mutant.base };
  }
  if (REVISIONS.some((r) => r.id === revision.id)) return { expectation: expectation(invariant, backend, revision.id, whatIf) };
  if (revision.derivedFrom !== undefined) return { expectation: expectation(invariant, backend, revision.derivedFrom, whatIf), inheritedFrom: revision.derivedFrom, derived: true };
  return { expectation: { verdict: 'holds', tolerated: [], excluded: [] }, unspecified: true };
}

/**
 * How a cell came out against its expectation. `differs` is what a check fails on: a signature
 * no expected bug explains, an expected bug not found, or a cell that holds without having
 * reached its coverage minimums. A reviewer's derived module that no longer shows a bug its
 * parent has is `fixed`, which is the point of a patch, not a failure.
 */
export type CellVerdict = 'as-expected' | 'fixed' | 'differs';

export interface CellOutcome extends CellJudgement {
  readonly verdict: CellVerdict;
  readonly inconclusive: boolean;
}

export function judgeCell(e: CellExpectation, findings: readonly Finding[], inconclusive: boolean, revision?: Pick<Revision, 'id'> & Partial<Pick<Revision, 'arm' | 'derivedFrom'>>): CellOutcome {
  const j = judgeAgainst(e.expectation, findings, revision);
  const fixed = e.derived === true ? j.missing : [];
  const missing = j.missing.filter((b) => !fixed.includes(b));
  const verdict: CellVerdict = j.unexpected.length > 0 || missing.length > 0 || inconclusive ? 'differs' : fixed.length > 0 ? 'fixed' : 'as-expected';
  return { ...j, missing, verdict, inconclusive };
}
