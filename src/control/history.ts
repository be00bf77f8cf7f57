import { commitIdOf } from '../history/commitId.js';
import { commitMessage } from '../history/commitMessage.js';
import type { Change } from '../store/change.js';
import type { Commit } from '../history/commit.js';
import { diffTrees } from '../history/diff.js';
import { commitJson, commitLine, diffJson, diffLines, escapeValue, permsText } from '../history/format.js';
import { firstParents, parseTime, resolveRev, retainedWithBranches, touches } from '../history/revs.js';
import { canonicalize } from '../store/path.js';
import { lookup } from '../store/tree.js';
import type { ErrorName } from '../wire/constants.js';
import { registerControl } from './index.js';
import type { Daemon } from '../server/daemon.js';

/**
 * CONTROL `history …`: the history queries, reachable with the real xenstore-control
 * (`xenstore-control history log /local/domain/3`) and used by the `xsgit` subcommands.
 * Output longer than one reply comes in pages: a page ends with a line
 * `... <N> more bytes: ask again with --offset <K>`, which the xsgit CLI follows.
 */

const PAGE = 3800;

export type Result = string | { error: ErrorName };

export interface Args {
  positional: string[];
  json: boolean;
  offset: number;
  n: number;
  since: number | null;
}

function parseArgs(argv: readonly string[]): Args | null {
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

function page(text: string, offset: number): string {
  if (offset === 0 && text.length <= PAGE + 200) return text;
  const chunk = text.slice(offset, offset + PAGE);
  const rest = text.length - offset - chunk.length;
  return rest > 0 ? `${chunk}\n... ${rest} more bytes: ask again with --offset ${offset + chunk.length}\n` : chunk;
}

/** Open transactions as branches: `tx/<conn>-<txid>` → the commit it branched from. */
function branches(d: Daemon): Map<string, Commit> {
  const out = new Map<string, Commit>();
  for (const c of d.connections) for (const t of c.txs.values()) out.set(`tx/${c.id}-${t.id}`, t.start);
  return out;
}

export function rev(d: Daemon, text: string | undefined): Commit | null {
  return text === undefined ? null : resolveRev(d.store.history, text, branches(d));
}

function path(text: string | undefined): string | null {
  return text === undefined ? '/' : canonicalize(text, '/local/domain/0');
}

export interface HistoryCommand {
  readonly usage: string;
  run(d: Daemon, a: Args): Result;
}

const SUBCOMMANDS: Record<string, HistoryCommand> = {
  log: {
    usage: '[PATH] [-n N] [--since TIME]',
    run(d, a) {
      const p = path(a.positional[0]);
      if (p === null) return { error: 'EINVAL' };
      const picked: Commit[] = [];
      for (const c of firstParents(d.store.history.head)) {
        if (picked.length >= a.n || (a.since !== null && c.time < a.since)) break;
        if (p === '/' || touches(c, p)) picked.push(c);
      }
      return a.json ? JSON.stringify(picked.map(commitJson)) : picked.map((c) => commitLine(c) + '\n').join('');
    },
  },
  show: {
    usage: 'REV',
    run(d, a) {
      const c = rev(d, a.positional[0] ?? 'HEAD');
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
  diff: {
    usage: 'A B [PATH]',
    run(d, a) {
      const x = rev(d, a.positional[0]);
      const y = rev(d, a.positional[1]);
      const p = path(a.positional[2]);
      if (x === null || y === null) return { error: 'ENOENT' };
      if (p === null) return { error: 'EINVAL' };
      const diffs = diffTrees(x.root, y.root, p);
      return a.json ? JSON.stringify(diffs.map(diffJson)) : diffs.flatMap(diffLines).map((l) => l + '\n').join('');
    },
  },
  cat: {
    usage: 'REV PATH',
    run(d, a) {
      const c = rev(d, a.positional[0]);
      const p = path(a.positional[1]);
      if (c === null) return { error: 'ENOENT' };
      if (p === null || a.positional[1] === undefined) return { error: 'EINVAL' };
      const n = lookup(c.root, p);
      if (n === undefined) return { error: 'ENOENT' };
      if (a.json) return JSON.stringify({ commit: commitIdOf(c), path: p, value: escapeValue(n.value), perms: permsText(n.perms), children: n.children.keys() });
      return n.value;
    },
  },
  branches: {
    usage: '',
    run(d, a) {
      const now = Date.now();
      const rows: { branch: string; domid: number; age: number; base: string }[] = [];
      for (const c of d.connections) {
        for (const t of c.txs.values()) rows.push({ branch: `tx/${c.id}-${t.id}`, domid: c.domid, age: (now - t.opened) / 1000, base: commitIdOf(t.start) });
      }
      if (a.json) return JSON.stringify(rows);
      return rows.map((r) => `${r.branch} dom${r.domid} ${r.age.toFixed(1)}s ${r.base}\n`).join('');
    },
  },
  stats: {
    usage: '[gc]',
    run(d, a) {
      const h = d.store.history;
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
        mirror: d.mirror === null ? null : { batches: d.mirror.batches, objects: d.mirror.objects, lastLagMs: d.mirror.lastLag },
      };
      if (a.json) return JSON.stringify(s);
      const tiers = s.tiers.map((t) => `${t.tier}=${t.rows}/${t.capacity}`).join(' ');
      const mirror = s.mirror === null ? 'off' : `${s.mirror.batches} batches, ${s.mirror.objects} objects, last lag ${s.mirror.lastLagMs} ms`;
      return Object.entries({ ...s, tiers, mirror }).map(([k, v]) => `${k.padEnd(9)} ${v}\n`).join('');
    },
  },
  prune: {
    usage: '[--dry-run]',
    run(d, a) {
      const h = d.store.history;
      if (a.positional[0] === '--dry-run' || a.positional[0] === 'dry-run') {
        const gone = h.pruneCandidates();
        return a.json ? JSON.stringify(gone.map(commitJson)) : gone.map((c) => commitLine(c) + '\n').join('');
      }
      return `${h.prune()} commits pruned, ${h.retained} retained\n`;
    },
  },
  tag: {
    usage: 'NAME [REV]',
    run(d, a) {
      const name = a.positional[0];
      if (name === undefined || !/^[A-Za-z0-9._-]+$/.test(name)) return { error: 'EINVAL' };
      const c = rev(d, a.positional[1] ?? 'HEAD');
      if (c === null) return { error: 'ENOENT' };
      d.store.history.tags.set(name, c);
      return commitIdOf(c);
    },
  },
  untag: {
    usage: 'NAME',
    run(d, a) {
      return d.store.history.tags.delete(a.positional[0] ?? '') ? 'OK' : { error: 'ENOENT' };
    },
  },
  'rev-list': {
    usage: 'GOOD BAD',
    run(d, a) {
      const good = rev(d, a.positional[0]);
      const bad = rev(d, a.positional[1]);
      if (good === null || bad === null) return { error: 'ENOENT' };
      const line = firstParents(bad, good);
      if (line[line.length - 1]?.parents[0] !== good) return { error: 'EINVAL' };
      return line.reverse().map((c) => commitIdOf(c) + '\n').join('');
    },
  },
  bisect: {
    usage: 'GOOD BAD PATH VALUE',
    run(d, a) {
      const [g, b, p0, value] = a.positional;
      const good = rev(d, g);
      const bad = rev(d, b);
      const p = path(p0);
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
  'revert-to': {
    usage: 'REV',
    run(d, a) {
      const c = rev(d, a.positional[0]);
      if (c === null) return { error: 'ENOENT' };
      return revertTo(d, c) ?? commitIdOf(d.store.history.head);
    },
  },
};

/** Rolls the live store back to a commit's tree, as a new commit, firing the watches of what
 *  changed. */
function revertTo(d: Daemon, target: Commit): { error: ErrorName } | null {
  const store = d.store;
  const diffs = diffTrees(store.root, target.root);
  if (diffs.length === 0) return null;
  const changes: Change[] = [];
  for (const x of diffs) {
    if (x.kind === 'removed') {
      changes.push({ op: 'rm', path: x.path });
      d.watches.removed(x.path, x.before!);
      continue;
    }
    const permsOnly = x.kind === 'changed' && x.before!.value === x.after!.value;
    changes.push({ op: permsOnly ? 'set_perms' : 'write', path: x.path, arg: permsOnly ? x.after!.perms : x.after!.value });
    d.watches.changed(x.path);
  }
  const view = store.begin();
  view.root = target.root;
  store.publish(view, 0, changes, null);
  d.watches.flush();
  return null;
}

/** Adds a `history` subcommand (snapshots, export jobs live in modules of their own). */
export function registerHistoryCommand(name: string, command: HistoryCommand): void {
  SUBCOMMANDS[name] = command;
}

registerControl('history', {
  get args() {
    return `<${Object.keys(SUBCOMMANDS).join('|')}> [--json]`;
  },
  help: 'query the git history',
  run(d, argv) {
    const sub = SUBCOMMANDS[argv[0] ?? ''];
    const a = parseArgs(argv.slice(1));
    if (sub === undefined || a === null) return { error: 'EINVAL' };
    const r = sub.run(d, a);
    return typeof r === 'string' ? page(r, a.offset) : r;
  },
});
