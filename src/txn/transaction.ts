import type { ErrorName } from '../wire/constants.js';
import type { Change } from '../store/change.js';
import type { Commit, TxTag } from '../history/commit.js';
import type { Caller } from '../store/caller.js';
import { apply, silent, type DomainCheck } from '../store/ops.js';
import type { Store } from '../history/store.js';
import { HeadView } from '../store/tree.js';
import type { WatchIndex } from '../watch/watches.js';
import { conflicts } from './merge.js';
import { TxView } from './txview.js';

/**
 * One open transaction: a branch of the store that starts at the head of TRANSACTION_START
 * (`start`, the branch point in the history) and sees each node as it was when first touched.
 * Its successful changes are logged and replayed onto the head at commit, after merge.ts has
 * checked that nothing it depended on moved.
 */
export class Transaction {
  readonly view: TxView;
  readonly log: Change[] = [];
  readonly start: Commit;
  readonly tag: TxTag;
  readonly opened = Date.now();
  /** Hit the transaction-nodes quota: every further request in it fails, the commit with
   *  ENOMEM (reference §6.2). */
  failed = false;
  /** The accounting its requests run with (an unprivileged caller's quotas see the domain's
   *  nodes plus the transaction's own delta); null: none. */
  dom: DomainCheck | null = null;
  /** The daemon's write sequence number when it started (conflict blame). */
  since = 0;
  /** Bytes its changes carry (the memory quota). */
  bytes = 0;

  constructor(
    readonly id: number,
    connId: number,
    store: Store,
  ) {
    this.view = new TxView(() => store.root, store.gen);
    this.start = store.history.head;
    this.tag = { conn: connId, txid: id };
  }

  /** Commits onto the head: null on success, else the error (nothing applied): EAGAIN, or
   *  ENOSPC when the caller's quotas no longer allow the changes on today's head. `dom`
   *  counts the changes (the caller applies that accounting only on success). */
  commit(store: Store, dom: DomainCheck, who: Caller, events: WatchIndex): ErrorName | null {
    if (this.log.length === 0) {
      // Wrote nothing: commits if what it read is one state that existed, the head's now or
      // the one it started from. Reads taken at different first touches can otherwise
      // describe a state that never was.
      if (!conflicts(this.view, store.root) || !conflicts(this.view, this.start.root)) return null;
      store.history.conflicts++;
      return 'EAGAIN';
    }
    if (conflicts(this.view, store.root)) {
      store.history.conflicts++;
      return 'EAGAIN';
    }
    const head = store.begin();
    const changes: Change[] = [];
    for (const c of this.log) {
      const err = apply(head, dom, who, null, changes, c);
      if (err !== null) return err === 'ENOSPC' ? err : 'EAGAIN';
    }
    for (const [path, exact] of this.view.changes) {
      if (!this.view.visible(path)) continue;
      if (exact) events.exact(path);
      else events.changed(path);
    }
    const history = store.history;
    if (history.head === this.start) {
      store.publish(head, who.domid, changes, this.tag);
      return null;
    }
    // Others committed meanwhile: record the branch's own commit and a merge into main.
    const branch = new HeadView(this.start.root, store.gen);
    const quiet = silent(dom);
    for (const c of this.log) apply(branch, quiet, who, null, [], c);
    store.root = head.root;
    history.merge(this.start, branch.root, head.root, who.domid, changes, this.tag);
    return null;
  }
}
