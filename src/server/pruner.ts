import { commitIdOf } from '../git/commitId.js';
import { TreeHasher } from '../git/nodeTree.js';
import type { Commit } from '../history/commit.js';
import type { History } from '../history/history.js';
import { logger } from '../util/log.js';

/** Nodes hashed per turn of the event loop: about a millisecond of work. */
const BUDGET = 300;

/**
 * Runs History retention off the request path: when a chain is over its bound, it first
 * hashes the trees of the commits whose ids the prune needs, BUDGET nodes per turn of the
 * event loop (a store hashed for the first time can be large), then prunes, which only
 * encodes commits. Requests are served between every step.
 */
export class Pruner {
  private queue: Commit[] | null = null;
  private hasher: TreeHasher | null = null;
  runs = 0;
  dropped = 0;

  constructor(private readonly history: History) {}

  /** Starts a run unless one is under way or nothing is due. Cheap: called after every batch. */
  schedule(): void {
    if (this.queue !== null || !this.history.needsPrune()) return;
    this.queue = this.history.pendingIds();
    setImmediate(() => this.step());
  }

  private step(): void {
    const q = this.queue!;
    let budget = BUDGET;
    while (budget > 0 && q.length > 0) {
      const c = q[0];
      this.hasher ??= new TreeHasher(c.root);
      if (!this.hasher.step(budget)) break;
      budget -= 50;
      this.hasher = null;
      commitIdOf(c);
      q.shift();
    }
    if (q.length > 0) {
      setImmediate(() => this.step());
      return;
    }
    this.queue = null;
    const n = this.history.prune();
    this.runs++;
    this.dropped += n;
    logger.debug(`history: pruned ${n} commits, ${this.history.retained} retained`);
  }
}
