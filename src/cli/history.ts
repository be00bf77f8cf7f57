import type { Command } from 'commander';
import { Client } from '../client/index.js';

/**
 * The history subcommands. Each is one CONTROL `history …` request to the running daemon,
 * found as every client finds it ($XENSTORED_PATH, else $XENSTORED_RUNDIR/socket, else
 * ./run/socket); long answers come in pages that this follows.
 */

const MORE = /\n… \d+ more bytes: ask again with --offset (\d+)\n$/;

export async function historyRequest(args: string[]): Promise<string> {
  const client = await Client.connect();
  try {
    let out = '';
    let offset = 0;
    for (;;) {
      const reply = await client.control('history', ...args, ...(offset > 0 ? ['--offset', String(offset)] : []));
      const m = MORE.exec(reply);
      if (m === null) return out + reply;
      out += reply.slice(0, m.index);
      offset = Number(m[1]);
    }
  } finally {
    await client.close();
  }
}

async function print(args: string[]): Promise<void> {
  const text = await historyRequest(args);
  process.stdout.write(text.endsWith('\n') || text.length === 0 ? text : `${text}\n`);
}

interface JsonFlag {
  json?: boolean;
}

function withJson(args: string[], o: JsonFlag): string[] {
  return o.json === true ? [...args, '--json'] : args;
}

export function historyCommands(program: Command): void {
  program
    .command('log [path]')
    .description('the commits that touched PATH (default: all), newest first')
    .option('-n <count>', 'at most COUNT commits')
    .option('--since <time>', 'only commits since TIME (ISO date, Unix seconds, or an age: 90s, 5m, 2h, 3d)')
    .option('--json', 'machine-readable output')
    .action((p: string | undefined, o: JsonFlag & { n?: string; since?: string }) =>
      print(withJson(['log', ...(p !== undefined ? [p] : []), ...(o.n !== undefined ? ['-n', o.n] : []), ...(o.since !== undefined ? ['--since', o.since] : [])], o)),
    );
  program
    .command('show [rev]')
    .description('a commit: its message and what it changed (REV: id, tag, HEAD~N, tx/<conn>-<txid>, @TIME)')
    .option('--json', 'machine-readable output')
    .action((rev: string | undefined, o: JsonFlag) => print(withJson(['show', rev ?? 'HEAD'], o)));
  program
    .command('diff <a> <b> [path]')
    .description('what changed between two revisions, at and below PATH')
    .option('--json', 'machine-readable output')
    .action((a: string, b: string, p: string | undefined, o: JsonFlag) => print(withJson(['diff', a, b, ...(p !== undefined ? [p] : [])], o)));
  program
    .command('cat <rev> <path>')
    .description('the value of PATH as it was at REV')
    .option('--json', 'value (escaped), perms and children as JSON')
    .action(async (rev: string, p: string, o: JsonFlag) => {
      const text = await historyRequest(withJson(['cat', rev, p], o));
      process.stdout.write(o.json === true ? `${text}\n` : Buffer.from(text, 'latin1'));
    });
  program
    .command('branches')
    .description('open transactions (branches tx/<conn>-<txid>): domain, age, base commit')
    .option('--json', 'machine-readable output')
    .action((o: JsonFlag) => print(withJson(['branches'], o)));
  program
    .command('stats')
    .description('commits, merges, EAGAINs, retained commits, nodes')
    .option('--json', 'machine-readable output')
    .action((o: JsonFlag) => print(withJson(['stats'], o)));
  program
    .command('tag <name> [rev]')
    .description('name a commit (default HEAD) and keep it whatever the retention')
    .action((name: string, rev: string | undefined) => print(['tag', name, ...(rev !== undefined ? [rev] : [])]));
  program
    .command('revert-to <rev>')
    .description('roll the live store back to REV as a new commit, firing watches for what changes')
    .action((rev: string) => print(['revert-to', rev]));
}
