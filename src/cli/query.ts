import { Client } from '../client/index.js';

/**
 * How the CLI asks the daemon: one CONTROL `history … --status` request per page. With
 * `--status` the daemon answers every request as a success whose first line is `ok` (then the
 * answer; `ok K`: more follows from offset K) or `error <ERRNO>` (then why, naming the
 * argument); see control/history.ts. The
 * answer is kept as bytes and handed on as a latin1 string (one char per byte), the daemon's
 * own representation of values, so nothing is decoded or re-encoded on the way.
 */

/** A refused history request: the errno and the daemon's sentence (naming the argument). */
export class HistoryError extends Error {
  constructor(
    readonly code: string,
    message: string,
    /** The exit status the CLI ends with. */
    readonly exitCode = 1,
    /** More for the JSON form of the error (e.g. bisect's candidates). */
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'HistoryError';
  }
}

/** One `history` query, all its pages joined, as a latin1 string; throws HistoryError. */
export async function historyQuery(client: Client, args: readonly string[]): Promise<string> {
  let out = '';
  let offset = 0;
  for (;;) {
    // The options go right after the subcommand: the arguments may end with `-- VALUE…`.
    const [sub, ...rest] = args;
    const bytes = await client.controlBytes('history', sub, '--status', ...(offset > 0 ? ['--offset', String(offset)] : []), ...rest);
    const reply = bytes.toString('latin1');
    const nl = reply.indexOf('\n');
    const head = nl < 0 ? reply : reply.slice(0, nl);
    const body = nl < 0 ? '' : reply.slice(nl + 1);
    const ok = /^ok(?: (\d+))?$/.exec(head);
    if (ok === null) {
      const m = /^error (\S+)$/.exec(head);
      if (m === null) throw new HistoryError('EPROTO', `the daemon answered "${head.slice(0, 80)}" (an xsgit daemon that predates --status?)`);
      // The sentence quotes the arguments, which went as UTF-8: read it back as UTF-8.
      throw new HistoryError(m[1], body.length > 0 ? Buffer.from(body, 'latin1').toString('utf8') : m[1]);
    }
    out += body;
    if (ok[1] === undefined) return out;
    offset = Number(ok[1]);
  }
}

/** Runs `fn` with a connection to the daemon (found as every client finds it). */
export async function withClient<T>(fn: (c: Client) => Promise<T>): Promise<T> {
  const client = await Client.connect();
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

/** One query on its own connection. */
export function ask(args: readonly string[]): Promise<string> {
  return withClient((c) => historyQuery(c, args));
}

/** Writes a latin1 answer to stdout as the bytes it stands for; `newline`: end it with one
 *  when it lacks it (text answers; not `cat`, whose bytes are the value). */
export function emit(text: string, newline = true): void {
  const end = newline && text.length > 0 && !text.endsWith('\n') ? '\n' : '';
  process.stdout.write(Buffer.from(text + end, 'latin1'));
}
