import { spawnSync } from 'node:child_process';
import type { Command } from 'commander';
import { Client } from '../client/index.js';

/**
 * The history subcommands. Each is one CONTROL `history …` request to the running daemon,
 * found as every client finds it ($XENSTORED_PATH, else $XENSTORED_RUNDIR/socket, else
 * ./run/socket); long answers come in pages that this follows.
 */

const MORE = /\n\.\.\. \d+ more bytes: ask again with --offset (\d+)\n$/;

/** One `history` query, all its pages joined. */
export async function historyQuery(client: Client, args: readonly string[]): Promise<string> {
  let out = '';
  let offset = 0;
  for (;;) {
    const reply = await client.control('history', ...args, ...(offset > 0 ? ['--offset', String(offset)] : []));
    const m = MORE.exec(reply);
    if (m === null) return out + reply;
    out += reply.slice(0, m.index);
    offset = Number(m[1]);
  }
}

async function historyRequest(args: readonly string[]): Promise<string> {
  const client = await Client.connect();
  try {
    return await historyQuery(client, args);
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
    .command('bisect')
    .description('the first bad commit between a good and a bad one (first-parent line of main)')
    .requiredOption('--good <rev>', 'a commit where things were right')
    .requiredOption('--bad <rev>', 'a later commit where they are wrong')
    .option('--expect <path=value>', 'good means PATH holds VALUE')
    .option('--run <cmd>', 'good means CMD exits 0; it gets XSGIT_BISECT_COMMIT (read state with `xsgit cat`)')
    .action((o: { good: string; bad: string; expect?: string; run?: string }) => bisect(o));
  program
    .command('prune')
    .description('apply the history retention now; --dry-run lists what would go')
    .option('--dry-run', 'only list the commits that would be dropped')
    .option('--json', 'machine-readable output')
    .action((o: JsonFlag & { dryRun?: boolean }) => print(withJson(['prune', ...(o.dryRun === true ? ['--dry-run'] : [])], o)));
  program
    .command('revert-to <rev>')
    .description('roll the live store back to REV as a new commit, firing watches for what changes')
    .action((rev: string) => print(['revert-to', rev]));
}

async function bisect(o: { good: string; bad: string; expect?: string; run?: string }): Promise<void> {
  if ((o.expect === undefined) === (o.run === undefined)) throw new Error('bisect needs one of --expect PATH=VALUE or --run CMD');
  if (o.expect !== undefined) {
    const eq = o.expect.indexOf('=');
    if (eq <= 0) throw new Error('--expect takes PATH=VALUE');
    return print(['bisect', o.good, o.bad, o.expect.slice(0, eq), o.expect.slice(eq + 1)]);
  }
  const ids = (await historyRequest(['rev-list', o.good, o.bad])).split('\n').filter((l) => l.length > 0);
  let lo = 0;
  let hi = ids.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const ok = runCheck(o.run!, ids[mid]);
    process.stderr.write(`bisect: ${ids[mid]} is ${ok ? 'good' : 'bad'}\n`);
    if (ok) lo = mid + 1;
    else hi = mid;
  }
  if (ids.length === 0) throw new Error('no commits between --good and --bad');
  process.stdout.write(`first bad commit: ${ids[lo]}\n`);
}

function runCheck(cmd: string, id: string): boolean {
  const r = spawnSync('/bin/sh', ['-c', cmd], { stdio: 'inherit', env: { ...process.env, XSGIT_BISECT_COMMIT: id } });
  return r.status === 0;
}
