import { IN_PLACE_SERIES, inPlaceSeriesById } from '../model/kernel/inplace_series.js';
import { CELL_RUNS } from '../properties/explore.js';
import { REACH_KINDS, type ReachKind } from '../properties/reach.js';
import { parseSignature } from '../properties/signature.js';
import { integer, parse, str, UsageError } from './argParse.js';
import { parseFuzz, parseReport, type FuzzOptions, type ReportCommand } from './fuzzArgs.js';
import type { BackendId } from '../model/scenario/Scenario.js';
import { REVISIONS } from '../model/revisions/registry.js';
import { MUTANTS } from '../model/revisions/mutants.js';
import { INVARIANTS } from '../properties/registry.js';
import type { Revision } from '../model/revisions/Revision.js';
import { WHAT_IF_MODES, whatIfCellsOf, type WhatIfMode } from '../model/whatIf.js';
import type { Invariant } from '../properties/Invariant.js';

export { UsageError };

export const DEFAULT_SEED = 20261122;

export const USAGE = `usage: npx gmemcheck <command> [options]      (or: npm run gmemcheck -- <command> [options])

commands:
  list [--json]                       backends, revisions, injected bugs, properties, the expected matrix
    --reach userspace|firmware|hardware|debug|what-if
                                      only the known bugs that take this on a real machine, and where expected
  check [options]                     run revisions with every property watching; exit 0: every cell as the
                                      matrix expects, 1: a cell differs (new signature, expected bug missing,
                                      inconclusive coverage) or the model failed, 2: bad input, 130: interrupted
    --backend snp|tdx|cca|all         default all
    --revision NAME|all               a revision or injected bug from 'list'; default all revisions
    --revision-module FILE            your own revision (a .ts file; see new-revision) instead of --revision
    --property NAME|all               an invariant from 'list'; default all
    --what-if MODE|none|all           which cells of a revision: its default configuration (none), a what-if
                                      mode's cell from 'list' (a configuration its kernel refuses), or all;
                                      default all (a replay: none)
    --seed N                          fast-check seed (integer); default ${DEFAULT_SEED}
    --runs N                          runs per revision and backend (1..100000); default snp ${CELL_RUNS.snp}, tdx ${CELL_RUNS.tdx}, cca ${CELL_RUNS.cca}
    --signature SIG --path P          replay one finding, as its replay line prints them
    --strict                          any violation fails (exit 1), expected or not
    --verbose                         full traces for known bugs too (new findings always get one)
    --save                            write each finding's shrunk scenario to the corpus (not twice; never half-written)
    --corpus DIR                      corpus folder for --save; default corpus/
    --json                            one JSON document instead of text
  kernel --tree DIR [options]         run a kernel tree's own populate C (the patch under review applied) with
                                      every property watching, compared with the built-in revision of its
                                      kvm_gmem_populate() API; exit as check's, and 1 when the tree's code
                                      does not build, 2 when the prelude lacks something it uses (needs clang, lld)
    --backend snp|tdx|all             the vendor paths to build (default all: every one the tree has; cca not yet)
    --compare REV                     instead of checking: run the same generated scenarios on the tree's C and
                                      on revision REV, and print the first on which they differ, minimized
                                      (exit 0: none differed in --runs scenarios, 1: one did)
    --property, --what-if, --seed, --runs, --signature --path, --strict, --verbose, --json
                                      as for check
  replay FILE [options]               run one corpus scenario, compare with its recorded verdicts, print its trace
    --revision NAME|all               revisions to run; default every revision of the scenario's backend
    --revision-module FILE            also run your own revision
    --verbose                         show the quiet look-ups and memory accesses in the trace
    --json                            the verdicts and the trace as one JSON document
  new-revision NAME --from REV        write an editable copy of a built-in revision
    --out FILE                        where; default ./NAME.ts (never overwritten)
  fuzz [options]                      a campaign: the corpus replayed, then explorations round-robin over the
                                      cells under seeds seed, seed+1, ... on every core, until --time or --runs;
                                      new signatures written at once; exit 0: no new signature, 1: new
                                      signature(s) or a model error, 2: bad input, 130: interrupted
    --time DURATION                   wall-clock budget, e.g. 90s, 30m, 1h; default 60s unless --runs is given
    --runs N                          total exploration runs (the last unit is cut to fit)
    --backend, --revision, --revision-module, --property, --what-if, --seed
                                      the cells and seed, as for check
    --unit-runs N                     runs per unit (one exploration, one seed); default the cell's budget
    --workers N                       worker threads; default one per core
    --shard I/N                       this machine's share: units whose index is I-1 modulo N
    --out DIR                         report folder (new or empty); default reports/out/fuzz-DATE-TIME
    --resume DIR                      carry on an interrupted campaign in DIR, with the same seeds
  interleave [options]                threads on a deterministic scheduler (model/concurrent/): generated threads
                                      (populate, host faults on the guest_memfd mapping, mmap/munmap, madvise,
                                      punch-hole, attributes, close of the guest_memfd or VM) under PCT's
                                      random schedules, every invariant
                                      watching every step; each deadlock (its wait-for cycle) or violation only
                                      interleaving shows, every one found set aside for the next (bugs behind
                                      bugs), shrunk and drawn as a per-thread timeline; exit 0: every cell as
                                      expected (each known bug found: B2, B20, RFC v2's WARN past EOF; nothing
                                      else), 1: one differs, 2: bad input
    --backend snp|tdx|all             default all (x86: the in-place what-if is modelled there)
    --revision NAME|all               a revision or injected bug from 'list'; default all
    --what-if in-place|none           the machine: in-place conversion applied (default) or as merged
    --in-place-series ID              which in-place series: v8 (default), rfc-v2, or an injected form
                                      (rfc-v2~check-outside-lock, rfc-v2~no-safe-refcount, v8~no-conversion-checks)
    --runs N                          scenarios a cell (1..100000); default 400
    --depth D                         PCT's bug depth, ordering constraints a bug needs (1..6); default 3
    --seed N, --json                  as for check
    --scenario FILE                   instead: run a scenario it printed (with its threads and schedule), or a
                                      stored one (corpus/threads/), on each --revision of its backend, replaying
                                      its schedule
    --bound N                         with --scenario: every schedule of at most N preemptions (0..4) instead
  report merge DIR... [--out DIR]     merge shards' campaign folders into one report (as one unsharded run)
  report write DIR                    write a campaign folder's reports again from its state (report.html...)
`;

