import { Command } from 'commander';
import { daemonCommand } from './daemon.js';
import { historyCommands } from './history.js';
import { exportCommand } from './export.js';
import { snapshotCommand } from './snapshot.js';
import { socketOption } from './socketOption.js';
import { watchCommand } from './watch.js';

// The command name other processes see (/proc/PID/comm: `ps`, and the Xenstore-Comm trailer
// of what the CLI changes, such as revert-to).
process.title = 'xsgit';

const program = new Command();
program.name('xsgit').description('A git-backed, versioned xenstored').version('0.1.0');
socketOption(program);
daemonCommand(program);
historyCommands(program);
exportCommand(program);
snapshotCommand(program);
watchCommand(program);
try {
  await program.parseAsync(process.argv);
} catch (err) {
  process.stderr.write(`xsgit: ${(err as Error).message}\n`);
  process.exit(1);
}
