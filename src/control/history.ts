import { commitIdOf } from '../history/commitId.js';
import { commitMessage } from '../history/commitMessage.js';
import type { Commit } from '../history/commit.js';
import { diffTrees } from '../history/diff.js';
import { commitJson, commitLine, diffJson, diffLines, escapeValue, permsText } from '../history/format.js';
import { txBranch } from '../history/history.js';
import { firstParents, retainedWithBranches, touches } from '../history/revs.js';
import { lookup } from '../store/tree.js';
import type { ControlCommand, MirrorStats } from './context.js';
import { exportRepo, exportJob } from './export.js';
import { parseArgs, pathArg, revision, type HistoryCommand } from './historyArgs.js';
import { snapshot } from './snapshot.js';

/**
 * CONTROL `history …`: the history queries, reachable with the real xenstore-control
 * (`xenstore-control history log /local/domain/3`) and used by the `xsgit` subcommands.
 * Output longer than one reply comes in pages: a page ends with a line
 * `... <N> more bytes: ask again with --offset <K>`, which the xsgit CLI follows.
 */

const PAGE = 3800;

function page(text: string, offset: number): string {
  if (offset === 0 && text.length <= PAGE + 200) return text;
  const chunk = text.slice(offset, offset + PAGE);
  const rest = text.length - offset - chunk.length;
  return rest > 0 ? `${chunk}\n... ${rest} more bytes: ask again with --offset ${offset + chunk.length}\n` : chunk;
}

