import { commitIdOf } from '../history/commitId.js';
import { commitMessage } from '../history/commitMessage.js';
import type { Commit } from '../history/commit.js';
import { diffTrees, everyNode } from '../history/diff.js';
import { commitJson, commitLine, diffJson, diffLine, nodeJson, parentIds } from '../history/format.js';
import { txBranch } from '../history/history.js';
import { lsText } from '../history/ls.js';
import { firstParents, retainedWithBranches, touches } from '../history/revs.js';
import { lookup } from '../store/tree.js';
import { walkTree } from '../store/walk.js';
import { fail, isFailure, pathArg, pathLabel, revisionArg, revisionPair, type HistoryCommand } from './historyArgs.js';
import { bisectLine } from './historyBisect.js';

/**
 * The read-only `history` subcommands. Each answers text, or with `--json` one JSON value
 * (format.ts: a commit is named by `commit`, a node's state by `value`, `base64`, `perms`).
 * Differences are listed node by node: an added or removed subtree is every one of its nodes.
 */

function showText(c: Commit): string {
  const parent = c.parents[0];
  const diffs = parent === undefined ? [] : everyNode(diffTrees(parent.root, c.root));
  const head = [`commit ${commitIdOf(c)}`];
  const parents = parentIds(c);
  if (parents.length > 1) head.push(`Merge: ${parents.map((id) => id.slice(0, 12)).join(' ')}`);
  // The date as the git commit records it: whole seconds.
  const date = new Date(Math.floor(c.time / 1000) * 1000).toISOString().replace('.000Z', 'Z');
  head.push(`Author: dom${c.domid} <dom${c.domid}@xenstore>`, `Date:   ${date}`, '');
  const msg = commitMessage(c).trimEnd().split('\n').map((l) => `    ${l}`);
  // Without its parent in memory a commit's changes cannot be computed: say so, rather than
  // show an empty change list.
  const lost = parent === undefined && parents.length > 0 ? ['(its parent is no longer retained: what it changed cannot be shown)'] : [];
  return [...head, ...msg, '', ...lost, ...diffs.map(diffLine)].join('\n') + '\n';
}

export const log: HistoryCommand = {
  name: 'log',
  usage: '[PATH] [-n N] [--since TIME]',
  run(ctx, a) {
    const text = a.positional[0];
    const p = pathArg(text);
    if (isFailure(p)) return p;
    const picked: Commit[] = [];
    // A path that no visited commit holds is a mistake (a missing slash, a typo), not an
    // empty answer.
    let seen = p === '/';
    for (const c of firstParents(ctx.store.history.head)) {
      if (picked.length >= a.n || (a.since !== null && c.time < a.since)) break;
      if (!seen && lookup(c.root, p) !== undefined) seen = true;
      if (p === '/' || touches(c, p)) picked.push(c);
    }
    if (!seen && picked.length === 0) return fail('ENOENT', `${pathLabel(text, p)}: exists in none of the commits looked at`);
    return a.json ? JSON.stringify(picked.map(commitJson)) : picked.map((c) => commitLine(c) + '\n').join('');
  },
};

export const show: HistoryCommand = {
  name: 'show',
  usage: '[REV]',
  run(ctx, a) {
    const c = revisionArg(ctx, a.positional[0] ?? 'HEAD', 'REV');
    if (isFailure(c)) return c;
    if (!a.json) return showText(c);
    const parent = c.parents[0];
    const lost = parent === undefined && parentIds(c).length > 0;
    const diffs = parent === undefined ? [] : everyNode(diffTrees(parent.root, c.root));
    // diff: null when the parent is no longer retained (the changes cannot be computed).
    return JSON.stringify({ ...commitJson(c), diff: lost ? null : diffs.map(diffJson) });
  },
};

export const diff: HistoryCommand = {
  name: 'diff',
  usage: 'A B [PATH]',
  run(ctx, a) {
    const xy = revisionPair(ctx, a.positional, ['A', 'B']);
    if (isFailure(xy)) return xy;
    const [x, y] = xy;
    const text = a.positional[2];
    const p = pathArg(text);
    if (isFailure(p)) return p;
    if (lookup(x.root, p) === undefined && lookup(y.root, p) === undefined) {
      return fail('ENOENT', `${pathLabel(text, p)}: exists neither at A (${commitIdOf(x).slice(0, 12)}) nor at B (${commitIdOf(y).slice(0, 12)})`);
    }
    const diffs = everyNode(diffTrees(x.root, y.root, p));
    if (a.json) return JSON.stringify({ from: commitIdOf(x), to: commitIdOf(y), path: p, diff: diffs.map(diffJson) });
    return diffs.map((d) => diffLine(d) + '\n').join('');
  },
};

/** The node at PATH at REV, or why not. */
function nodeAt(ctx: Parameters<HistoryCommand['run']>[0], revText: string | undefined, pathText: string | undefined) {
  const c = revisionArg(ctx, revText, 'REV');
  if (isFailure(c)) return c;
  if (pathText === undefined) return fail('EINVAL', 'PATH is missing');
  const p = pathArg(pathText);
  if (isFailure(p)) return p;
  const n = lookup(c.root, p);
  if (n === undefined) return fail('ENOENT', `${pathLabel(pathText, p)}: does not exist at ${revText} (${commitIdOf(c).slice(0, 12)})`);
  return { c, p, n };
}

