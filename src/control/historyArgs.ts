import type { ErrorName } from '../wire/constants.js';
import type { Commit } from '../history/commit.js';
import { txBranch } from '../history/history.js';
import { TIME_HELP, parseTime, resolveRev, revisionOrWhy } from '../history/revs.js';
import { canonicalize } from '../store/path.js';
import type { ControlContext } from './context.js';

/** A refusal: the errno the wire carries, and why in words, naming the argument (`REV "x":
 *  no such tag…`), which the reply carries too when the request asked with `--status`. */
export interface Failure {
  error: ErrorName;
  why?: string;
}

/** The answer of a `history` subcommand. */
export type Result = string | Failure;

export function fail(error: ErrorName, why: string): Failure {
  return { error, why };
}

export function isFailure<T>(r: T | Failure): r is Failure {
  return typeof r === 'object' && r !== null && 'error' in r;
}

/** The parsed arguments of a `history` subcommand: positional ones, then the options every
 *  subcommand takes (`--json`, `--offset K` for the next page, `-n N`, `--since TIME`,
 *  `--width N` for ls, the flags `--force`, `--dry-run` and `--status`); after `--`, every
 *  argument is positional. */
export interface Args {
  positional: string[];
  json: boolean;
  offset: number;
  n: number;
  /** Milliseconds since the epoch, or null. */
  since: number | null;
  /** Columns for `ls` (xenstore-ls's width: 80 unless a terminal). */
  width: number;
  force: boolean;
  dryRun: boolean;
  /** Answer `ok\n<reply>` or `error <ERRNO>\n<why>` instead of an errno (the xsgit CLI). */
  status: boolean;
}

/** One `history` subcommand. */
export interface HistoryCommand {
  readonly name: string;
  readonly usage: string;
  run(ctx: ControlContext, a: Args): Result;
}

const FLAGS = { '--json': 'json', '--force': 'force', '--dry-run': 'dryRun', '--status': 'status' } as const;

/** Parses a subcommand's arguments; a Failure naming the option that lacks its value or is
 *  malformed. */
export function parseArgs(argv: readonly string[]): Args | Failure {
  const out: Args = { positional: [], json: false, offset: 0, n: Infinity, since: null, width: 80, force: false, dryRun: false, status: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    // After `--` everything is positional (a VALUE may look like an option).
    if (a === '--') {
      out.positional.push(...argv.slice(i + 1));
      break;
    }
    if (a in FLAGS) out[FLAGS[a as keyof typeof FLAGS]] = true;
    else if (a === '--offset' || a === '-n' || a === '--since' || a === '--width') {
      const v = argv[++i];
      if (v === undefined) return fail('EINVAL', `${a} needs a value`);
      if (a === '--since') {
        out.since = parseTime(v);
        if (out.since === null) return fail('EINVAL', `--since "${v}": not a time (TIME is ${TIME_HELP})`);
      } else {
        const num = Number(v);
        if (!/^\d+$/.test(v) || !Number.isSafeInteger(num)) return fail('EINVAL', `${a} "${v}": not a whole number`);
        if (a === '-n') out.n = num;
        else if (a === '--width') out.width = num;
        else out.offset = num;
      }
    } else out.positional.push(a);
  }
  return out;
}

/** Open transactions as branches: `tx/<conn>-<txid>` → the commit it branched from. */
function txBranches(ctx: ControlContext): Map<string, Commit> {
  const out = new Map<string, Commit>();
  for (const t of ctx.openTransactions()) out.set(txBranch(t), t.start);
  return out;
}

/** The commit a revision names (history/revs.ts resolveRev, open transactions included). */
export function revision(ctx: ControlContext, text: string | undefined): Commit | null {
  return text === undefined ? null : resolveRev(ctx.store.history, text, txBranches(ctx));
}

/** The commit the argument `what` (`REV`, `--good`…) names, or why it names none. */
export function revisionArg(ctx: ControlContext, text: string | undefined, what: string): Commit | Failure {
  if (text === undefined) return fail('EINVAL', `${what} is missing`);
  const r = revisionOrWhy(ctx.store.history, text, txBranches(ctx));
  return typeof r === 'string' ? fail('ENOENT', `${what} "${text}": ${r}`) : r;
}

/** Two revision arguments (`A` and `B`, `--good` and `--bad`): both commits, or why the first
 *  that names none does not. */
export function revisionPair(ctx: ControlContext, texts: readonly (string | undefined)[], what: readonly [string, string]): [Commit, Commit] | Failure {
  const x = revisionArg(ctx, texts[0], what[0]);
  if (isFailure(x)) return x;
  const y = revisionArg(ctx, texts[1], what[1]);
  return isFailure(y) ? y : [x, y];
}

/** dom0's home: relative paths resolve against it, as every client of dom0 does. */
export const DOM0_HOME = '/local/domain/0';

/** A path argument, canonical (a relative one resolved against dom0's home, as the clients
 *  do); `/` when absent; a Failure naming `what` when it is not a xenstore path. */
export function pathArg(text: string | undefined, what = 'PATH'): string | Failure {
  if (text === undefined) return '/';
  const p = canonicalize(text, DOM0_HOME);
  if (p === null || p.startsWith('@')) return fail('EINVAL', `${what} "${text}": not a xenstore path (letters, digits, / _ @ -; no // or trailing /)`);
  return p;
}

/** How an answer names a path the user gave: as given, plus where a relative one led. */
export function pathLabel(text: string | undefined, p: string, what = 'PATH'): string {
  if (text === undefined || text === p) return `${what} ${p}`;
  return `${what} "${text}" (relative, so ${p}: a path without its leading / starts at dom0's home ${DOM0_HOME})`;
}