const SUBCOMMANDS: readonly HistoryCommand[] = [
  {
    name: 'log',
    usage: '[PATH] [-n N] [--since TIME]',
    run(ctx, a) {
      const p = pathArg(a.positional[0]);
      if (p === null) return { error: 'EINVAL' };
      const picked: Commit[] = [];
      for (const c of firstParents(ctx.store.history.head)) {
        if (picked.length >= a.n || (a.since !== null && c.time < a.since)) break;
        if (p === '/' || touches(c, p)) picked.push(c);
      }
      return a.json ? JSON.stringify(picked.map(commitJson)) : picked.map((c) => commitLine(c) + '\n').join('');
    },
  },
  {
    name: 'show',
    usage: 'REV',
    run(ctx, a) {
      const c = revision(ctx, a.positional[0] ?? 'HEAD');
      if (c === null) return { error: 'ENOENT' };
      const parent = c.parents[0];
      const diffs = parent === undefined ? [] : diffTrees(parent.root, c.root);
      if (a.json) return JSON.stringify({ ...commitJson(c), diff: diffs.map(diffJson) });
      const head = [`commit ${commitIdOf(c)}`];
      if (c.parents.length > 1) head.push(`Merge: ${c.parents.map((x) => commitIdOf(x).slice(0, 12)).join(' ')}`);
      head.push(`Author: dom${c.domid} <dom${c.domid}@xenstore>`, `Date:   ${new Date(c.time).toISOString()}`, '');
      const msg = commitMessage(c).trimEnd().split('\n').map((l) => `    ${l}`);
      return [...head, ...msg, '', ...diffs.flatMap(diffLines)].join('\n') + '\n';
    },
  },
  {
    name: 'diff',
    usage: 'A B [PATH]',
    run(ctx, a) {
      const x = revision(ctx, a.positional[0]);
      const y = revision(ctx, a.positional[1]);
      const p = pathArg(a.positional[2]);
      if (x === null || y === null) return { error: 'ENOENT' };
      if (p === null) return { error: 'EINVAL' };
      const diffs = diffTrees(x.root, y.root, p);
      return a.json ? JSON.stringify(diffs.map(diffJson)) : diffs.flatMap(diffLines).map((l) => l + '\n').join('');
    },
  },
  {
    name: 'cat',
    usage: 'REV PATH',
    run(ctx, a) {
      const c = revision(ctx, a.positional[0]);
      const p = pathArg(a.positional[1]);
      if (c === null) return { error: 'ENOENT' };
      if (p === null || a.positional[1] === undefined) return { error: 'EINVAL' };
      const n = lookup(c.root, p);
      if (n === undefined) return { error: 'ENOENT' };
      if (a.json) return JSON.stringify({ commit: commitIdOf(c), path: p, value: escapeValue(n.value), perms: permsText(n.perms), children: n.children.keys() });
      return n.value;
    },
  },
  {
    name: 'branches',
    usage: '',
    run(ctx, a) {
      const now = Date.now();
      const rows: { branch: string; domid: number; age: number; base: string }[] = [];
      for (const t of ctx.openTransactions()) rows.push({ branch: txBranch(t), domid: t.domid, age: (now - t.opened) / 1000, base: commitIdOf(t.start) });
      if (a.json) return JSON.stringify(rows);
      return rows.map((r) => `${r.branch} dom${r.domid} ${r.age.toFixed(1)}s ${r.base}\n`).join('');
    },
  },
  {
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
        merges: h.merges,
        eagain: h.conflicts,
        retained: h.retained,
        tags: h.tags.size,
        nodes: nodes.size,
        head: commitIdOf(h.head),
        tiers: h.occupancy(),
        heapBytes: mem.heapUsed,
        rssBytes: mem.rss,
        mirror: live === null ? null : mirrorJson(live),
      };
      if (a.json) return JSON.stringify(s);
      const tiers = s.tiers.map((t) => `${t.tier}=${t.rows}/${t.capacity}`).join(' ');
      const m = s.mirror;
      const mirror =
        m === null
          ? 'off'
          : `${m.state}${m.lastError === null ? '' : ` (${m.lastError})`}, ${m.batches} batches, ${m.objects} objects (${m.deltas} deltas), ` +
            `backlog ${m.backlogCommits} commits, lost ${m.lostCommits}, lag last ${m.lastLagMs} ms p50 ${m.lagP50Ms ?? '-'} ms p99 ${m.lagP99Ms ?? '-'} ms`;
      return Object.entries({ ...s, tiers, mirror }).map(([k, v]) => `${k.padEnd(9)} ${v}\n`).join('');
    },
  },
  {
    name: 'prune',
    usage: '[--dry-run]',
    run(ctx, a) {
      const h = ctx.store.history;
      if (a.positional[0] === '--dry-run' || a.positional[0] === 'dry-run') {
        const gone = h.pruneCandidates();
        return a.json ? JSON.stringify(gone.map(commitJson)) : gone.map((c) => commitLine(c) + '\n').join('');
      }
      return `${h.prune()} commits pruned, ${h.retained} retained\n`;
    },
  },
  {
    name: 'tag',
    usage: 'NAME [REV]',
    run(ctx, a) {
      const name = a.positional[0];
      if (name === undefined || !/^[A-Za-z0-9._-]+$/.test(name)) return { error: 'EINVAL' };
      const c = revision(ctx, a.positional[1] ?? 'HEAD');
      if (c === null) return { error: 'ENOENT' };
      ctx.store.history.tags.set(name, c);
      return commitIdOf(c);
    },
  },
  {
    name: 'untag',
    usage: 'NAME',
    run(ctx, a) {
      return ctx.store.history.tags.delete(a.positional[0] ?? '') ? 'OK' : { error: 'ENOENT' };
    },
  },
  {
    name: 'rev-list',
    usage: 'GOOD BAD',
    run(ctx, a) {
      const good = revision(ctx, a.positional[0]);
      const bad = revision(ctx, a.positional[1]);
      if (good === null || bad === null) return { error: 'ENOENT' };
      const line = firstParents(bad, good);
      if (line[line.length - 1]?.parents[0] !== good) return { error: 'EINVAL' };
      return line.reverse().map((c) => commitIdOf(c) + '\n').join('');
    },
  },
  {
    name: 'bisect',
    usage: 'GOOD BAD PATH VALUE',
    run(ctx, a) {
      const [g, b, p0, value] = a.positional;
      const good = revision(ctx, g);
      const bad = revision(ctx, b);
      const p = pathArg(p0);
      if (good === null || bad === null) return { error: 'ENOENT' };
      if (p === null || value === undefined) return { error: 'EINVAL' };
      const line = firstParents(bad, good).reverse();
      if (line.length === 0 || line[0].parents[0] !== good) return { error: 'EINVAL' };
      const isGood = (c: Commit) => lookup(c.root, p)?.value === value;
      let lo = 0;
      let hi = line.length - 1;
      if (isGood(line[hi])) return { error: 'EINVAL' };
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (isGood(line[mid])) lo = mid + 1;
        else hi = mid;
      }
      return a.json ? JSON.stringify(commitJson(line[lo])) : commitLine(line[lo]) + '\n';
    },
  },
  {
    name: 'revert-to',
    usage: 'REV',
    run(ctx, a) {
      const c = revision(ctx, a.positional[0]);
      if (c === null) return { error: 'ENOENT' };
      const err = ctx.revertTo(c, '/');
      return err !== null ? { error: err } : commitIdOf(ctx.store.history.head);
    },
  },
  exportRepo,
  exportJob,
  snapshot,
];

/** CONTROL `history <subcommand> …`. */
export const history: ControlCommand = {
  name: 'history',
  args: `<${SUBCOMMANDS.map((c) => c.name).join('|')}> [--json]`,
  help: 'query the git history',
  run(ctx, argv) {
    const sub = SUBCOMMANDS.find((c) => c.name === argv[0]);
    const a = parseArgs(argv.slice(1));
    if (sub === undefined || a === null) return { error: 'EINVAL' };
    const r = sub.run(ctx, a);
    return typeof r === 'string' ? page(r, a.offset) : r;
  },
};

/** The mirror's part of `history stats --json`. */
function mirrorJson(m: MirrorStats) {
  return {
    state: m.state,
    lastError: m.lastError,
    failures: m.failures,
    batches: m.batches,
    objects: m.objects,
    deltas: m.deltas,
    packBytes: m.bytes,
    lastLagMs: m.lastLag,
    lagP50Ms: m.lagPercentile(0.5),
    lagP99Ms: m.lagPercentile(0.99),
    backlogCommits: m.backlog,
    inFlightCommits: m.inFlight,
    lostCommits: m.lostCommits,
    workerBytes: m.workerBytes,
    repacks: m.repacks,
  };
}
