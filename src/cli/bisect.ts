import { spawnSync } from 'node:child_process';
import type { Command } from 'commander';
import type { Client } from '../client/index.js';
import { Bisection, type Verdict } from '../history/bisect.js';
import type { CommitJson } from '../history/format.js';
import { HistoryError, emit, historyQuery, withClient } from './query.js';

/**
 * `xsgit bisect --good REV --bad REV (--expect PATH=VALUE | --run CMD)`: the first bad commit
 * on main's first-parent line, as `git bisect` finds it.
 *
 * `--expect` is judged by the daemon (control/historyBisect.ts), `--run` here: CMD runs once
 * per commit under /bin/sh with XSGIT_BISECT_COMMIT set, and its exit status is the verdict as
 * for `git bisect run`: 0 good, 125 skip (cannot tell), 1–124 bad; 126 and 127 (not executable,
 * not found) and 128+ (killed) stop the bisection, since they judge the command, not the commit.
 *
 * Either way both ends are judged first: the good one must be good and the bad one bad, else
 * there is no answer. Exit status: 0 with an answer; 1 without one (an end is wrong, a command
 * failed, an argument is wrong); 2 when skipped commits hide the answer (all candidates listed).
 */

interface BisectOptions {
  good: string;
  bad: string;
  expect?: string;
  run?: string;
  json?: boolean;
}

const SKIP = 125;

export function bisectCommand(program: Command): void {
  program
    .command('bisect')
    .description('the first bad commit between a good and a bad one (first-parent line of main); both ends are checked first')
    .requiredOption('--good <rev>', 'a commit where things were right')
    .requiredOption('--bad <rev>', 'a later commit where they are wrong')
    .option('--expect <path=value>', 'good means PATH holds exactly VALUE')
    .option('--run <cmd>', 'good means CMD exits 0 (125: skip; 1-124: bad; 126, 127, 128+: stop); it gets XSGIT_BISECT_COMMIT (read state with `xsgit cat`)')
    .option('--json', 'the first bad commit as JSON; {"commit": null, "candidates": [...]} when skips hide it')
    .action((o: BisectOptions) => bisect(o));
}

async function bisect(o: BisectOptions): Promise<void> {
  if ((o.expect === undefined) === (o.run === undefined)) throw new HistoryError('EINVAL', 'bisect needs exactly one of --expect PATH=VALUE or --run CMD');
  const found = await withClient(async (c) => {
    if (o.expect !== undefined) {
      const eq = o.expect.indexOf('=');
      if (eq <= 0) throw new HistoryError('EINVAL', `--expect "${o.expect}": takes PATH=VALUE`);
      // `--`: the VALUE may start with a dash.
      return JSON.parse(await historyQuery(c, ['bisect', '--json', '--', o.good, o.bad, o.expect.slice(0, eq), o.expect.slice(eq + 1)])) as CommitJson;
    }
    return byCommand(c, o.good, o.bad, o.run!);
  });
  emit(o.json === true ? JSON.stringify(found) : `first bad commit: ${found.commit} ${found.time} dom${found.domid} ${found.summary}`);
}

async function commitOf(c: Client, rev: string): Promise<CommitJson> {
  return JSON.parse(await historyQuery(c, ['rev-parse', rev, '--json'])) as CommitJson;
}

async function byCommand(c: Client, goodRev: string, badRev: string, cmd: string): Promise<CommitJson> {
  const { good, line } = JSON.parse(await historyQuery(c, ['rev-list', goodRev, badRev, '--json'])) as { good: string; line: string[] };
  const bad = line[line.length - 1];
  const end = (what: string, rev: string, id: string, want: 'good' | 'bad'): void => {
    const code = runCheck(cmd, id);
    const v = verdict(code, cmd, id);
    if (v === want) return;
    const why = v === 'skip' ? `exited ${SKIP} (skip), but an end cannot be skipped` : `exited ${code}, so it is ${v}`;
    throw new HistoryError('EINVAL', `${what} ${rev} (${id.slice(0, 12)}) is not ${want}: the command ${why}; no answer`);
  };
  end('--good', goodRev, good, 'good');
  end('--bad', badRev, bad, 'bad');
  const run = new Bisection(line);
  for (let i = run.next(); i !== null; i = run.next()) {
    const v = verdict(runCheck(cmd, line[i]), cmd, line[i]);
    process.stderr.write(`bisect: ${line[i]} is ${v} (about ${run.remaining} steps left)\n`);
    run.mark(i, v);
  }
  const r = run.result();
  if ('first' in r) return commitOf(c, r.first);
  const list = r.candidates.map((id) => `  ${id}`).join('\n');
  throw new HistoryError('ESKIPPED', `only skipped commits are left: the first bad commit is one of\n${list}`, 2, { candidates: r.candidates });
}

/** The verdict of an exit status; throws for the statuses that judge the command. */
function verdict(code: number | null, cmd: string, id: string): Verdict {
  if (code === 0) return 'good';
  if (code === SKIP) return 'skip';
  if (code !== null && code >= 1 && code <= 124) return 'bad';
  const why = code === 127 ? 'was not found (exit 127)' : code === 126 ? 'could not be executed (exit 126)' : code === null ? 'was killed' : `exited ${code}`;
  throw new HistoryError('EINVAL', `--run "${cmd}" ${why} at ${id.slice(0, 12)}: that judges the command, not the commit; bisection stopped`);
}

function runCheck(cmd: string, id: string): number | null {
  // The command's output goes to stderr: stdout is the answer (possibly JSON).
  const r = spawnSync('/bin/sh', ['-c', cmd], { stdio: ['ignore', 2, 2], env: { ...process.env, XSGIT_BISECT_COMMIT: id } });
  return r.status;
}
