import type { ProcessIdentity } from '../store/caller.js';
import { commitIdOf } from './commitId.js';
import type { Node } from '../store/node.js';
import type { Change } from '../store/change.js';
import { Commit, type RevertNote, type TxTag } from './commit.js';
import { Bucketer, DEFAULT_RETENTION, parseRetention, type Tier } from './retention.js';

/** An open transaction as a branch of the history: it started from `start`. */
export interface OpenBranch extends TxTag {
  readonly start: Commit;
}

/** The branch of an open transaction: `tx/<conn>-<txid>`. */
export function txBranch(tx: TxTag): string {
  return `tx/${tx.conn}-${tx.txid}`;
}

interface CoarseTier {
  readonly tier: Tier;
  readonly bucketer: Bucketer<Commit>;
  /** The tier's own append-only chain, oldest first: `refs/heads/history/<name>`. */
  readonly chain: Commit[];
}

/**
 * The in-memory commit chain: every change to the live store becomes a Commit on `main`.
 * A commit is a handful of references (the root is shared with the live tree), so recording
 * one costs no hashing and no copying; ids come later, off the request path (src/git).
 *
 * Retention (retention.ts): `main` keeps a window of its newest commits; each coarser tier is
 * its own append-only chain of one commit per time bucket. Commits that leave both are cut
 * off by prune(); an id anyone has seen never changes.
 */
export class History {
  head: Commit;
  commits = 0;
  merges = 0;
  conflicts = 0;
  /** Commits read back from a repository at start (a restart with --git-dir); `commits`
   *  counts those made since. */
  imported = 0;
  /** Named commits (`xsgit tag`, snapshots): kept whatever the retention. */
  readonly tags = new Map<string, Commit>();
  readonly tiers: readonly Tier[];
  /** main's first-parent line, oldest first. */
  private readonly window: Commit[];
  private readonly coarse: CoarseTier[];

  /** `head`: an existing commit to continue (a restart from an exported repository); else
   *  the history starts with a root commit of `root`. */
  constructor(
    root: Node,
    private readonly clock: () => number = Date.now,
    retention: string = DEFAULT_RETENTION,
    head?: Commit,
  ) {
    this.tiers = parseRetention(retention);
    this.coarse = this.tiers.slice(1).map((tier) => ({ tier, bucketer: new Bucketer<Commit>(tier), chain: [] }));
    this.head = head ?? new Commit(root, [], 0, this.clock(), [], null);
    // A head read back from a repository brings the first-parent line imported with it.
    this.window = lineOf(this.head, this.tiers[0].rows);
    if (head !== undefined) this.imported = this.window.length;
  }

  /** Records a change outside any transaction, or a transaction that fast-forwards;
   *  `revert` when the change is a `revert-to` (its message says so); `by`: the process
   *  behind the change. */
  record(root: Node, domid: number, changes: readonly Change[], tx: TxTag | null, revert: RevertNote | null = null, by: ProcessIdentity | null = null): Commit {
    this.commits++;
    const c = new Commit(root, [this.head], domid, this.clock(), changes, tx, by);
    c.revertOf = revert;
    return this.append(c);
  }

  /** Records a transaction that others overtook: its own commit on its branch (started at
   *  `start`), then the merge of that branch into main. */
  merge(start: Commit, branchRoot: Node, merged: Node, domid: number, changes: readonly Change[], tx: TxTag, by: ProcessIdentity | null = null): Commit {
    const time = this.clock();
    const branch = new Commit(branchRoot, [start], domid, time, changes, tx, by);
    this.commits += 2;
    this.merges++;
    return this.append(new Commit(merged, [this.head, branch], domid, time, changes, tx, by));
  }

  private append(c: Commit): Commit {
    this.head = c;
    this.window.push(c);
    for (const t of this.coarse) {
      const done = t.bucketer.offer(c, c.time);
      if (done === null) continue;
      const top = t.chain[t.chain.length - 1];
      const row = new Commit(done.last.root, top === undefined ? [] : [top], done.last.domid, done.last.time, [], null);
      row.tierNote = { tier: t.tier.name, covers: done.covers, bucketStart: done.bucketStart, origin: done.last };
      t.chain.push(row);
    }
    return c;
  }

  /** Continues the tier chains and tags of an exported history (a restart with --git-dir):
   *  `tiers` by branch name (`history/1h`), each with the first-parent line imported with it,
   *  tags by name. */
  adopt(tiers: ReadonlyMap<string, Commit>, tags: ReadonlyMap<string, Commit>): void {
    for (const t of this.coarse) {
      const head = tiers.get(`history/${t.tier.name}`);
      if (head === undefined || t.chain.length > 0) continue;
      t.chain.push(...lineOf(head, t.tier.rows));
      this.imported += t.chain.length;
    }
    for (const [name, c] of tags) this.tags.set(name, c);
  }

