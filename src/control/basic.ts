import { checkStore } from '../store/check.js';
import type { ControlCommand } from './context.js';

/** The log switches of the C daemon's `log` command; xsgit accepts and reports them. */
const logSwitches = new Map<string, boolean>([['obj', false], ['io', false], ['wrl', false], ['acc', false], ['tdb', false]]);

/** CONTROL `check` (C control.c do_control_check): the store's consistency. */
export const check: ControlCommand = {
  name: 'check',
  args: '',
  help: 'check the consistency of the store',
  run: (ctx) => {
    const problems = checkStore(ctx.store.root, ctx.store.gen.n);
    return problems.length === 0 ? 'OK' : problems.slice(0, 20).join('\n');
  },
};

/** CONTROL `print <string>`: writes the string to the daemon's log. */
export const print: ControlCommand = {
  name: 'print',
  args: '<string>',
  help: 'write a string to the log',
  run: (_ctx, args) => {
    if (args.length < 1) return { error: 'EINVAL' };
    process.stderr.write(`xsgit: control print: ${args[0]}\n`);
    return 'OK';
  },
};

/** CONTROL `log [on|off|+sw|-sw]`: shows or sets the log switches. */
export const log: ControlCommand = {
  name: 'log',
  args: '[on|off|+<switch>|-<switch>]',
  help: 'show or set the log switches',
  run: (_ctx, args) => {
    if (args.length === 0) return [...logSwitches].map(([k, v]) => `${k}: ${v ? 'on' : 'off'}\n`).join('');
    const a = args[0];
    if (a === 'on' || a === 'off') return 'OK';
    const sw = a.slice(1);
    if ((a[0] !== '+' && a[0] !== '-') || !logSwitches.has(sw)) return { error: 'EINVAL' };
    logSwitches.set(sw, a[0] === '+');
    return 'OK';
  },
};
