import { parseArgs } from 'node:util';
import type { BackendId } from '../model/scenario/Scenario.js';
import { REVISIONS } from '../model/revisions/registry.js';
import { MUTANTS } from '../model/revisions/mutants.js';
import { INVARIANTS } from '../properties/registry.js';
import type { Revision } from '../model/revisions/Revision.js';
import type { Invariant } from '../properties/Invariant.js';

/** Bad command-line input: printed with the usage, exit status 2. */
export class UsageError extends Error {}

export const DEFAULT_SEED = 20261122;
export const DEFAULT_RUNS = 300;

export const USAGE = `usage: npm run gmemcheck -- <command> [options]

commands:
  list [--json]                       backends, revisions, injected bugs, properties, the expected matrix
  check [options]                     run properties against revisions (exit 0: all hold, 1: a violation, 2: bad arguments)
    --backend snp|tdx|all             default all
    --revision NAME|all               a revision or injected bug from 'list'; default all revisions
    --property NAME|all               an invariant from 'list'; default all
    --seed N                          fast-check seed (integer); default ${DEFAULT_SEED}
    --runs N                          runs per cell (1..100000); default ${DEFAULT_RUNS}
    --path P                          replay path printed by a violation (needs one backend, revision and property)
    --json                            one JSON document instead of text
`;

export interface ListOptions {
  readonly json: boolean;
}

export interface CheckOptions {
  readonly backends: readonly BackendId[];
  readonly revisions: readonly Revision[];
  readonly invariants: readonly Invariant[];
  readonly seed: number;
  readonly runs: number;
  readonly path: string | undefined;
  readonly json: boolean;
}

export type Command = { readonly kind: 'list'; readonly options: ListOptions } | { readonly kind: 'check'; readonly options: CheckOptions } | { readonly kind: 'help' };

type ArgOptions = Record<string, { readonly type: 'string' | 'boolean' }>;

function parse(argv: readonly string[], options: ArgOptions): { values: Record<string, string | boolean | (string | boolean)[] | undefined> } {
  try {
    return parseArgs({ args: [...argv], options, allowPositionals: false, strict: true });
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
}

function integer(name: string, raw: string | undefined, dflt: number, min: number, max: number): number {
  if (raw === undefined) return dflt;
  if (!/^-?\d+$/.test(raw)) throw new UsageError(`--${name} must be an integer, got '${raw}'`);
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be between ${min} and ${max}, got ${raw}`);
  return n;
}

function str(v: string | boolean | (string | boolean)[] | undefined): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

export function parseCommand(argv: readonly string[]): Command {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === 'help' || cmd === '--help' || cmd === '-h') return { kind: 'help' };
  if (cmd === 'list') {
    const { values } = parse(rest, { json: { type: 'boolean' } });
    return { kind: 'list', options: { json: values.json === true } };
  }
  if (cmd !== 'check') throw new UsageError(`unknown command '${cmd}' (expected list or check)`);
  const { values } = parse(rest, {
    backend: { type: 'string' },
    revision: { type: 'string' },
    property: { type: 'string' },
    seed: { type: 'string' },
    runs: { type: 'string' },
    path: { type: 'string' },
    json: { type: 'boolean' },
  });
  const backendArg = str(values.backend) ?? 'all';
  if (!['snp', 'tdx', 'all'].includes(backendArg)) throw new UsageError(`--backend must be snp, tdx or all, got '${backendArg}'`);
  const backends: BackendId[] = backendArg === 'all' ? ['snp', 'tdx'] : [backendArg === 'snp' ? 'snp' : 'tdx'];
  const revisionArg = str(values.revision) ?? 'all';
  const known = [...REVISIONS, ...MUTANTS];
  const revision = known.find((r) => r.id === revisionArg);
  if (revisionArg !== 'all' && revision === undefined) {
    throw new UsageError(`--revision '${revisionArg}' is not a known revision (known: ${known.map((r) => r.id).join(', ')})`);
  }
  const revisions = revision === undefined ? REVISIONS : [revision];
  const propertyArg = str(values.property) ?? 'all';
  const invariant = INVARIANTS.find((i) => i.id === propertyArg);
  if (propertyArg !== 'all' && invariant === undefined) {
    throw new UsageError(`--property '${propertyArg}' is not a known property (known: ${INVARIANTS.map((i) => i.id).join(', ')})`);
  }
  const path = str(values.path);
  if (path !== undefined) {
    if (!/^\d+(:\d+)*$/.test(path)) throw new UsageError(`--path must look like 12:0:3, got '${path}'`);
    if (backendArg === 'all' || revision === undefined || invariant === undefined) {
      throw new UsageError('--path replays one cell: give --backend, --revision and --property too');
    }
  }
  const usable = backends.filter((b) => revisions.some((r) => r.backends.includes(b)));
  if (usable.length === 0) throw new UsageError(`revision '${revisionArg}' has no ${backendArg} backend`);
  return {
    kind: 'check',
    options: {
      backends: usable,
      revisions,
      invariants: invariant === undefined ? INVARIANTS : [invariant],
      seed: integer('seed', str(values.seed), DEFAULT_SEED, -(2 ** 31), 2 ** 31 - 1),
      runs: integer('runs', str(values.runs), DEFAULT_RUNS, 1, 100_000),
      path,
      json: values.json === true,
    },
  };
}
