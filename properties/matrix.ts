import type { BackendId } from '../model/scenario/Scenario.js';
import { BUGS, type BugId, type KnownBug } from './bugs.js';

/**
 * The expected verdict of every cell: invariant × backend × revision. A cell names the known
 * bug it must find, or is absent from its row and must hold. Like TLA+'s manifest.json and
 * TF-RMM's baselines, a change in either direction fails until this file is updated.
 */
const ROWS: Readonly<Record<string, Readonly<Partial<Record<`${BackendId}/${string}`, BugId | readonly BugId[]>>>>> = {
  'world-well-formed': {},
  'gmem-no-kvm-refs': { 'cca/rme-v9': 'G8', 'cca/rme-v12': 'B23' },
  'kmap-local-lifo': { 'snp/rfc-v1': 'G1', 'snp/v7.0': 'G1' },
  'leaked-page': {
    'snp/v6.11': 'G4', 'snp/rfc-v1': 'G4', 'snp/v7.0': 'G4', 'snp/kvm-x86-next': 'G4',
    'tdx/v6.11': 'G5', 'tdx/rfc-v1': 'G5', 'tdx/v7.0': 'G5', 'tdx/kvm-x86-next': 'G5',
    'cca/rme-v9': 'G8', 'cca/rme-v12': ['G13', 'B23-consequence'], 'cca/rmi-newest': 'G13',
  },
  'lock-order': { 'snp/v6.11': 'B2', 'tdx/v6.11': 'B2', 'cca/rme-v9': 'G6' },
  measurement: { 'tdx/rfc-v1': 'B3', 'cca/rme-v9': 'G9', 'cca/rme-v12': ['G10', 'G11'] },
  'memory-safety': { 'tdx/rfc-v1': 'B3' },
  'no-double-private': { 'snp/v6.11': 'B1-consequence' },
  'private-attribute-precondition': { 'cca/rme-v9': 'G7' },
  'refcount-balance': { 'snp/v6.11': 'B1', 'snp/rfc-v1': 'B7', 'tdx/rfc-v1': 'B7', 'cca/rme-v9': 'G8', 'cca/rme-v12': 'B23-consequence' },
  'return-value-contract': { 'cca/rme-v9': 'G9', 'cca/rme-v12': 'G10' },
  'source-write-permission': { 'snp/rfc-v1': 'G2', 'snp/v7.0': 'G2' },
  'src-offset-straddling': { 'tdx/rfc-v1': 'B3', 'cca/rme-v12': 'G11' },
  'warn-reachable': { 'snp/v6.11': 'G3', 'snp/rfc-v1': 'G3', 'snp/v7.0': 'G3', 'cca/rme-v12': 'G12' },
};

/**
 * A violated cell names one known bug, or several when the cell has more than one known cause
 * (whichever the search shrinks to first is accepted; `bug` is the first listed).
 */
export type Expectation = { readonly verdict: 'holds' } | { readonly verdict: 'violated'; readonly bug: KnownBug; readonly bugs: readonly KnownBug[] };

/** The expected bug a violation's message belongs to, if any. */
export function bugForMessage(e: Expectation, messageId: string | undefined): KnownBug | undefined {
  return e.verdict === 'violated' && messageId !== undefined ? e.bugs.find((b) => b.messageIds.includes(messageId)) : undefined;
}

export function expectation(invariant: string, backend: BackendId, revision: string): Expectation {
  const row = ROWS[invariant];
  if (row === undefined) throw new Error(`matrix has no row for invariant ${invariant}`);
  const cell = row[`${backend}/${revision}`];
  if (cell === undefined) return { verdict: 'holds' };
  const bugs = (typeof cell === 'string' ? [cell] : cell).map((id) => BUGS[id]);
  const first = bugs[0];
  if (first === undefined) throw new Error(`matrix cell ${invariant} ${backend}/${revision} lists no bug`);
  return { verdict: 'violated', bug: first, bugs };
}

export function matrixInvariants(): string[] {
  return Object.keys(ROWS);
}
