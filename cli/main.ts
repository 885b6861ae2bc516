import { parseCommand, UsageError, USAGE } from './args.js';
import { runCheck } from './commands/check.js';
import { runList } from './commands/list.js';

/**
 * gmemcheck's command line. Exit status: 0 every property held (or nothing to check), 1 a
 * property was violated (or the model failed), 2 bad arguments.
 */
export function main(argv: readonly string[], write: (s: string) => void, writeErr: (s: string) => void): number {
  let command;
  try {
    command = parseCommand(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      writeErr(`gmemcheck: ${e.message}\n\n${USAGE}`);
      return 2;
    }
    throw e;
  }
  switch (command.kind) {
    case 'help':
      write(USAGE);
      return 0;
    case 'list':
      return runList(command.options, write);
    case 'check':
      return runCheck(command.options, write);
  }
}

if (process.argv[1] !== undefined && /cli[\\/]main\.ts$/.test(process.argv[1])) {
  process.exitCode = main(process.argv.slice(2), (s) => process.stdout.write(s), (s) => process.stderr.write(s));
}
