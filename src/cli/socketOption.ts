import type { Command } from 'commander';

/**
 * `xsgit --socket PATH <command>` (also after the command: `xsgit log --socket PATH`): the
 * daemon's socket for the client commands. It means exactly what XENSTORED_PATH means to
 * every Xen client (and wins over it), so the commands need no option of their own: the
 * client library's rule (src/client/paths.ts) then takes that one path and nothing else.
 * The daemon takes --run-dir instead.
 */
export function socketOption(program: Command): void {
  program.option('--socket <path>', "the daemon's socket for client commands (default: $XENSTORED_PATH, else $XENSTORED_RUNDIR/socket, else /var/run/xenstored/socket, then ./run/socket)");
  program.hook('preAction', (root, action) => {
    const path = root.opts<{ socket?: string }>().socket;
    if (path === undefined) return;
    if (path === '') throw new Error('--socket takes a path');
    if (action.name() === 'daemon') throw new Error('daemon: --socket is for the client commands; the daemon serves RUN_DIR/socket (--run-dir)');
    process.env['XENSTORED_PATH'] = path;
  });
}
