import type { BackendId } from '../model/scenario/Scenario.js';
import { BUGS, type BugId, type KnownBug } from './bugs.js';

/**
 * The expected verdict of every cell: invariant × backend × revision. A cell names the known
 * bug it must find, or is absent from its row and must hold. Like TLA+'s manifest.json and
 * TF-RMM's baselines, a change in either direction fails until this file is updated.
 */
const ROWS: Readonly<Record<string, Readonly<Partial<Record<`${BackendId}/${string}`, BugId>>>>> = {
  'world-well-formed': {},
  'kmap-local-lifo': { 'snp/rfc-v1': 'G1', 'snp/v7.0': 'G1' },
  'leaked-page': {
    'snp/v6.11': 'G4', 'snp/rfc-v1': 'G4', 'snp/v7.0': 'G4', 'snp/kvm-x86-next': 'G4',
    'tdx/v6.11': 'G5', 'tdx/rfc-v1': 'G5', 'tdx/v7.0': 'G5', 'tdx/kvm-x86-next': 'G5',
  },
  'lock-order': { 'snp/v6.11': 'B2', 'tdx/v6.11': 'B2' },
  measurement: { 'tdx/rfc-v1': 'B3' },
  'memory-safety': { 'tdx/rfc-v1': 'B3' },
  'no-double-private': { 'snp/v6.11': 'B1-consequence' },
  'private-attribute-precondition': {},
  'refcount-balance': { 'snp/v6.11': 'B1', 'snp/rfc-v1': 'B7', 'tdx/rfc-v1': 'B7' },
  'return-value-contract': {},
  'source-write-permission': { 'snp/rfc-v1': 'G2', 'snp/v7.0': 'G2' },
  'src-offset-straddling': { 'tdx/rfc-v1': 'B3' },
  'warn-reachable': { 'snp/v6.11': 'G3', 'snp/rfc-v1': 'G3', 'snp/v7.0': 'G3' },
};

export type Expectation = { readonly verdict: 'holds' } | { readonly verdict: 'violated'; readonly bug: KnownBug };

export function expectation(invariant: string, backend: BackendId, revision: string): Expectation {
  const row = ROWS[invariant];
  if (row === undefined) throw new Error(`matrix has no row for invariant ${invariant}`);
  const bug = row[`${backend}/${revision}`];
  return bug === undefined ? { verdict: 'holds' } : { verdict: 'violated', bug: BUGS[bug] };
}

export function matrixInvariants(): string[] {
  return Object.keys(ROWS);
}