export interface ListOptions {
  readonly json: boolean;
  /** Only the known bugs that take this (reach.ts). */
  readonly reach: ReachKind | undefined;
}

export interface CheckOptions {
  readonly backends: readonly BackendId[];
  /** A revision module to load (it replaces `revisions`), as typed. */
  readonly revisionModule: string | undefined;
  /** Write counterexamples to this corpus folder (DEFAULT_CORPUS: this checkout's). */
  readonly saveTo: string | undefined;
  readonly revisions: readonly Revision[];
  /** Which cells of each revision (model/whatIf.ts): its default one, one what-if mode's, or all. */
  readonly whatIf: 'all' | 'none' | WhatIfMode;
  readonly invariants: readonly Invariant[];
  readonly seed: number;
  /** Undefined: each backend's calibrated budget (CELL_RUNS). */
  readonly runs: number | undefined;
  /** Replay one finding: its signature and fast-check path, from a replay line. */
  readonly replay: { readonly signature: string; readonly path: string } | undefined;
  readonly strict: boolean;
  readonly verbose: boolean;
  readonly json: boolean;
}

export interface ReplayArgs {
  readonly file: string;
  readonly revisions: readonly Revision[] | undefined;
  readonly revisionModule: string | undefined;
  readonly json: boolean;
  readonly verbose: boolean;
}

export interface InterleaveArgs {
  readonly backends: readonly ('snp' | 'tdx')[];
  readonly revisions: readonly Revision[];
  readonly inPlace: boolean;
  /** The in-place series (model/kernel/inplace_series.ts) when `inPlace`; the default (v8) when undefined. */
  readonly series: string | undefined;
  readonly runs: number;
  readonly seed: number;
  readonly depth: number;
  readonly json: boolean;
  /** A scenario file (threads and schedule) to replay, or to explore exhaustively within `bound`. */
  readonly scenario: string | undefined;
  readonly bound: number | undefined;
}

export interface NewRevisionArgs {
  readonly name: string;
  readonly from: Revision;
  readonly out: string;
}

export type Command =
  | { readonly kind: 'list'; readonly options: ListOptions }
  | { readonly kind: 'check'; readonly options: CheckOptions }
  | { readonly kind: 'kernel'; readonly tree: string; readonly compare: Revision | undefined; readonly options: CheckOptions }
  | { readonly kind: 'replay'; readonly options: ReplayArgs }
  | { readonly kind: 'new-revision'; readonly options: NewRevisionArgs }
  | { readonly kind: 'fuzz'; readonly options: FuzzOptions }
  | { readonly kind: 'interleave'; readonly options: InterleaveArgs }
  | ReportCommand
  | { readonly kind: 'help' };

