import type { Change } from '../store/change.js';
import { commonAncestor, isAtOrBelow } from '../store/path.js';

/**
 * Transaction fairness (XSA-206). A domain that keeps committing can make another client's
 * transactions fail with EAGAIN forever. The rule, after oxenstored's conflict credit:
 *
 * - Every change published by an unprivileged domain (a write outside a transaction or a
 *   commit) is remembered in a short ring: sequence number, domain, changed paths.
 * - When a transaction fails with EAGAIN, the path the merge refused on is looked up in the
 *   writes made since that transaction started; the newest write at, above or below that
 *   path by another unprivileged domain is *blamed*. dom0 is never blamed, and a domain is
 *   never blamed for failing its own transactions.
 * - Each domain has a conflict credit of CONFLICT_BURST (5) that refills at
 *   CONFLICT_REFILL_PER_S (20) per second. A blame costs one. Below zero, the daemon stops
 *   reading the domain's input (all its connections) until the credit is back at zero, so
 *   every blame beyond the burst buys the victim 1/20 s without that domain.
 *
 * A domain that conflicts with nobody is never slowed down, whatever its rate; a domain that
 * starves others can cause at most 5 + 20/s failed transactions.
 */

export const CONFLICT_BURST = 5;
export const CONFLICT_REFILL_PER_S = 20;

export class ConflictCredit {
  private credit = CONFLICT_BURST;
  private at = 0;
  /** Conflicts blamed on this domain so far. */
  blamed = 0;

  private refill(now: number): void {
    if (this.at !== 0) this.credit = Math.min(CONFLICT_BURST, this.credit + ((now - this.at) * CONFLICT_REFILL_PER_S) / 1000);
    this.at = now;
  }

  /** Charges one conflict at `now` (ms); returns how long (ms) the domain must now wait. */
  blame(now: number): number {
    this.refill(now);
    this.credit -= 1;
    this.blamed++;
    return this.credit >= 0 ? 0 : (-this.credit * 1000) / CONFLICT_REFILL_PER_S;
  }
}

/** Writes that name more paths than this are kept as their common ancestor only. */
const MAX_PATHS = 32;
const RING = 256;

interface Write {
  seq: number;
  domid: number;
  paths: readonly string[];
}

/** The recent writes of unprivileged domains, newest last (a ring of RING entries). */
export class RecentWrites {
  /** Sequence number of the last write recorded (a transaction remembers it at start). */
  seq = 0;
  private readonly ring: (Write | undefined)[] = new Array<Write | undefined>(RING);

  record(domid: number, changes: readonly Change[]): void {
    if (changes.length === 0) return;
    let paths: string[];
    if (changes.length <= MAX_PATHS) paths = changes.map((c) => c.path);
    else paths = [commonAncestor(changes.map((c) => c.path))];
    this.seq++;
    this.ring[this.seq % RING] = { seq: this.seq, domid, paths };
  }

  /** The domain whose write since `since` is the newest one touching `path` (at, above or
   *  below it), other than `victim`; -1 if none is remembered. */
  culprit(since: number, path: string, victim: number): number {
    for (let s = this.seq; s > since && s > this.seq - RING; s--) {
      const w = this.ring[s % RING];
      if (w === undefined || w.seq !== s || w.domid === victim) continue;
      for (const p of w.paths) if (isAtOrBelow(p, path) || isAtOrBelow(path, p)) return w.domid;
    }
    return -1;
  }
}
