import type { ProcessIdentity } from '../store/caller.js';
import type { Change } from '../store/change.js';
import { commonAncestor } from '../store/path.js';
import type { Commit, RevertNote, TxTag } from './commit.js';

/**
 * Commit messages. The format (documented for git users; parseCommitMessage reads it back):
 *
 *   <summary>
 *
 *   <op> <path>          one line per change (omitted for a single change outside a
 *   ...                  transaction: the summary already is that line); at most
 *   ... and N more       BODY_MAX lines, then a count of the rest
 *
 *   Xenstore-Revert-To: <id>         (revert-to commits only: the commit restored)
 *   Xenstore-Domid: <N>
 *   Xenstore-Tx: <conn>-<txid>      (transactions and their merges only)
 *   Xenstore-Pid: <pid>             (changes made through dom0's socket, when the kernel
 *   Xenstore-Uid: <uid>              told who connected: SO_PEERCRED, transport/peercred.ts;
 *   Xenstore-Comm: <command name>    the name from /proc/PID/comm, escaped as paths are)
 *
 * Summaries:
 *   - one change, no transaction:        `write /local/domain/3/name`, `rm /x`, `set_perms /x`
 *   - a transaction's commit:             `transaction (dom0): 12 writes, 2 rm under /local/domain/5`
 *     (counts in the order write, mkdir, rm, set_perms; "under" the longest common path prefix
 *      of the changed paths, by whole path elements)
 *   - a merge (two or more parents):      `merge transaction 3-7 (dom0)`; the merge commit's
 *     first parent is main's previous head, the second the transaction's own commit; its body
 *     repeats the transaction's changes
 *   - several changes outside a transaction: `3 writes, 1 rm under /vm (dom0)`
 *   - no change: `create store` for a root commit, else `update (dom<N>)`
 *   - a revert-to:                        `revert /local/domain/5 to <first 12 hex of the id>`
 *     (its body always lists the changes, even a single one)
 *
 * Paths are printable ASCII in xenstore; anything else (spaces, control bytes, non-ASCII) is
 * written as `\xNN`, so one change is always one line.
 */

export const BODY_MAX = 100;

const OPS = ['write', 'mkdir', 'rm', 'set_perms'] as const;

const UNSAFE = /[^\x21-\x5b\x5d-\x7e]/; // anything but printable ASCII without space and '\'

export function escapePath(path: string): string {
  if (!UNSAFE.test(path)) return path;
  let out = '';
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c > 0x20 && c < 0x7f && c !== 0x5c) out += path[i];
    else if (c <= 0xff) out += '\\x' + c.toString(16).padStart(2, '0');
    else out += '\\u' + c.toString(16).padStart(4, '0');
  }
  return out;
}

export function unescapePath(text: string): string {
  if (text.indexOf('\\') < 0) return text;
  return text.replace(/\\x([0-9a-f]{2})|\\u([0-9a-f]{4})/g, (_, x?: string, u?: string) =>
    String.fromCharCode(parseInt((x ?? u) as string, 16)),
  );
}

function countsOf(changes: readonly Change[]): string {
  const n = [0, 0, 0, 0];
  for (const c of changes) n[OPS.indexOf(c.op)]++;
  const parts: string[] = [];
  for (let i = 0; i < OPS.length; i++) {
    if (n[i] === 0) continue;
    parts.push(`${n[i]} ${OPS[i]}${OPS[i] === 'write' && n[i] !== 1 ? 's' : ''}`);
  }
  return parts.join(', ');
}

function changesSummary(changes: readonly Change[]): string {
  return `${countsOf(changes)} under ${escapePath(commonAncestor(changes.map((c) => c.path)))}`;
}

export function txName(tx: TxTag): string {
  return `${tx.conn}-${tx.txid}`;
}

/** The one-line summary of a commit. */
export function commitSummary(c: Commit): string {
  if (c.storedMessage !== null) return c.storedMessage.split('\n', 1)[0];
  const dom = `dom${c.domid}`;
  const t = c.tierNote;
  const r = c.revertOf;
  if (r !== null) return `revert ${escapePath(r.path)} to ${r.target.slice(0, 12)}`;
  if (t !== null) return `history/${t.tier}: state at ${new Date(c.time).toISOString()} (last of ${t.covers} commit${t.covers === 1 ? '' : 's'})`;
  if (c.parents.length >= 2) return c.tx !== null ? `merge transaction ${txName(c.tx)} (${dom})` : `merge (${dom})`;
  if (c.tx !== null) {
    return c.changes.length === 0 ? `transaction (${dom}): no changes` : `transaction (${dom}): ${changesSummary(c.changes)}`;
  }
  if (c.changes.length === 1) return `${c.changes[0].op} ${escapePath(c.changes[0].path)}`;
  if (c.changes.length === 0) return c.parents.length === 0 ? 'create store' : `update (${dom})`;
  return `${changesSummary(c.changes)} (${dom})`;
}

