import type { ErrorName } from '../wire/constants.js';
import type { Commit } from '../history/commit.js';
import { txBranch } from '../history/history.js';
import { parseTime, resolveRev } from '../history/revs.js';
import { canonicalize } from '../store/path.js';
import type { ControlContext } from './context.js';

/** The answer of a `history` subcommand. */
export type Result = string | { error: ErrorName };

/** The parsed arguments of a `history` subcommand: positional ones, then the options every
 *  subcommand takes (`--json`, `--offset K` for the next page, `-n N`, `--since TIME`). */
export interface Args {
  positional: string[];
  json: boolean;
  offset: number;
  n: number;
  /** Milliseconds since the epoch, or null. */
  since: number | null;
}

/** One `history` subcommand. */
export interface HistoryCommand {
  readonly name: string;
  readonly usage: string;
  run(ctx: ControlContext, a: Args): Result;
}

/** Parses a subcommand's arguments; null when an option lacks its value or is malformed. */
export function parseArgs(argv: readonly string[]): Args | null {
  const out: Args = { positional: [], json: false, offset: 0, n: Infinity, since: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') out.json = true;
    else if (a === '--offset' || a === '-n' || a === '--since') {
      const v = argv[++i];
      if (v === undefined) return null;
      if (a === '--since') {
        out.since = parseTime(v);
        if (out.since === null) return null;
      } else {
        const num = Number(v);
        if (!Number.isInteger(num) || num < 0) return null;
        if (a === '-n') out.n = num;
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

/** A path argument, canonical (relative to dom0's home); `/` when absent; null: invalid. */
export function pathArg(text: string | undefined): string | null {
  return text === undefined ? '/' : canonicalize(text, '/local/domain/0');
}
