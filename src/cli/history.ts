import type { Command } from 'commander';
import { ask, emit } from './query.js';
import { bisectCommand } from './bisect.js';

export { historyQuery } from './query.js';

/**
 * The history subcommands. Each is one CONTROL `history …` request to the running daemon
 * (src/control/history*.ts), found as every client finds it; the answer is written out as the
 * bytes it stands for.
 */

interface JsonFlag {
  json?: boolean;
}

function withJson(args: string[], o: JsonFlag): string[] {
  return o.json === true ? [...args, '--json'] : args;
}

async function print(args: string[], o: JsonFlag): Promise<void> {
  emit(await ask(withJson(args, o)));
}

function optional(...parts: (string | undefined)[]): string[] {
  return parts.filter((p): p is string => p !== undefined);
}

export function historyCommands(program: Command): void {
  program
    .command('log [path]')
    .description('the commits that touched PATH (default: all), newest first')
    .option('-n <count>', 'at most COUNT commits')
    .option('--since <time>', 'only commits since TIME')
    .option('--json', 'a JSON array of commits')
    .action((p: string | undefined, o: JsonFlag & { n?: string; since?: string }) =>
      print(['log', ...optional(p), ...(o.n !== undefined ? ['-n', o.n] : []), ...(o.since !== undefined ? ['--since', o.since] : [])], o),
    );
  program
    .command('show [rev]')
    .description('a commit (default HEAD): its message, then every node it added (+), removed (-) or changed (~), with value and perms')
    .option('--json', 'the commit and its "diff" as JSON')
    .action((rev: string | undefined, o: JsonFlag) => print(['show', rev ?? 'HEAD'], o));
  program
    .command('diff <a> <b> [path]')
    .description('every node added (+), removed (-) or changed (~) from revision A to revision B, at and below PATH')
    .option('--json', '{"from", "to", "path", "diff": [...]}')
    .action((a: string, b: string, p: string | undefined, o: JsonFlag) => print(['diff', a, b, ...optional(p)], o));
  program
    .command('cat <rev> <path>')
    .description("PATH's value as it was at REV: its exact bytes, nothing added")
    .option('--json', '{"commit", "path", "value", "base64", "perms", "children"}')
    .action(async (rev: string, p: string, o: JsonFlag) => emit(await ask(withJson(['cat', rev, p], o)), o.json === true));
  program
    .command('ls <rev> [path]')
    .description('what `xenstore-ls -p PATH` would have printed at REV (default PATH: /)')
    .option('--json', '{"commit", "path", "nodes": [{"path", "value", "base64", "perms"}]}')
    .action((rev: string, p: string | undefined, o: JsonFlag) => {
      // As xenstore-ls: 80 columns, or the terminal's width.
      const width = process.stdout.isTTY && process.stdout.columns > 0 ? ['--width', String(process.stdout.columns)] : [];
      return print(['ls', rev, p ?? '/', ...width], o);
    });
  program
    .command('branches')
    .description('open transactions (branches tx/<conn>-<txid>): domain, age, the commit each started from')
    .option('--json', 'a JSON array')
    .action((o: JsonFlag) => print(['branches'], o));
  program
    .command('stats')
    .description('commits made since the start, merges, EAGAINs, retained commits, nodes, the head, the mirror')
    .option('--json', 'one JSON object (the head is "commit")')
    .action((o: JsonFlag) => print(['stats'], o));
  program
    .command('tag <name> [rev]')
    .description('name a commit (default HEAD) and keep it whatever the retention; an existing tag moves only with --force')
    .option('-f, --force', 'move the tag if it exists')
    .option('--json', '{"tag", "commit", "moved"}')
    .action((name: string, rev: string | undefined, o: JsonFlag & { force?: boolean }) =>
      print(['tag', name, ...optional(rev), ...(o.force === true ? ['--force'] : [])], o),
    );
  program
    .command('tags')
    .description('the tags: name, commit, summary')
    .option('--json', 'a JSON array of {"tag", "commit", "summary"}')
    .action((o: JsonFlag) => print(['tags'], o));
  program
    .command('untag <name>')
    .description('delete a tag (retention may then let its commit go)')
    .option('--json', '{"tag", "commit"}')
    .action((name: string, o: JsonFlag) => print(['untag', name], o));
  bisectCommand(program);
  program
    .command('prune')
    .description('apply the history retention now; --dry-run lists what would go')
    .option('--dry-run', 'only list the commits that would be dropped')
    .option('--json', 'machine-readable output')
    .action((o: JsonFlag & { dryRun?: boolean }) => print(['prune', ...(o.dryRun === true ? ['--dry-run'] : [])], o));
  program
    .command('revert-to <rev> [path]')
    .description(
      'make PATH (default: the whole store) what it was at REV, as one new commit by dom0 that says so ' +
        '(summary "revert PATH to <id>", trailer Xenstore-Revert-To), firing watches for what changes; ' +
        'prints the new commit, then every node it changed',
    )
    .option('--dry-run', 'only list what would change')
    .option('--json', '{"commit" (null for a dry run), "revert": {"commit", "path"}, "dryRun", "diff"}')
    .action((rev: string, p: string | undefined, o: JsonFlag & { dryRun?: boolean }) =>
      print(['revert-to', rev, ...optional(p), ...(o.dryRun === true ? ['--dry-run'] : [])], o),
    );
}