const REVISION_ID = /^[a-z0-9][a-z0-9.+-]*$/;

export function parseCommand(argv: readonly string[]): Command {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === 'help' || cmd === '--help' || cmd === '-h') return { kind: 'help' };
  if (cmd === 'list') {
    const { values } = parse(rest, { json: { type: 'boolean' }, reach: { type: 'string' } });
    const reach = values.reach;
    if (typeof reach === 'string' && !(REACH_KINDS as readonly string[]).includes(reach)) throw new UsageError(`--reach must be one of ${REACH_KINDS.join(', ')}, got '${reach}'`);
    return { kind: 'list', options: { json: values.json === true, reach: REACH_KINDS.find((k) => k === reach) } };
  }
  if (cmd === 'replay') return parseReplay(rest);
  if (cmd === 'new-revision') return parseNewRevision(rest);
  if (cmd === 'fuzz') return { kind: 'fuzz', options: parseFuzz(rest, DEFAULT_SEED) };
  if (cmd === 'report') return parseReport(rest);
  if (cmd === 'kernel') return parseKernel(rest);
  if (cmd === 'interleave') return parseInterleave(rest);
  if (cmd !== 'check') throw new UsageError(`unknown command '${cmd}' (expected list, check, kernel, interleave, replay, new-revision, fuzz or report)`);
  return parseCheck(rest, false);
}

/** check's options; `revisionGiven`: the revision comes from elsewhere (kernel mode's tree). */
function parseCheck(rest: readonly string[], revisionGiven: boolean): Command {
  const { values } = parse(rest, {
    backend: { type: 'string' },
    revision: { type: 'string' },
    'revision-module': { type: 'string' },
    property: { type: 'string' },
    'what-if': { type: 'string' },
    seed: { type: 'string' },
    runs: { type: 'string' },
    path: { type: 'string' },
    signature: { type: 'string' },
    strict: { type: 'boolean' },
    verbose: { type: 'boolean' },
    save: { type: 'boolean' },
    corpus: { type: 'string' },
    json: { type: 'boolean' },
  });
  const revisionModule = str(values['revision-module']);
  if (revisionModule !== undefined && str(values.revision) !== undefined) throw new UsageError('give --revision or --revision-module, not both');
  if (str(values.corpus) !== undefined && values.save !== true) throw new UsageError('--corpus names where --save writes; give --save too');
  const backendArg = str(values.backend) ?? 'all';
  const allBackends: readonly BackendId[] = ['snp', 'tdx', 'cca'];
  const chosen = allBackends.find((b) => b === backendArg);
  if (backendArg !== 'all' && chosen === undefined) throw new UsageError(`--backend must be snp, tdx, cca or all, got '${backendArg}'`);
  const backends: readonly BackendId[] = chosen === undefined ? allBackends : [chosen];
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
  const signature = str(values.signature);
  const whatIfArg = str(values['what-if']) ?? (path === undefined ? 'all' : 'none');
  const whatIf = whatIfArg === 'all' || whatIfArg === 'none' ? whatIfArg : WHAT_IF_MODES.find((m) => m === whatIfArg);
  if (whatIf === undefined) throw new UsageError(`--what-if must be none, all or a mode (${WHAT_IF_MODES.join(', ')}), got '${whatIfArg}'`);
  if (whatIf !== 'all' && whatIf !== 'none' && revisionModule === undefined && !revisions.some((r) => whatIfCellsOf(r).includes(whatIf))) {
    throw new UsageError(`no ${revisionArg === 'all' ? 'revision' : `'${revisionArg}'`} cell runs under --what-if ${whatIf} (revisions with it: ${REVISIONS.filter((r) => whatIfCellsOf(r).includes(whatIf)).map((r) => r.id).join(', ') || 'none'})`);
  }
  if (path !== undefined || signature !== undefined) {
    if (path === undefined || signature === undefined) throw new UsageError('--signature and --path go together: copy both from the replay line');
    if (!/^\d+(:\d+)*$/.test(path)) throw new UsageError(`--path must look like 12:0:3, got '${path}'`);
    const sig = parseSignature(signature);
    if (sig === undefined) throw new UsageError(`--signature must look like invariant/message@function, got '${signature}'`);
    if (backendArg === 'all' || (revision === undefined && revisionModule === undefined && !revisionGiven) || invariant === undefined) {
      throw new UsageError('--path replays one finding: give --backend, --revision (or --revision-module) and --property too');
    }
    if (sig.invariant !== invariant.id) throw new UsageError(`--signature ${signature} is a finding of ${sig.invariant}, not of --property ${invariant.id}`);
    if (whatIf === 'all') throw new UsageError('--path replays one cell: --what-if names a mode, or none (the default)');
  }
  const usable = revisionModule !== undefined ? backends : backends.filter((b) => revisions.some((r) => r.backends.includes(b)));
  if (usable.length === 0) throw new UsageError(`revision '${revisionArg}' has no ${backendArg} backend`);
  return {
    kind: 'check',
    options: {
      backends: usable,
      revisionModule,
      saveTo: values.save === true ? (str(values.corpus) ?? DEFAULT_CORPUS) : undefined,
      revisions,
      whatIf,
      invariants: invariant === undefined ? INVARIANTS : [invariant],
      seed: integer('seed', str(values.seed), DEFAULT_SEED, -(2 ** 31), 2 ** 31 - 1),
      runs: str(values.runs) === undefined ? undefined : integer('runs', str(values.runs), 0, 1, 100_000),
      replay: path === undefined || signature === undefined ? undefined : { signature, path },
      strict: values.strict === true,
      verbose: values.verbose === true,
      json: values.json === true,
    },
  };
}

