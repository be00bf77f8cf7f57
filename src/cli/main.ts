import { Command, CommanderError } from 'commander';
import { isXsError } from '../client/index.js';
import { daemonCommand } from './daemon.js';
import { historyCommands } from './history.js';
import { exportCommand } from './export.js';
import { snapshotCommand } from './snapshot.js';
import { socketOption } from './socketOption.js';
import { watchCommand } from './watch.js';
import { TERMS_HELP } from './help.js';
import { HistoryError } from './query.js';

/** With --json anywhere on the command line, errors too are one JSON value on stdout. */
const json = process.argv.includes('--json');

// The command name other processes see (/proc/PID/comm: `ps`, and the Xenstore-Comm trailer
// of what the CLI changes, such as revert-to).
process.title = 'xsgit';

const program = new Command();
program.name('xsgit').description('A git-backed, versioned xenstored').version('0.1.0');
// Commander's own errors (a missing argument, an unknown option) come here as exceptions, so
// that they are reported like every other error (inherited by the subcommands added below).
program.exitOverride();
program.configureOutput({ writeErr: (s) => (json ? undefined : process.stderr.write(s)) });
socketOption(program);
daemonCommand(program);
historyCommands(program);
exportCommand(program);
snapshotCommand(program);
watchCommand(program);
program.addHelpText('after', TERMS_HELP);
for (const c of program.commands) c.addHelpText('after', TERMS_HELP);

function fail(code: string, message: string, status: number, details: Record<string, unknown> = {}): never {
  if (json) process.stdout.write(`${JSON.stringify({ error: { code, message, ...details } })}\n`);
  else process.stderr.write(`xsgit: ${message}\n`);
  process.exit(status);
}

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // --help and --version end here too, successfully.
    if (err.exitCode === 0) process.exit(0);
    // Commander printed the message already unless the output is JSON.
    if (!json) process.exit(err.exitCode);
    fail(err.code, err.message.replace(/^error: /, ''), err.exitCode);
  }
  if (err instanceof HistoryError) fail(err.code, err.message, err.exitCode, err.details);
  if (isXsError(err)) fail(err.code, err.message, 1);
  const e = err as NodeJS.ErrnoException;
  fail(typeof e.code === 'string' ? e.code : 'ERROR', e.message, 1);
}
