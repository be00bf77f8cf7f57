import type { Node } from '../store/node.js';
import { type Change, Commit, type TxTag } from './commit.js';

/**
 * The in-memory commit chain: every change to the live store becomes a Commit on `main`.
 * A commit is a handful of references (the root is shared with the live tree), so recording
 * one costs no hashing and no copying; ids come later, off the request path (src/git).
 */
export class History {
  head: Commit;
  commits = 0;
  merges = 0;
  conflicts = 0;
  /** Named commits (`xsgit tag`, snapshots): kept whatever the retention. */
  readonly tags = new Map<string, Commit>();

  constructor(
    root: Node,
    private readonly clock: () => number = Date.now,
  ) {
    this.head = new Commit(root, [], 0, this.clock(), [], null);
  }

  /** Records a change outside any transaction, or a transaction that fast-forwards. */
  record(root: Node, domid: number, changes: readonly Change[], tx: TxTag | null): Commit {
    this.head = new Commit(root, [this.head], domid, this.clock(), changes, tx);
    this.commits++;
    return this.head;
  }

  /** Records a transaction that others overtook: its own commit on its branch (started at
   *  `start`), then the merge of that branch into main. */
  merge(start: Commit, branchRoot: Node, merged: Node, domid: number, changes: readonly Change[], tx: TxTag): Commit {
    const time = this.clock();
    const branch = new Commit(branchRoot, [start], domid, time, changes, tx);
    this.head = new Commit(merged, [this.head, branch], domid, time, changes, tx);
    this.commits += 2;
    this.merges++;
    return this.head;
  }
}