/** `--save` without `--corpus`: this checkout's corpus/ folder, wherever npm was run from. */
export const DEFAULT_CORPUS = '';

function parseReplay(argv: readonly string[]): Command {
  const { values, positionals } = parse(argv, { revision: { type: 'string' }, 'revision-module': { type: 'string' }, json: { type: 'boolean' }, verbose: { type: 'boolean' } }, true);
  const [file, ...extra] = positionals;
  if (file === undefined) throw new UsageError('replay needs a corpus file: npx gmemcheck replay corpus/NAME.json');
  if (extra.length > 0) throw new UsageError(`replay takes one file, got also '${extra.join(' ')}'`);
  const revisionArg = str(values.revision);
  let revisions: readonly Revision[] | undefined;
  if (revisionArg !== undefined && revisionArg !== 'all') {
    const r = [...REVISIONS, ...MUTANTS].find((x) => x.id === revisionArg);
    if (r === undefined) throw new UsageError(`--revision '${revisionArg}' is not a known revision (known: ${[...REVISIONS, ...MUTANTS].map((x) => x.id).join(', ')})`);
    revisions = [r];
  }
  return { kind: 'replay', options: { file, revisions, revisionModule: str(values['revision-module']), json: values.json === true, verbose: values.verbose === true } };
}

function parseNewRevision(argv: readonly string[]): Command {
  const { values, positionals } = parse(argv, { from: { type: 'string' }, out: { type: 'string' } }, true);
  const [typed, ...extra] = positionals;
  if (typed === undefined) throw new UsageError('new-revision needs a name: npx gmemcheck new-revision my-patch --from v7.0');
  // `new-revision my-fix.ts` names the file the user wants: the revision is my-fix, written to
  // my-fix.ts (not my-fix.ts.ts). No revision id ends in .ts, so nothing is lost by stripping it.
  const name = typed.replace(/\.m?ts$/, '');
  if (extra.length > 0) throw new UsageError(`new-revision takes one name, got also '${extra.join(' ')}'`);
  if (!REVISION_ID.test(name)) throw new UsageError(`revision name '${name}' must be lower-case letters, digits, '.', '+' and '-'`);
  if ([...REVISIONS, ...MUTANTS].some((r) => r.id === name)) throw new UsageError(`'${name}' is a built-in revision's name; choose another`);
  const fromArg = str(values.from);
  if (fromArg === undefined) throw new UsageError(`new-revision needs --from, one of ${REVISIONS.map((r) => r.id).join(', ')}`);
  const from = REVISIONS.find((r) => r.id === fromArg);
  if (from === undefined) throw new UsageError(`--from '${fromArg}' is not a built-in revision (known: ${REVISIONS.map((r) => r.id).join(', ')})`);
  const out = str(values.out) ?? (typed === name ? `${name}.ts` : typed);
  if (!/\.(ts|mts)$/.test(out)) throw new UsageError(`--out must name a .ts file, got '${out}'`);
  return { kind: 'new-revision', options: { name, from, out } };
}

