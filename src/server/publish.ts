import type { ErrorName } from '../wire/constants.js';
import type { Change } from '../store/change.js';
import type { Caller } from '../store/caller.js';
import type { Node } from '../store/node.js';
import * as ops from '../store/ops.js';
import { walkTree } from '../store/walk.js';
import type { HeadView } from '../store/tree.js';
import type { Commit, RevertNote } from '../history/commit.js';
import { commitIdOf } from '../history/commitId.js';
import { diffTrees } from '../history/diff.js';
import type { Store } from '../history/store.js';
import { firstConflict } from '../txn/merge.js';
import type { Transaction } from '../txn/transaction.js';
import type { WatchIndex } from '../watch/watches.js';
import { DOM0, releaseFromTree } from '../domain/cleanup.js';
import type { Domains } from '../domain/domains.js';
import type { RecentWrites } from '../domain/fairness.js';
import type { SpecialNodes } from '../domain/specials.js';
import { Ledger } from '../domain/ledger.js';

/** TRANSACTION_END `T`: the transaction's changes replayed onto the head. */
export interface CommitEdit {
  readonly op: 'commit';
  readonly tx: Transaction;
}

/** RELEASE or the domain's death: its nodes go, its ACL entries go (domain/cleanup.ts). */
export interface ReleaseEdit {
  readonly op: 'release';
  readonly domid: number;
}

/** `revert-to`, `--restore-from`: the subtree at `path` made equal to `target`'s. */
export interface RevertEdit {
  readonly op: 'revert';
  readonly target: Commit;
  readonly path: string;
}

/** SET_PERMS of `@introduceDomain` / `@releaseDomain` outside a transaction. The special
 *  nodes are daemon state, not part of the tree: no commit, but their watchers get an event
 *  (C ≥ 4.18). */
export interface SpecialEdit {
  readonly op: 'special';
  readonly path: string;
  readonly perms: string;
}

/** Every way the store can change: one request outside a transaction (a Change), or one of
 *  the edits above. */
export type Edit = Change | CommitEdit | ReleaseEdit | RevertEdit | SpecialEdit;

/** Who makes an edit: a connection (its domain is blamed for conflicts and charged for its
 *  nodes) or the daemon itself (DOM0). */
export type Author = Caller;

/**
 * The one way the store changes. publish() owns the whole sequence, for every kind of edit:
 *
 *   1. the accounting of the edit starts empty (a Ledger);
 *   2. the edit is applied to the head through the ordinary operations (store/ops.ts), so
 *      that permissions, quotas, accounting and watch events are those of the operations;
 *   3. on error nothing is kept (events discarded, accounting dropped) and the error returns;
 *   4. the new root is published as one commit (history/store.ts: nothing else assigns it);
 *   5. the accounting is applied to the domain table;
 *   6. the conflict blame learns who wrote what (domain/fairness.ts);
 *   7. the watch events fire, before the reply (as in the C daemon).
 *
 * oxenstored gets the same single path by running every request as a transaction
 * (transaction.ml `make No`); here plain requests skip the branch and apply to the head.
 */
export class Publisher {
  private readonly ledger: Ledger;
  /** The root before the edit being published (events are shown to whoever could read the
   *  node before or after: reference §5.6). */
  preRoot: Node;

  constructor(
    private readonly store: Store,
    private readonly domains: Domains,
    private readonly watches: WatchIndex,
    private readonly recent: RecentWrites,
    private readonly specials: SpecialNodes,
  ) {
    this.ledger = new Ledger(domains);
    this.preRoot = store.root;
  }

  /** Applies and publishes `edit` as `who`; null on success, else the error (nothing
   *  changed). EAGAIN: a transaction's commit conflicts (merge.ts). */
  publish(who: Author, edit: Edit): ErrorName | null {
    const ledger = this.ledger;
    ledger.reset();
    this.preRoot = this.store.root;
    const head = this.store.begin();
    const log: Change[] = [];
    let err: ErrorName | null;
    let revert: RevertNote | null = null;
    switch (edit.op) {
      case 'commit':
        return this.commit(who, edit.tx, head, log);
      case 'special': {
        const err = this.specials.set(who, edit.path, edit.perms);
        if (err !== null) return err;
        this.watches.exact(edit.path);
        this.watches.flush();
        return null;
      }
      case 'release':
        releaseFromTree(head, head.root, edit.domid, ledger, this.watches, log);
        err = null;
        break;
      case 'revert':
        err = this.revert(head, edit.target.root, edit.path, log);
        // The message names the target by id (computed once, for this rare edit).
        revert = { target: commitIdOf(edit.target), path: edit.path };
        break;
      default:
        err = ops.apply(head, ledger, who, this.watches, log, edit);
    }
    if (err !== null) return this.abandon(err);
    this.store.publish(head, who.domid, log, null, revert, who.proc ?? null);
    this.finish(who, log);
    return null;
  }

