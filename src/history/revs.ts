import { commitIdOf } from './commitId.js';
import { treeIdOf } from './nodeTree.js';
import { lookup } from '../store/tree.js';
import type { Commit } from './commit.js';
import type { History } from './history.js';

/** Every commit reachable from `head`, newest first (by time, then by discovery). */
export function reachable(head: Commit): Commit[] {
  const seen = new Set<Commit>([head]);
  const out: Commit[] = [];
  const queue: Commit[] = [head];
  for (let i = 0; i < queue.length; i++) {
    const c = queue[i];
    out.push(c);
    for (const p of c.parents) {
      if (seen.has(p)) continue;
      seen.add(p);
      queue.push(p);
    }
  }
  return out.sort((a, b) => b.time - a.time);
}

/** The first-parent chain from `head` (main's own line: one commit per change). */
export function firstParents(head: Commit, stop?: Commit): Commit[] {
  const out: Commit[] = [];
  for (let c: Commit | undefined = head; c !== undefined && c !== stop; c = c.parents[0]) out.push(c);
  return out;
}

/** A time given as an ISO date, Unix seconds, or an age such as `90s`, `5m`, `2h`, `3d`. */
export function parseTime(text: string, now = Date.now()): number | null {
  const age = /^(\d+)([smhd])$/.exec(text);
  if (age !== null) return now - Number(age[1]) * { s: 1e3, m: 6e4, h: 36e5, d: 864e5 }[age[2] as 's' | 'm' | 'h' | 'd'];
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const t = Date.parse(text);
  return Number.isNaN(t) ? null : t;
}

/** What a revision and a time may be, for answers that refuse one. */
export const REV_HELP = 'a commit id (4+ hex digits), a tag, HEAD, main, history/<tier>, tx/<conn>-<txid>, REV~N or @TIME';
export const TIME_HELP = 'an ISO 8601 date, Unix seconds, or an age: 90s, 5m, 2h, 3d';

/**
 * Resolves a revision: `HEAD` or `main`, `HEAD~N`, a tag, `tx/<conn>-<txid>` (an open
 * transaction's branch point), a full or abbreviated (≥ 4 hex digits) commit id, or `@TIME`
 * (the last commit at or before TIME). Null when it names nothing (revisionOrWhy says why).
 */
export function resolveRev(h: History, rev: string, branches: ReadonlyMap<string, Commit> = new Map()): Commit | null {
  const r = revisionOrWhy(h, rev, branches);
  return typeof r === 'string' ? null : r;
}

/** resolveRev, or why the revision names no commit (a sentence without the revision). */
export function revisionOrWhy(h: History, rev: string, branches: ReadonlyMap<string, Commit> = new Map()): Commit | string {
  const tilde = /^(.*)~(\d+)$/.exec(rev);
  if (tilde !== null) {
    const base = revisionOrWhy(h, tilde[1], branches);
    if (typeof base === 'string') return base;
    let c: Commit = base;
    for (let n = Number(tilde[2]), k = 0; n > 0; n--, k++) {
      const p = c.parents[0];
      if (p === undefined) return `the history holds only ${k} commit${k === 1 ? '' : 's'} before ${tilde[1]} (the oldest retained is ${commitIdOf(c)})`;
      c = p;
    }
    return c;
  }
  if (rev === 'HEAD' || rev === 'main' || rev === 'refs/heads/main') return h.head;
  const tag = h.tags.get(rev.replace(/^refs\/tags\//, ''));
  if (tag !== undefined) return tag;
  const short = rev.replace(/^refs\/heads\//, '');
  const branch = branches.get(short) ?? h.tierHeads().get(short);
  if (branch !== undefined) return branch;
  if (rev.startsWith('@')) {
    const t = parseTime(rev.slice(1));
    if (t === null) return `not a time (TIME is ${TIME_HELP})`;
    const line = firstParents(h.head);
    const found = line.find((c) => c.time <= t);
    if (found !== undefined) return found;
    const oldest = line[line.length - 1];
    return `before the oldest retained commit (${commitIdOf(oldest)} at ${new Date(oldest.time).toISOString()})`;
  }
  if (!/^[0-9a-f]{4,40}$/.test(rev)) {
    if (/^tx\//.test(short)) return 'no such open transaction (see xsgit branches)';
    return `no such tag or branch, and not a commit id (REV is ${REV_HELP})`;
  }
  const found: Commit[] = [];
  for (const c of retainedWithBranches(h)) if (commitIdOf(c).startsWith(rev)) found.push(c);
  if (found.length === 1) return found[0];
  if (found.length > 1) return `ambiguous: ${found.length} commits start with it (${found.slice(0, 3).map((c) => commitIdOf(c).slice(0, 12)).join(', ')}${found.length > 3 ? ', …' : ''})`;
  return 'no commit with that id in the retained history (see xsgit log)';
}

/** Every commit the history still holds: main's window, the tiers' chains, the branch
 *  commits of merges, and tagged commits. */
export function retainedWithBranches(h: History): Set<Commit> {
  const out = new Set<Commit>();
  for (const c of h.retainedCommits()) {
    out.add(c);
    if (c.parents.length > 1) out.add(c.parents[1]);
  }
  for (const c of h.tags.values()) out.add(c);
  return out;
}

/** Whether the commit changed anything at or below `path` against its first parent. */
export function touches(c: Commit, path: string): boolean {
  const before = c.parents[0] === undefined ? undefined : lookup(c.parents[0].root, path);
  const after = lookup(c.root, path);
  if (before === after) return false;
  if (before === undefined || after === undefined) return true;
  // A rewrite with the same bytes makes a new object but the same git tree: not a change.
  return treeIdOf(before) !== treeIdOf(after);
}
