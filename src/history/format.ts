import { commitIdOf } from './commitId.js';
import { commitSummary } from './commitMessage.js';
import type { Node } from '../store/node.js';
import type { Commit } from './commit.js';
import type { Difference } from './diff.js';

/** A value as `xenstore-read` prints it: printable ASCII as is, the rest escaped. */
export function escapeValue(v: string): string {
  let out = '';
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c === 92) out += '\\\\';
    else if (c === 9) out += '\\t';
    else if (c === 10) out += '\\n';
    else if (c === 13) out += '\\r';
    else if (c < 32 || c > 126) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else out += v[i];
  }
  return out;
}

/** Perms in the `xenstore-ls -p` form: `n0,r5`. */
export function permsText(perms: string): string {
  return perms.split('\0').filter((p) => p.length > 0).join(',');
}

export interface CommitJson {
  id: string;
  parents: string[];
  time: string;
  domid: number;
  summary: string;
  tx: string | null;
  changes: { op: string; path: string }[];
}

export function commitJson(c: Commit): CommitJson {
  return {
    id: commitIdOf(c),
    parents: c.parents.map((p) => commitIdOf(p)),
    time: new Date(c.time).toISOString(),
    domid: c.domid,
    summary: commitSummary(c),
    tx: c.tx === null ? null : `${c.tx.conn}-${c.tx.txid}`,
    changes: c.changes.map((x) => ({ op: x.op, path: x.path })),
  };
}

/** One line per commit: id, time, author domain, summary. */
export function commitLine(c: Commit): string {
  return `${commitIdOf(c)} ${new Date(c.time).toISOString()} dom${c.domid} ${commitSummary(c)}`;
}

export interface DiffJson {
  kind: Difference['kind'];
  path: string;
  before?: { value: string; perms: string };
  after?: { value: string; perms: string };
}

function state(n: Node | undefined): { value: string; perms: string } | undefined {
  return n === undefined ? undefined : { value: escapeValue(n.value), perms: permsText(n.perms) };
}

export function diffJson(d: Difference): DiffJson {
  const out: DiffJson = { kind: d.kind, path: d.path };
  const b = state(d.before);
  const a = state(d.after);
  if (b !== undefined) out.before = b;
  if (a !== undefined) out.after = a;
  return out;
}

/** `+ /p = "v" (n0)`, `- /p`, `~ /p = "old" -> "new"`, `~ /p perms n0 -> n0,r5`. */
export function diffLines(d: Difference): string[] {
  if (d.kind === 'added') return [`+ ${d.path} = "${escapeValue(d.after!.value)}" (${permsText(d.after!.perms)})`];
  if (d.kind === 'removed') return [`- ${d.path}`];
  const out: string[] = [];
  const b = d.before!;
  const a = d.after!;
  if (b.value !== a.value) out.push(`~ ${d.path} = "${escapeValue(b.value)}" -> "${escapeValue(a.value)}"`);
  if (b.perms !== a.perms) out.push(`~ ${d.path} perms ${permsText(b.perms)} -> ${permsText(a.perms)}`);
  return out;
}