/** `kernel --tree DIR` and check's options, less those that choose a revision (the tree is the revision). */
function parseKernel(rest: readonly string[]): Command {
  const valueOf = (flag: string): { value: string | undefined; others: string[] } => {
    const at = rest.findIndex((a) => a === flag || a.startsWith(`${flag}=`));
    const arg = rest[at];
    if (at < 0 || arg === undefined) return { value: undefined, others: [...rest] };
    const inline = arg.startsWith(`${flag}=`);
    const value = inline ? arg.slice(flag.length + 1) : rest[at + 1];
    if (value === undefined || value === '' || value.startsWith('--')) throw new UsageError(`${flag} needs a value`);
    return { value, others: rest.filter((_a, i) => i !== at && (inline || i !== at + 1)) };
  };
  const tree = valueOf('--tree');
  if (tree.value === undefined) throw new UsageError('kernel needs --tree DIR: the kernel tree whose populate code to run');
  rest = tree.others;
  const cmp = valueOf('--compare');
  rest = cmp.others;
  const compare = cmp.value === undefined ? undefined : REVISIONS.find((r) => r.id === cmp.value);
  if (cmp.value !== undefined && compare === undefined) throw new UsageError(`--compare '${cmp.value}' is not a built-in revision (known: ${REVISIONS.map((r) => r.id).join(', ')})`);
  for (const a of rest) {
    if (/^--(revision|revision-module|save|corpus)(=|$)/.test(a)) throw new UsageError(`${a.split('=')[0] ?? a} does not apply to kernel mode: the tree is the revision`);
  }
  const check = parseCheck(rest, true);
  if (check.kind !== 'check') throw new UsageError('kernel: bad options');
  return { kind: 'kernel', tree: tree.value, compare, options: check.options };
}

function parseInterleave(rest: readonly string[]): Command {
  const { values } = parse(rest, { backend: { type: 'string' }, revision: { type: 'string' }, 'what-if': { type: 'string' }, 'in-place-series': { type: 'string' }, runs: { type: 'string' }, depth: { type: 'string' }, seed: { type: 'string' }, json: { type: 'boolean' }, scenario: { type: 'string' }, bound: { type: 'string' } });
  const scenario = str(values.scenario);
  if (scenario === undefined && values.bound !== undefined) throw new UsageError('--bound explores one scenario\'s schedules: give --scenario FILE too');
  if (scenario !== undefined) {
    for (const flag of ['runs', 'depth', 'seed', 'what-if', 'in-place-series', 'backend'] as const) {
      if (values[flag] !== undefined) throw new UsageError(`--${flag} does not apply with --scenario (the file gives the backend, the machine and the threads)`);
    }
  }
  const backendArg = str(values.backend) ?? 'all';
  if (!['snp', 'tdx', 'all'].includes(backendArg)) throw new UsageError(`interleave: --backend must be snp, tdx or all (the in-place what-if is modelled on x86), got '${backendArg}'`);
  const backends = backendArg === 'all' ? (['snp', 'tdx'] as const) : backendArg === 'snp' ? (['snp'] as const) : (['tdx'] as const);
  const revisionArg = str(values.revision) ?? 'all';
  const known = [...REVISIONS, ...MUTANTS].filter((r) => r.backends.some((b) => b !== 'cca'));
  const revision = known.find((r) => r.id === revisionArg);
  if (revisionArg !== 'all' && revision === undefined) throw new UsageError(`--revision '${revisionArg}' is not a known x86 revision (known: ${known.map((r) => r.id).join(', ')})`);
  if (revision !== undefined && !backends.some((b) => revision.backends.includes(b))) throw new UsageError(`${revision.id} has no ${backends.join(' or ')} backend`);
  const whatIf = str(values['what-if']) ?? 'in-place';
  if (whatIf !== 'in-place' && whatIf !== 'none') throw new UsageError(`interleave: --what-if must be in-place or none, got '${whatIf}'`);
  const series = str(values['in-place-series']);
  if (series !== undefined && inPlaceSeriesById(series) === undefined) throw new UsageError(`--in-place-series '${series}' is not a known in-place series (known: ${IN_PLACE_SERIES.map((s) => s.id).join(', ')})`);
  if (series !== undefined && whatIf === 'none') throw new UsageError('--in-place-series needs the in-place what-if (drop --what-if none)');
  return {
    kind: 'interleave',
    options: {
      backends,
      revisions: revision === undefined ? REVISIONS.filter((r) => r.backends.some((b) => b !== 'cca')) : [revision],
      inPlace: whatIf === 'in-place',
      series,
      runs: integer('runs', str(values.runs), 400, 1, 100_000),
      depth: integer('depth', str(values.depth), 3, 1, 6),
      seed: integer('seed', str(values.seed), DEFAULT_SEED, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER),
      json: values.json === true,
      scenario,
      bound: values.bound === undefined ? undefined : integer('bound', str(values.bound), 0, 0, 4),
    },
  };
}
