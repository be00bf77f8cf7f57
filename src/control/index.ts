import { check, log, print } from './basic.js';
import type { ControlCommand, ControlContext, ControlReply } from './context.js';
import { history } from './history.js';
import { quota, quotaSoft } from './quota.js';

/** CONTROL `help`: every command with its synopsis. */
const help: ControlCommand = {
  name: 'help',
  args: '',
  help: 'list the commands',
  run: () => COMMANDS.map((c) => `${c.name.padEnd(15)} ${c.args}`.trimEnd() + '\n').join(''),
};

/**
 * The CONTROL commands (reference §2.1; C control.c `cmds[]`), in `help` order. To add one:
 * a module exporting a ControlCommand, then a line here.
 */
export const COMMANDS: readonly ControlCommand[] = [help, check, print, log, quota, quotaSoft, history];

/** Runs `args[0]` with the rest as its arguments; EINVAL for an unknown command. */
export function runControl(ctx: ControlContext, args: readonly string[]): ControlReply {
  const cmd = args.length > 0 ? COMMANDS.find((c) => c.name === args[0]) : undefined;
  if (cmd === undefined) return { error: 'EINVAL' };
  return cmd.run(ctx, args.slice(1));
}