  /** The retained commits of main and of every tier, newest first per chain. */
  retainedCommits(): Commit[] {
    const out = [...this.window].reverse();
    for (const t of this.coarse) out.push(...[...t.chain].reverse());
    return out;
  }

  get retained(): number {
    return this.coarse.reduce((n, t) => n + t.chain.length, this.window.length);
  }

  /** The head of each tier's chain, by name (`history/1m` …). */
  /**
   * Every ref besides main, by the name the mirror gives it: the tier chains
   * (`history/<tier>`), the tags (`refs/tags/<name>`) and the branches of the open
   * transactions `open` (`tx/<conn>-<txid>`, at the commit each started from).
   */
  refs(open: Iterable<OpenBranch> = []): Map<string, Commit> {
    const out = this.tierHeads();
    for (const [name, c] of this.tags) out.set(`refs/tags/${name}`, c);
    for (const t of open) out.set(txBranch(t), t.start);
    return out;
  }

  tierHeads(): Map<string, Commit> {
    const out = new Map<string, Commit>();
    for (const t of this.coarse) {
      const top = t.chain[t.chain.length - 1];
      if (top !== undefined) out.set(`history/${t.tier.name}`, top);
    }
    return out;
  }

  /** Occupancy of every tier: rows kept of rows allowed. */
  occupancy(): { tier: string; rows: number; capacity: number }[] {
    return [{ tier: 'all', rows: this.window.length, capacity: this.tiers[0].rows }, ...this.coarse.map((t) => ({ tier: t.tier.name, rows: t.chain.length, capacity: t.tier.rows }))];
  }

  /** Whether prune() has work: a chain is over its bound by a batch's worth. Pruning in
   *  batches keeps its cost off most requests. */
  needsPrune(): boolean {
    const all = this.tiers[0].rows;
    if (this.window.length > all + Math.max(16, all >> 3)) return true;
    return this.coarse.some((t) => t.chain.length > t.tier.rows);
  }

  /** What prune() would drop, without dropping it. */
  pruneCandidates(): Commit[] {
    const out = this.window.slice(0, Math.max(0, this.window.length - this.tiers[0].rows));
    for (const t of this.coarse) out.push(...t.chain.slice(0, Math.max(0, t.chain.length - t.tier.rows)));
    return out;
  }

  /**
   * Cuts every chain back to its bound. A commit whose id was ever computed (shown, exported,
   * tagged) keeps it: its encoding goes on naming the parents it loses. One whose id nobody
   * has seen becomes a root, so pruning hashes nothing. Returns the number of commits let go.
   */
  prune(): number {
    const keepAlone = new Set(this.tags.values());
    for (const t of this.coarse) {
      for (const row of t.chain) {
        const note = row.tierNote;
        if (note === null || typeof note.origin === 'string') continue;
        if (note.origin.id !== undefined) note.origin = note.origin.id;
        else keepAlone.add(note.origin);
      }
    }
    let dropped = 0;
    const all = this.tiers[0].rows;
    if (this.window.length > all) {
      const gone = this.window.splice(0, this.window.length - all);
      dropped += gone.length;
      const kept = new Set(this.window);
      for (const c of this.window) {
        const [first, branch] = c.parents;
        if (first !== undefined && !kept.has(first)) cut(c, (p) => p !== first);
        // A merge's branch commit started from a commit that may be gone.
        if (branch !== undefined) cut(branch, (p) => kept.has(p));
      }
      for (const c of gone) if (keepAlone.has(c)) cut(c, () => false);
    }
    for (const t of this.coarse) {
      if (t.chain.length <= t.tier.rows) continue;
      const gone = t.chain.splice(0, t.chain.length - t.tier.rows);
      dropped += gone.length;
      cut(t.chain[0], () => false);
      for (const c of gone) if (keepAlone.has(c)) cut(c, () => false);
    }
    return dropped;
  }
}

/** The first-parent line ending at `head`, oldest first, at most `rows` commits. */
function lineOf(head: Commit, rows: number): Commit[] {
  const out: Commit[] = [];
  for (let c: Commit | undefined = head; c !== undefined && out.length < rows; c = c.parents[0]) out.push(c);
  return out.reverse();
}

/** Drops the parents `keep` rejects; a commit with an id keeps naming them (shallow). */
function cut(c: Commit, keep: (p: Commit) => boolean): void {
  if (c.parents.every(keep)) return;
  if (c.id !== undefined && c.cutParentIds === null) c.cutParentIds = c.parents.map((p) => commitIdOf(p));
  c.parents = c.parents.filter(keep);
}
