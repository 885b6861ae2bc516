import type { BackendId, Scenario } from '../model/scenario/Scenario.js';
import type { Event } from '../model/world/events.js';
import type { ExplorationReport, RevisionRef } from '../reports/checkReport.js';
import type { WhatIfMode } from '../model/whatIf.js';
import type { KernelCBackend, KernelCMeta } from '../model/kernelc/revision.js';
import type { Comparison } from '../properties/compare.js';

/**
 * Messages between the CLI and the worker thread that runs revision code. Revision code runs
 * off the main thread so that whatever it does (loop without end, throw, allocate) the CLI stays
 * in charge: a watchdog ends a worker that stops reporting progress, and Ctrl-C still prints
 * what was done.
 */

/**
 * A revision the worker can load: a built-in one (or an injected bug) by id, a module file, or
 * a kernel tree's populate C as built by `gmemcheck kernel` (its wasm file and what it is).
 */
export type RevisionSource =
  | { readonly builtIn: string }
  | { readonly module: string; readonly shown: string }
  /** One wasm file per backend the tree was built for. */
  | { readonly kernelC: readonly (readonly [KernelCBackend, string])[]; readonly meta: KernelCMeta };

export interface ExploreTask {
  readonly kind: 'explore';
  readonly id: number;
  readonly backend: BackendId;
  readonly revision: RevisionSource;
  readonly ref: RevisionRef;
  /** A what-if cell (model/whatIf.ts). */
  readonly whatIf?: WhatIfMode;
  readonly invariants: readonly string[];
  readonly runs: number;
  readonly seed: number;
  /** Replay one finding instead of exploring: its signature and the path printed with it. */
  readonly replay?: { readonly signature: string; readonly path: string };
}

/** Run one scenario with every kernel call logged, sending each event as it happens. */
export interface TraceTask {
  readonly kind: 'trace';
  readonly id: number;
  readonly backend: BackendId;
  readonly revision: RevisionSource;
  readonly scenario: Scenario;
}

/** Differential runs of a revision against a built-in one (`kernel --compare`), under the watchdog. */
export interface CompareTask {
  readonly kind: 'compare';
  readonly id: number;
  readonly backend: BackendId;
  readonly revision: RevisionSource;
  /** The built-in revision's id. */
  readonly other: string;
  readonly runs: number;
  readonly seed: number;
}

export type WorkerTask = ExploreTask | TraceTask | CompareTask;

export type WorkerMessage =
  /** A scenario is about to run (the watchdog's heartbeat; `phase` says whether it is one of the budget's runs). */
  | { readonly kind: 'run'; readonly id: number; readonly phase: 'explore' | 'shrink'; readonly scenario: Scenario }
  | { readonly kind: 'done'; readonly id: number; readonly report: ExplorationReport }
  | { readonly kind: 'compared'; readonly id: number; readonly comparison: Comparison }
  /** A replay whose path does not show its signature. */
  | { readonly kind: 'not-reproduced'; readonly id: number; readonly reason: string }
  | { readonly kind: 'event'; readonly id: number; readonly event: Event }
  | { readonly kind: 'traced'; readonly id: number }
  /** The worker could not do the task at all (a module that no longer loads, a model bug). */
  | { readonly kind: 'failed'; readonly id: number; readonly error: string };