/** The whole message (see the format above); always ends with a newline. */
export function commitMessage(c: Commit): string {
  if (c.storedMessage !== null) return c.storedMessage.endsWith('\n') ? c.storedMessage : `${c.storedMessage}\n`;
  let msg = commitSummary(c) + '\n\n';
  const single = c.tx === null && c.revertOf === null && c.parents.length < 2 && c.changes.length === 1;
  if (!single && c.changes.length > 0) {
    const shown = c.changes.length > BODY_MAX ? BODY_MAX : c.changes.length;
    for (let i = 0; i < shown; i++) msg += `${c.changes[i].op} ${escapePath(c.changes[i].path)}\n`;
    if (c.changes.length > shown) msg += `... and ${c.changes.length - shown} more\n`;
    msg += '\n';
  }
  if (c.tierNote !== null) {
    const o = c.tierNote.origin;
    msg += `Xenstore-Bucket: ${new Date(c.tierNote.bucketStart).toISOString()}\nOriginal-Commit: ${originId(o)}\n`;
  }
  if (c.revertOf !== null) msg += `Xenstore-Revert-To: ${c.revertOf.target}\n`;
  msg += `Xenstore-Domid: ${c.domid}\n`;
  if (c.tx !== null) msg += `Xenstore-Tx: ${txName(c.tx)}\n`;
  if (c.by !== null) msg += processTrailers(c.by);
  return msg;
}

/** The trailers naming the process behind a change (see the format above). */
export function processTrailers(p: ProcessIdentity): string {
  return `Xenstore-Pid: ${p.pid}\nXenstore-Uid: ${p.uid}\n${p.comm === '' ? '' : `Xenstore-Comm: ${escapePath(p.comm)}\n`}`;
}

export interface ParsedMessage {
  readonly summary: string;
  readonly changes: Change[];
  /** True when the body listed only the first BODY_MAX changes. */
  readonly truncated: boolean;
  readonly domid: number | undefined;
  readonly tx: TxTag | null;
  /** The process trailers, when the message has them. */
  readonly by: ProcessIdentity | null;
  /** From `Xenstore-Revert-To` and the summary's path. */
  readonly revert: RevertNote | null;
}

const CHANGE_LINE = /^(write|mkdir|rm|set_perms) (\S+)$/;

/** Reads a message written by commitMessage back (best effort for messages written by others). */
export function parseCommitMessage(message: string): ParsedMessage {
  const lines = message.split('\n');
  const summary = lines[0] ?? '';
  const changes: Change[] = [];
  let truncated = false;
  let domid: number | undefined;
  let tx: TxTag | null = null;
  let pid: number | undefined;
  let uid = -1;
  let comm = '';
  let revertTarget: string | null = null;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    let m = CHANGE_LINE.exec(line);
    if (m !== null) {
      changes.push({ op: m[1] as Change['op'], path: unescapePath(m[2]) });
    } else if ((m = /^Xenstore-Domid: (\d+)$/.exec(line)) !== null) {
      domid = Number(m[1]);
    } else if ((m = /^Xenstore-Tx: (\d+)-(\d+)$/.exec(line)) !== null) {
      tx = { conn: Number(m[1]), txid: Number(m[2]) };
    } else if ((m = /^Xenstore-Pid: (\d+)$/.exec(line)) !== null) {
      pid = Number(m[1]);
    } else if ((m = /^Xenstore-Uid: (\d+)$/.exec(line)) !== null) {
      uid = Number(m[1]);
    } else if ((m = /^Xenstore-Comm: (\S+)$/.exec(line)) !== null) {
      comm = unescapePath(m[1]);
    } else if ((m = /^Xenstore-Revert-To: ([0-9a-f]{40})$/.exec(line)) !== null) {
      revertTarget = m[1];
    } else if (/^\.\.\. and \d+ more$/.test(line)) {
      truncated = true;
    }
  }
  if (changes.length === 0) {
    const m = CHANGE_LINE.exec(summary);
    if (m !== null) changes.push({ op: m[1] as Change['op'], path: unescapePath(m[2]) });
  }
  const by = pid === undefined ? null : { pid, uid, comm };
  const rm = revertTarget === null ? null : /^revert (\S+) to [0-9a-f]+$/.exec(summary);
  const revert = rm === null || revertTarget === null ? null : { target: revertTarget, path: unescapePath(rm[1]) };
  return { summary, changes, truncated, domid, tx, revert, by };
}

/** The id a tier commit names as its origin: commitIdOf() computes it before the message is
 *  encoded (the origin is one of the commit's dependencies there). */
function originId(o: Commit | string): string {
  if (typeof o === 'string') return o;
  if (o.id === undefined) throw new Error('commitMessage: the origin commit has no id yet (compute the commit id first)');
  return o.id;
}