export const cat: HistoryCommand = {
  name: 'cat',
  usage: 'REV PATH',
  run(ctx, a) {
    const r = nodeAt(ctx, a.positional[0], a.positional[1]);
    if (isFailure(r)) return r;
    if (a.json) return JSON.stringify({ commit: commitIdOf(r.c), path: r.p, ...nodeJson(r.n), children: r.n.children.keys() });
    return r.n.value;
  },
};

export const ls: HistoryCommand = {
  name: 'ls',
  usage: 'REV [PATH] [--width N]',
  run(ctx, a) {
    const r = nodeAt(ctx, a.positional[0], a.positional[1] ?? '/');
    if (isFailure(r)) return r;
    if (!a.json) return lsText(r.n, r.p, a.width);
    const nodes = [...walkTree(r.n, r.p)].slice(1).map(([path, n]) => ({ path, ...nodeJson(n) }));
    return JSON.stringify({ commit: commitIdOf(r.c), path: r.p, nodes });
  },
};

export const revParse: HistoryCommand = {
  name: 'rev-parse',
  usage: 'REV',
  run(ctx, a) {
    const c = revisionArg(ctx, a.positional[0], 'REV');
    if (isFailure(c)) return c;
    return a.json ? JSON.stringify(commitJson(c)) : commitIdOf(c) + '\n';
  },
};

export const revList: HistoryCommand = {
  name: 'rev-list',
  usage: 'GOOD BAD',
  run(ctx, a) {
    const ends = revisionPair(ctx, a.positional, ['--good', '--bad']);
    if (isFailure(ends)) return ends;
    const line = bisectLine(ends, a.positional);
    if (isFailure(line)) return line;
    const ids = line.map((c) => commitIdOf(c));
    return a.json ? JSON.stringify({ good: commitIdOf(ends[0]), line: ids }) : ids.map((id) => id + '\n').join('');
  },
};

export const branches: HistoryCommand = {
  name: 'branches',
  usage: '',
  run(ctx, a) {
    const now = Date.now();
    const rows: { branch: string; domid: number; age: number; commit: string }[] = [];
    for (const t of ctx.openTransactions()) rows.push({ branch: txBranch(t), domid: t.domid, age: (now - t.opened) / 1000, commit: commitIdOf(t.start) });
    if (a.json) return JSON.stringify(rows);
    return rows.map((r) => `${r.branch} dom${r.domid} ${r.age.toFixed(1)}s ${r.commit}\n`).join('');
  },
};

export const stats: HistoryCommand = {
  name: 'stats',
  usage: '[gc]',
  run(ctx, a) {
    const h = ctx.store.history;
    const nodes = new Set<unknown>();
    for (const c of retainedWithBranches(h)) {
      const stack = [c.root];
      while (stack.length > 0) {
        const n = stack.pop()!;
        if (nodes.has(n)) continue;
        nodes.add(n);
        n.children.forEach((_k, child) => {
          if (!nodes.has(child)) stack.push(child);
        });
      }
    }
    // With `node --expose-gc` (benchmarks), `stats gc` measures live memory, not garbage.
    const gc = (globalThis as { gc?: () => void }).gc;
    if (a.positional[0] === 'gc' && gc !== undefined) gc();
    const mem = process.memoryUsage();
    const live = ctx.mirrorStats();
    const s = {
      commits: h.commits,
      imported: h.imported,
      merges: h.merges,
      eagain: h.conflicts,
      retained: h.retained,
      tags: h.tags.size,
      nodes: nodes.size,
      commit: commitIdOf(h.head),
      tiers: h.occupancy(),
      heapBytes: mem.heapUsed,
      rssBytes: mem.rss,
      mirror: live === null ? null : { batches: live.batches, objects: live.objects, lastLagMs: live.lastLag },
    };
    if (a.json) return JSON.stringify(s);
    const tiers = s.tiers.map((t) => `${t.tier}=${t.rows}/${t.capacity}`).join(' ');
    const mirror = s.mirror === null ? 'off' : `${s.mirror.batches} batches, ${s.mirror.objects} objects, last lag ${s.mirror.lastLagMs} ms`;
    // As text the head is called so; as JSON it is `commit`, like every commit id.
    const text = { commits: s.commits, imported: s.imported, merges: s.merges, eagain: s.eagain, retained: s.retained, tags: s.tags, nodes: s.nodes, head: s.commit, tiers, heapBytes: s.heapBytes, rssBytes: s.rssBytes, mirror };
    return Object.entries(text).map(([k, v]) => `${k.padEnd(9)} ${v}\n`).join('');
  },
};

export const prune: HistoryCommand = {
  name: 'prune',
  usage: '[--dry-run]',
  run(ctx, a) {
    const h = ctx.store.history;
    if (a.dryRun || a.positional[0] === 'dry-run') {
      const gone = h.pruneCandidates();
      return a.json ? JSON.stringify(gone.map(commitJson)) : gone.map((c) => commitLine(c) + '\n').join('');
    }
    const pruned = h.prune();
    return a.json ? JSON.stringify({ pruned, retained: h.retained }) : `${pruned} commits pruned, ${h.retained} retained\n`;
  },
};
