import type { ErrorName } from '../wire/constants.js';
import { checkStore } from '../store/check.js';
import type { Daemon } from '../server/daemon.js';

/** A CONTROL command: its synopsis for `help`, and what it does with its arguments. */
interface Command {
  readonly args: string;
  readonly help: string;
  run(d: Daemon, args: readonly string[]): string | { error: ErrorName };
}

const logSwitches = new Map<string, boolean>([['obj', false], ['io', false], ['wrl', false], ['acc', false], ['tdb', false]]);

const COMMANDS = new Map<string, Command>();

COMMANDS.set('help', {
  args: '',
  help: 'list the commands',
  run: () => [...COMMANDS].map(([name, c]) => `${name.padEnd(15)} ${c.args}`.trimEnd() + '\n').join(''),
});

COMMANDS.set('check', {
  args: '',
  help: 'check the consistency of the store',
  run: (d) => {
    const problems = checkStore(d.store.root, d.store.gen.n);
    return problems.length === 0 ? 'OK' : problems.slice(0, 20).join('\n');
  },
});

COMMANDS.set('print', {
  args: '<string>',
  help: 'write a string to the log',
  run: (_d, args) => {
    if (args.length < 1) return { error: 'EINVAL' };
    process.stderr.write(`xsgit: control print: ${args[0]}\n`);
    return 'OK';
  },
});

COMMANDS.set('log', {
  args: '[on|off|+<switch>|-<switch>]',
  help: 'show or set the log switches',
  run: (_d, args) => {
    if (args.length === 0) return [...logSwitches].map(([k, v]) => `${k}: ${v ? 'on' : 'off'}\n`).join('');
    const a = args[0];
    if (a === 'on' || a === 'off') return 'OK';
    const sw = a.slice(1);
    if ((a[0] !== '+' && a[0] !== '-') || !logSwitches.has(sw)) return { error: 'EINVAL' };
    logSwitches.set(sw, a[0] === '+');
    return 'OK';
  },
});

/** Lets other modules (history, quotas) add their command groups. */
export function registerControl(name: string, command: Command): void {
  COMMANDS.set(name, command);
}

export function runControl(d: Daemon, args: readonly string[]): string | { error: ErrorName } {
  const cmd = args.length > 0 ? COMMANDS.get(args[0]) : undefined;
  if (cmd === undefined) return { error: 'EINVAL' };
  return cmd.run(d, args.slice(1));
}
