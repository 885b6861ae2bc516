import { MUTANTS } from '../model/revisions/mutants.js';
import { REVISIONS } from '../model/revisions/registry.js';
import type { BackendId } from '../model/scenario/Scenario.js';
import type { WhatIfMode } from '../model/whatIf.js';
import { cellsOf } from '../properties/check.js';
import { CELL_RUNS, explore, scenarioSize, type PriorShown } from '../properties/explore.js';
import { INVARIANTS } from '../properties/registry.js';
import { breaksKey } from '../properties/expectations.js';
import { signatureMatches } from '../properties/signature.js';

/** One exploration of the detection benchmark: a revision on a backend under one seed. */
export interface DetectTask {
  readonly seed: number;
  readonly backend: BackendId;
  readonly revision: string;
  /** A what-if cell (model/whatIf.ts). */
  readonly whatIf?: WhatIfMode;
}

export interface DetectResult extends DetectTask {
  readonly ms: number;
  readonly findings: readonly { readonly key: string; readonly firstRun: number; readonly runsWithIt: number; readonly ops: number; readonly pages: number; readonly prior: PriorShown }[];
  readonly inconclusive: readonly string[];
  readonly modelErrors: number;
}

/** A built-in revision with every invariant, or an injected bug with the one it must break. */
export default function detect(t: DetectTask): DetectResult {
  const mutant = MUTANTS.find((m) => m.id === t.revision);
  const revision = mutant ?? REVISIONS.find((r) => r.id === t.revision);
  if (revision === undefined) throw new Error(`no revision ${t.revision}`);
  const invariants = mutant === undefined ? INVARIANTS : INVARIANTS.filter((i) => i.id === mutant.breaks.invariant);
  const t0 = performance.now();
  // An injected bug is only asked for the message it must break with.
  // (by its breaksKey(), so a functional-spec row in the key, `wrongErrno[GP.5]@...`, matches).
  const wanted = mutant === undefined ? undefined : (k: string) => signatureMatches(breaksKey(mutant), k);
  const x = explore({ backend: t.backend, revision, ...(t.whatIf === undefined ? {} : { whatIf: t.whatIf }), invariants, runs: CELL_RUNS[t.backend], seed: t.seed, ...(wanted === undefined ? {} : { wanted }) });
  return {
    ...t,
    ms: performance.now() - t0,
    findings: x.findings.map((f) => ({ key: f.key, firstRun: f.firstRun, runsWithIt: f.runsWithIt, ...scenarioSize(f.counterexample), prior: f.prior })),
    inconclusive: cellsOf(x, t.backend, revision).flatMap((c) => (c.status === 'inconclusive' ? [c.invariant] : [])),
    modelErrors: x.modelErrors.length,
  };
}
