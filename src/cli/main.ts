import { Command } from 'commander';
import { daemonCommand } from './daemon.js';

const program = new Command();
program.name('xsgit').description('A git-backed, versioned xenstored').version('0.1.0');
daemonCommand(program);
await program.parseAsync(process.argv);
