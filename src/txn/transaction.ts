import type { ErrorName } from '../wire/constants.js';
import type { Change } from '../store/change.js';
import type { Caller } from '../store/caller.js';
import type { Node } from '../store/node.js';
import { apply, silent, type DomainCheck } from '../store/ops.js';
import { HeadView, lookup, type Generation } from '../store/tree.js';
import type { Commit, TxTag } from '../history/commit.js';
import type { Store } from '../history/store.js';
import { conflicts } from './merge.js';
import { TxView } from './txview.js';

/** Where a commit's watch events go: the watch index. */
export interface CommitEvents {
  changed(path: string): void;
  exact(path: string): void;
}

/**
 * One open transaction: a branch of the store that starts at the head of TRANSACTION_START
 * (`start`, the branch point in the history) and sees each node as it was when first touched.
 * Its successful changes are logged; at commit (server/publish.ts) merge.ts checks that
 * nothing it depended on moved, and the log is replayed onto the head.
 */
export class Transaction {
  readonly view: TxView;
  readonly log: Change[] = [];
  readonly start: Commit;
  readonly tag: TxTag;
  /** Milliseconds since the epoch. */
  readonly opened = Date.now();
  /** Hit the transaction-nodes quota: every further request in it fails, the commit with
   *  ENOMEM (reference §6.2). */
  failed = false;
  /** The accounting its requests run with (an unprivileged caller's quotas see the domain's
   *  nodes plus the transaction's own delta); null: none (privileged callers). */
  dom: DomainCheck | null = null;
  /** The daemon's write sequence number when it started (conflict blame). */
  since = 0;
  /** Bytes its changes carry (the memory quota). */
  bytes = 0;
  /** SET_PERMS of special nodes made in it (C ≥ 4.18: they are nodes): path → the list when
   *  first set here (`base`) and the new one. Applied at commit, if `base` still holds. */
  readonly specials = new Map<string, { readonly base: string; perms: string }>();

  constructor(
    readonly id: number,
    connId: number,
    store: Store,
  ) {
    this.view = new TxView(() => store.root, store.gen);
    this.start = store.history.head;
    this.tag = { conn: connId, txid: id };
  }

  /** For a transaction that wrote nothing: whether what it read is one state that existed,
   *  the head's now or the one it started from (reads taken at different first touches can
   *  otherwise describe a state that never was). */
  readsHold(head: Node): boolean {
    return !conflicts(this.view, head) || !conflicts(this.view, this.start.root);
  }

  /** Whether the branch cannot merge into `head` (merge.ts: the commit answers EAGAIN). */
  conflictsWith(head: Node): boolean {
    return conflicts(this.view, head);
  }

  /** Replays the log onto `head` as `who`, counted by `dom`: null, or the error (ENOSPC when
   *  the caller's quotas no longer allow the changes on today's head; EAGAIN otherwise). */
  replay(head: HeadView, dom: DomainCheck, who: Caller, log: Change[]): ErrorName | null {
    for (const c of this.log) {
      const err = apply(head, dom, who, null, log, c);
      if (err !== null) return err === 'ENOSPC' ? err : 'EAGAIN';
    }
    return null;
  }

  /**
   * The commit's watch events, one per node the transaction changed, in first-change order
   * (`exact` for a descendant of a removed node: only watches set on it fire) — but only for
   * the nodes the replay changed in the head (`before` → `after`). A node absent on both
   * sides, or one the head already held as the transaction left it because someone else
   * made it so, fires nothing.
   */
  announce(before: Node, after: Node, events: CommitEvents): void {
    const view = this.view;
    for (const [path, exact] of view.changes) {
      if (!view.visible(path)) continue;
      const was = lookup(before, path);
      const now = lookup(after, path);
      if (was === undefined && now === undefined) continue;
      if (was !== undefined && now !== undefined && was !== (view.touches.get(path)?.base ?? null) && was.value === now.value && was.perms === now.perms) continue;
      if (exact) events.exact(path);
      else events.changed(path);
    }
  }

  /** The root of the branch's own commit (for the merge commit's second parent): the log
   *  replayed onto the start, counting nothing. */
  branchRoot(gen: Generation, who: Caller, dom: DomainCheck): Node {
    const branch = new HeadView(this.start.root, gen);
    const quiet = silent(dom);
    for (const c of this.log) apply(branch, quiet, who, null, [], c);
    return branch.root;
  }
}
