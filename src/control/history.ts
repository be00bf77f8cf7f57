import type { ControlCommand } from './context.js';
import { exportRepo, exportJob } from './export.js';
import { isFailure, parseArgs, type HistoryCommand } from './historyArgs.js';
import { bisect } from './historyBisect.js';
import { revertTo, tag, tags, untag } from './historyEdits.js';
import { branches, cat, diff, log, ls, prune, revList, revParse, show, stats } from './historyQueries.js';
import { snapshot } from './snapshot.js';

/**
 * CONTROL `history …`: the history queries, reachable with the real xenstore-control
 * (`xenstore-control history log /local/domain/3`) and used by the `xsgit` subcommands.
 *
 * Output longer than one reply comes in pages: a page ends with a line
 * `... <N> more bytes: ask again with --offset <K>`, which the xsgit CLI follows.
 *
 * A CONTROL error carries only an errno name. With `--status` (what the xsgit CLI sends) every
 * reply is instead a success whose first line says how it went: `ok` then the answer (`ok K`
 * when more follows: ask again with `--offset K`), or `error <ERRNO>` then why, naming the
 * argument (`REV "HEAD~99": the history holds only …`).
 */

const PAGE = 3800;

/** The part of `text` from `offset` that fits one reply, and where the next part starts (null:
 *  this is the last). A text that fits whole is one page. */
function pageOf(text: string, offset: number): { chunk: string; next: number | null } {
  if (offset === 0 && text.length <= PAGE + 200) return { chunk: text, next: null };
  const chunk = text.slice(offset, offset + PAGE);
  return { chunk, next: offset + chunk.length < text.length ? offset + chunk.length : null };
}

/** A page as xenstore-control users read it: a last line tells how to ask for the rest. */
function page(text: string, offset: number): string {
  const { chunk, next } = pageOf(text, offset);
  return next === null ? chunk : `${chunk}\n... ${text.length - next} more bytes: ask again with --offset ${next}\n`;
}

const SUBCOMMANDS: readonly HistoryCommand[] = [
  log,
  show,
  diff,
  cat,
  ls,
  branches,
  stats,
  prune,
  tag,
  untag,
  tags,
  revParse,
  revList,
  bisect,
  revertTo,
  exportRepo,
  exportJob,
  snapshot,
];

/** CONTROL `history <subcommand> …`. */
export const history: ControlCommand = {
  name: 'history',
  args: `<${SUBCOMMANDS.map((c) => c.name).join('|')}> [--json] [--status]`,
  help: 'query the git history',
  run(ctx, argv) {
    const dashes = argv.indexOf('--');
    const status = argv.slice(0, dashes < 0 ? argv.length : dashes).includes('--status');
    const sub = SUBCOMMANDS.find((c) => c.name === argv[0]);
    const a = parseArgs(argv.slice(1));
    const r = isFailure(a) ? a : sub === undefined ? { error: 'EINVAL' as const, why: `no history subcommand "${argv[0] ?? ''}" (one of ${SUBCOMMANDS.map((c) => c.name).join(', ')})` } : sub.run(ctx, a);
    const offset = isFailure(a) ? 0 : a.offset;
    if (!status) return typeof r === 'string' ? page(r, offset) : { error: r.error };
    if (typeof r !== 'string') return `error ${r.error}\n${r.why ?? r.error}`;
    // With --status the next page's offset rides in the status line, outside the answer's bytes.
    const { chunk, next } = pageOf(r, offset);
    return `${next === null ? 'ok' : `ok ${next}`}\n${chunk}`;
  },
};
