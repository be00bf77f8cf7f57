import { commitIdOf } from './commitId.js';
import { commitSummary } from './commitMessage.js';
import type { Node } from '../store/node.js';
import type { Commit } from './commit.js';
import type { Difference } from './diff.js';

/**
 * How the history's answers show commits, nodes and differences, as text and as JSON.
 *
 * Values are latin1 strings (one char per byte, store/node.ts). As text they are escaped as
 * `xenstore-read` and `xenstore-ls` print them (libxenstore's sanitise_value); as JSON they
 * are that text (`value`) plus the exact bytes (`base64`). Every JSON answer names a commit
 * by the key `commit` (full id), a node's state by `value`, `base64` and `perms`.
 */

const OCTAL_BELOW = 8;

/** A value as `xenstore-read` prints it: printable ASCII but `\` as is; `\\`, `\t`, `\n`,
 *  `\r`; bytes below 8 as three octal digits (`\000`); every other byte as `\xNN`. */
export function escapeValue(v: string): string {
  let out = '';
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c >= 0x20 && c <= 0x7e && c !== 0x5c) out += v[i];
    else if (c === 0x5c) out += '\\\\';
    else if (c === 9) out += '\\t';
    else if (c === 10) out += '\\n';
    else if (c === 13) out += '\\r';
    else if (c < OCTAL_BELOW) out += `\\${c.toString(8).padStart(3, '0')}`;
    else out += `\\x${c.toString(16).padStart(2, '0')}`;
  }
  return out;
}

/** Perms in the `xenstore-ls -p` form: `n0,r5`. */
export function permsText(perms: string): string {
  return perms.split('\0').filter((p) => p.length > 0).join(',');
}

/** A node's state in JSON: the value escaped, its exact bytes, its perms. */
export interface NodeJson {
  value: string;
  base64: string;
  perms: string;
}

export function nodeJson(n: Node): NodeJson {
  return { value: escapeValue(n.value), base64: Buffer.from(n.value, 'latin1').toString('base64'), perms: permsText(n.perms) };
}

/** `"VALUE" (PERMS)`: a node's state as one line shows it. */
export function nodeText(n: Node): string {
  return `"${escapeValue(n.value)}" (${permsText(n.perms)})`;
}

export interface CommitJson {
  commit: string;
  parents: string[];
  /** ISO 8601, UTC. */
  time: string;
  domid: number;
  summary: string;
  /** `<conn>-<txid>` for a transaction's commit. */
  tx: string | null;
  changes: { op: string; path: string }[];
  /** A `revert-to` commit: the commit it restored `path` to. */
  revert: { commit: string; path: string } | null;
}

/** A commit's parents as its git object names them: also those retention cut off or a
 *  restart did not read back (Commit.cutParentIds). */
export function parentIds(c: Commit): string[] {
  return c.cutParentIds !== null ? [...c.cutParentIds] : c.parents.map((p) => commitIdOf(p));
}

export function commitJson(c: Commit): CommitJson {
  return {
    commit: commitIdOf(c),
    parents: parentIds(c),
    time: new Date(c.time).toISOString(),
    domid: c.domid,
    summary: commitSummary(c),
    tx: c.tx === null ? null : `${c.tx.conn}-${c.tx.txid}`,
    changes: c.changes.map((x) => ({ op: x.op, path: x.path })),
    revert: c.revertOf === null ? null : { commit: c.revertOf.target, path: c.revertOf.path },
  };
}

/** One line per commit: id, time, author domain, summary. */
export function commitLine(c: Commit): string {
  return `${commitIdOf(c)} ${new Date(c.time).toISOString()} dom${c.domid} ${commitSummary(c)}`;
}

export interface DiffJson {
  kind: Difference['kind'];
  path: string;
  before?: NodeJson;
  after?: NodeJson;
}

export function diffJson(d: Difference): DiffJson {
  const out: DiffJson = { kind: d.kind, path: d.path };
  if (d.before !== undefined) out.before = nodeJson(d.before);
  if (d.after !== undefined) out.after = nodeJson(d.after);
  return out;
}

/** One line per node: `+ /p = "v" (n0)`, `- /p = "v" (n0)`, `~ /p = "old" (n0) -> "new" (n0,r5)`. */
export function diffLine(d: Difference): string {
  if (d.kind === 'added') return `+ ${d.path} = ${nodeText(d.after!)}`;
  if (d.kind === 'removed') return `- ${d.path} = ${nodeText(d.before!)}`;
  return `~ ${d.path} = ${nodeText(d.before!)} -> ${nodeText(d.after!)}`;
}
