import type { History } from './history.js';
import { logger } from '../util/log.js';

/**
 * Runs History retention off the request path, between batches of requests, once a chain is a
 * batch over its bound. A prune only drops references (it hashes nothing), so one turn of the
 * event loop is enough.
 */
export class Pruner {
  private scheduled = false;
  runs = 0;
  dropped = 0;
  /** Set when a live mirror runs: it prunes right after each batch it wrote, so that no
   *  commit is cut before it reached the repository. */
  byMirror = false;

  constructor(private readonly history: History) {}

  /** Cheap: called after every batch of requests. */
  schedule(): void {
    if (this.byMirror || this.scheduled || !this.history.needsPrune()) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.run();
    });
  }

  run(): void {
    if (!this.history.needsPrune()) return;
    const n = this.history.prune();
    this.runs++;
    this.dropped += n;
    logger.debug(`history: pruned ${n} commits, ${this.history.retained} retained`);
  }
}
