import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { revisionsFor } from '../model/revisions/registry.js';
import { CorpusFileError, loadCorpusFile } from '../properties/corpus/load.js';
import { DEFAULT_CORPUS, parseCommand, UsageError, USAGE } from './args.js';
import { ReplayMismatch, runCheck } from './commands/check.js';
import { KernelModeError, runKernel } from './commands/kernel.js';
import { runInterleave } from './commands/interleave.js';
import { runList } from './commands/list.js';
import { runNewRevision } from './commands/newRevision.js';
import { runReplay } from './commands/replay.js';
import { runFuzz } from './commands/fuzz.js';
import { runReportMerge } from './commands/reportMerge.js';
import { runReportWrite } from './commands/reportWrite.js';
import { CampaignStateError } from './fuzz/state.js';
import { loadRevisionModule, REPO_ROOT, RevisionModuleError, shownPath, userPath } from './revisionModule.js';

/**
 * gmemcheck's command line. Exit status: 0 every property held (or nothing to check; a fuzz
 * campaign met no new signature), 1 a property was violated (a new signature, or the model
 * failed), 2 bad input: arguments, a revision module, a corpus file or a campaign folder, each
 * named with what is wrong. Nothing the user has is overwritten.
 */
export async function main(argv: readonly string[], write: (s: string) => void, writeErr: (s: string) => void, opts: { readonly errTty?: boolean } = {}): Promise<number> {
  try {
    const command = parseCommand(argv);
    switch (command.kind) {
      case 'help':
        write(USAGE);
        return 0;
      case 'list':
        return runList(command.options, write);
      case 'check': {
        const o = command.options;
        const io = { write, writeErr };
        if (o.revisionModule === undefined) {
          const builtIn = o.revisions.map((revision) => ({ revision, source: { builtIn: revision.id }, ref: { id: revision.id } }));
          return await runCheck({ ...o, saveTo: saveDir(o.saveTo) }, builtIn, io);
        }
        const mine = await loadRevisionModule(o.revisionModule);
        const backends = o.backends.filter((b) => mine.backends.includes(b));
        if (backends.length === 0) throw new UsageError(`${o.revisionModule} implements ${mine.backends.join(', ')}, not ${o.backends.join(', ')}`);
        const file = userPath(o.revisionModule);
        const ref = { id: mine.id, module: o.revisionModule, ...(mine.derivedFrom === undefined ? {} : { derivedFrom: mine.derivedFrom }) };
        return await runCheck({ ...o, backends, saveTo: saveDir(o.saveTo) }, [{ revision: mine, source: { module: file, shown: o.revisionModule }, ref }], io);
      }
      case 'interleave': {
        const o = command.options;
        return await runInterleave({ ...o, scenario: o.scenario === undefined ? undefined : { shown: o.scenario, file: userPath(o.scenario) } }, write);
      }
      case 'kernel':
        return await runKernel({ tree: userPath(command.tree), treeShown: command.tree, compare: command.compare, check: command.options }, { write, writeErr });
      case 'replay': {
        const o = command.options;
        const file = userPath(o.file);
        const { entry } = loadCorpusFile(file);
        const backend = entry.scenario.backend;
        const revisions = [...(o.revisions ?? revisionsFor(backend)), ...(o.revisionModule === undefined ? [] : [await loadRevisionModule(o.revisionModule)])];
        const wrong = revisions.filter((r) => !r.backends.includes(backend));
        if (wrong.length > 0) throw new UsageError(`${wrong.map((r) => r.id).join(', ')} has no ${backend} backend, which ${o.file} needs`);
        return runReplay({ file, entry, revisions, traceOf: o.revisionModule !== undefined ? revisions[revisions.length - 1]?.id : o.revisions?.[0]?.id, json: o.json, verbose: o.verbose }, write);
      }
      case 'new-revision':
        return runNewRevision({ ...command.options, out: userPath(command.options.out) }, write);
      case 'fuzz':
        return await runFuzz(command.options, { write, writeErr, tty: opts.errTty === true });
      case 'report-merge':
        return runReportMerge(command.options, { write, writeErr });
      case 'report-write':
        return runReportWrite(command.options, { write, writeErr });
    }
  } catch (e) {
    if (e instanceof UsageError) {
      writeErr(`gmemcheck: ${e.message}\n\n${USAGE}`);
      return 2;
    }
    if (e instanceof RevisionModuleError || e instanceof ReplayMismatch || e instanceof CampaignStateError || e instanceof KernelModeError) {
      writeErr(`gmemcheck: ${e.message}\n`);
      return 2;
    }
    if (e instanceof CorpusFileError) {
      writeErr(`gmemcheck: ${CorpusFileError.describe(shownPath(e.file), e.problems)}\n`);
      return 2;
    }
    throw e;
  }
}

/** `--save`'s folder: this checkout's corpus/ by default, else as the user typed it. */
function saveDir(saveTo: string | undefined): string | undefined {
  if (saveTo === undefined) return undefined;
  return saveTo === DEFAULT_CORPUS ? join(REPO_ROOT, 'corpus') : userPath(saveTo);
}

/**
 * Exit status when the reader of our output went away (`gmemcheck list | head -1`): what a Unix
 * tool killed by SIGPIPE reports (128 + 13), so a `set -o pipefail` script sees the same as with
 * `seq 1000 | head -1`, and not a verdict the run never reached. Node ignores SIGPIPE, so it is
 * an exit status rather than the signal.
 */
export const EXIT_READER_GONE = 141;

/** Writes to a stream that may be a pipe whose reader has closed: then exit quietly at once. */
function writerTo(stream: NodeJS.WriteStream): (s: string) => void {
  const gone = (e: unknown) => e instanceof Error && 'code' in e && e.code === 'EPIPE';
  // The failed write destroys the stream and reports the error on the next tick; a command that
  // computes for minutes between writes would otherwise run on, and the late 'error' would be
  // an uncaught EPIPE with a stack trace.
  stream.on('error', (e) => {
    if (gone(e)) process.exit(EXIT_READER_GONE);
    throw e;
  });
  return (s) => {
    if (stream.destroyed && gone(stream.errored)) process.exit(EXIT_READER_GONE);
    stream.write(s);
    if (stream.destroyed && gone(stream.errored)) process.exit(EXIT_READER_GONE);
  };
}

/** Runs gmemcheck on this process's arguments and standard streams (bin/gmemcheck.mjs, npm run). */
export async function runCli(): Promise<void> {
  process.exitCode = await main(process.argv.slice(2), writerTo(process.stdout), writerTo(process.stderr), { errTty: process.stderr.isTTY });
}

/** Run as a script (`tsx cli/main.ts`, the npm script) rather than imported (the launcher, tests). */
function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) await runCli();