  /** Drops whatever a failed edit collected. */
  private abandon(err: ErrorName): ErrorName {
    this.watches.discard();
    this.ledger.reset();
    return err;
  }

  private finish(who: Author, log: readonly Change[]): void {
    this.ledger.commit();
    if (!who.privileged) this.recent.record(who.domid, log);
    this.watches.flush();
  }

  /**
   * A transaction's commit (reference §6): a transaction that wrote nothing commits when its
   * reads describe one state that existed; otherwise merge.ts decides, and the changes are
   * replayed onto the head, re-checking the caller's quotas against the head as it is now.
   * The events are those of the changes the replay really made to the head: a removal or a
   * write that others already made identically (a merge the C daemon would refuse) fires
   * nothing.
   */
  private commit(who: Author, tx: Transaction, head: HeadView, log: Change[]): ErrorName | null {
    const history = this.store.history;
    for (const [path, s] of tx.specials) {
      if (this.specials.get(path) === s.base) continue;
      history.conflicts++;
      return 'EAGAIN';
    }
    if (tx.log.length === 0) {
      if (!tx.readsHold(head.root)) {
        history.conflicts++;
        return 'EAGAIN';
      }
      this.commitSpecials(tx);
      this.watches.flush();
      return null;
    }
    if (tx.conflictsWith(head.root)) {
      history.conflicts++;
      this.blame(who, tx, head.root);
      return 'EAGAIN';
    }
    const before = head.root;
    const err = tx.replay(head, this.ledger, who, log);
    if (err !== null) return this.abandon(err);
    tx.announce(before, head.root, this.watches);
    this.commitSpecials(tx);
    if (history.head === tx.start) this.store.publish(head, who.domid, log, tx.tag, null, who.proc ?? null);
    else this.store.publishMerge(head, tx.start, tx.branchRoot(this.store.gen, who, this.domains), who.domid, log, tx.tag, who.proc ?? null);
    this.finish(who, log);
    return null;
  }

  /** The special nodes' lists a committing transaction set, with their events. */
  private commitSpecials(tx: Transaction): void {
    for (const [path, s] of tx.specials) {
      this.specials.set(DOM0, path, s.perms);
      this.watches.exact(path);
    }
  }

  /** A commit of `who` failed with EAGAIN: the domain whose recent write caused it loses
   *  conflict credit, and may be throttled (domain/fairness.ts, XSA-206). */
  private blame(who: Author, tx: Transaction, head: Node): void {
    const path = firstConflict(tx.view, head);
    if (path === null) return;
    const culprit = this.recent.culprit(tx.since, path, who.domid);
    const dom = culprit < 0 ? undefined : this.domains.get(culprit);
    if (dom === undefined) return;
    const now = performance.now();
    const wait = dom.credit.blame(now);
    if (wait > 0) dom.throttledUntil = Math.max(dom.throttledUntil, now + wait);
  }

  /**
   * Makes the subtree at `path` equal to `target`'s, as dom0, through the ordinary
   * operations: removed subtrees go with RM, added nodes are written parent first, changed
   * values are written and changed permission lists set. The accounting and the watch events
   * are therefore those of the operations (a revert that gives a guest back 2 nodes of 20
   * leaves it room for 18).
   */
  private revert(head: HeadView, target: Node, path: string, log: Change[]): ErrorName | null {
    const dom = this.ledger;
    const events = this.watches;
    for (const d of diffTrees(head.root, target, path)) {
      if (d.kind === 'removed') {
        const err = ops.rm(head, dom, DOM0, events, log, d.path);
        if (err !== null) return err;
        continue;
      }
      if (d.kind === 'changed') {
        const err = sync(head, dom, events, log, d.path, d.after!, d.before!);
        if (err !== null) return err;
        continue;
      }
      // Added: the whole subtree, parents first.
      for (const [p, n] of walkTree(d.after!, d.path)) {
        const err = sync(head, dom, events, log, p, n, head.node(p));
        if (err !== null) return err;
      }
    }
    return null;
  }
}

/** Writes `want`'s value (when it differs from `now`'s, or `now` is missing) and sets its
 *  permission list (when it then differs), as dom0. */
function sync(head: HeadView, dom: Ledger, events: WatchIndex, log: Change[], path: string, want: Node, now: Node | undefined): ErrorName | null {
  if (now === undefined || now.value !== want.value) {
    const err = ops.write(head, dom, DOM0, events, log, path, want.value);
    if (err !== null) return err;
  }
  const made = head.node(path);
  if (made !== undefined && made.perms === want.perms) return null;
  return ops.setPerms(head, dom, DOM0, events, log, path, want.perms);
}
