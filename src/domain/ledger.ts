import type { Caller } from '../store/caller.js';
import type { DomainCheck } from '../store/ops.js';
import type { Domains } from './domains.js';
import type { QuotaName } from './quota.js';

/**
 * Accounting that waits: node counts and bytes per owner, collected while a request (or a
 * commit's replay) runs on a working copy of the store, and applied to the domain table only
 * when that copy is published (commit()). A request that fails part-way, or a commit that
 * turns out to conflict, leaves the table untouched (reset()).
 *
 * A transaction keeps its own Ledger for its whole life: quotas inside it see the domain's
 * count now plus the transaction's own delta, as in the C daemon. It is never committed: the
 * commit replays the transaction's changes onto the head through the daemon's Ledger, which
 * counts them again against the head as it is then (the node quota re-check at commit).
 */
export class Ledger implements DomainCheck {
  readonly counting = true;
  private readonly nodes = new Map<number, number>();
  private readonly bytes = new Map<number, number>();

  constructor(private readonly base: Domains) {}

  isLive(domid: number): boolean {
    return this.base.isLive(domid);
  }

  limit(who: Caller, name: QuotaName): number {
    return this.base.limit(who, name);
  }

  owned(domid: number): number {
    return this.base.owned(domid) + (this.nodes.get(domid) ?? 0);
  }

  /** This ledger's own delta of bytes for `domid`. */
  bytesDelta(domid: number): number {
    return this.bytes.get(domid) ?? 0;
  }

  account(owner: number, nodes: number, bytes: number): void {
    if (owner === 0) return;
    this.nodes.set(owner, (this.nodes.get(owner) ?? 0) + nodes);
    this.bytes.set(owner, (this.bytes.get(owner) ?? 0) + bytes);
  }

  /** Applies the collected deltas to the domain table and starts over. */
  commit(): void {
    if (this.nodes.size === 0) return;
    for (const [d, n] of this.nodes) this.base.account(d, n, this.bytes.get(d) ?? 0);
    this.reset();
  }

  reset(): void {
    // Called after every request: most (all of dom0's) leave nothing to clear.
    if (this.nodes.size === 0) return;
    this.nodes.clear();
    this.bytes.clear();
  }
}
