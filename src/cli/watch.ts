import { InvalidArgumentError, type Command } from 'commander';
import { Client } from '../client/index.js';

interface WatchFlags {
  depth?: number;
  n?: number;
  json?: boolean;
  token: string;
}

function nonNegative(s: string): number {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number ≥ 0');
  return n;
}

/**
 * `xsgit watch PATH [--depth N] [-n N] [--json]`: registers a watch (the daemon found as every
 * client finds it) and prints one event per line — the path, or with --json
 * `{"path": …, "token": …}` — the initial event included, as `xenstore-watch` does; exits
 * after N events (default: never). `--depth N` (protocol 4.22): only changes at most N levels
 * below PATH.
 */
export function watchCommand(program: Command): void {
  program
    .command('watch')
    .description('print the watch events of PATH, one per line (the first is the initial event)')
    .argument('<path>', 'absolute path, or @introduceDomain / @releaseDomain[/DOMID]')
    .option('--depth <n>', 'only changes at most N levels below PATH (C 4.22 WATCH depth)', nonNegative)
    .option('-n <count>', 'exit after COUNT events', nonNegative)
    .option('--token <token>', 'the watch token', 'xsgit-watch')
    .option('--json', 'one JSON object per event')
    .action(async (path: string, flags: WatchFlags) => {
      const client = await Client.connect();
      try {
        const w = await client.watch(path, flags.token, flags.depth === undefined ? {} : { depth: flags.depth });
        let seen = 0;
        for await (const ev of w) {
          process.stdout.write(flags.json === true ? `${JSON.stringify({ path: ev.path, token: ev.token })}\n` : `${ev.path}\n`);
          if (flags.n !== undefined && ++seen >= flags.n) break;
        }
      } finally {
        await client.close();
      }
    });
}
