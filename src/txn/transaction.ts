import type { ErrorName } from '../wire/constants.js';
import type { Change, Commit, TxTag } from '../history/commit.js';
import type { Caller } from '../store/caller.js';
import { apply, type DomainCheck } from '../store/ops.js';
import type { Store } from '../store/store.js';
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

  constructor(
    readonly id: number,
    connId: number,
    store: Store,
  ) {
    this.view = new TxView(() => store.root, store.gen);
    this.start = store.history.head;
    this.tag = { conn: connId, txid: id };
  }

  /** Commits onto the head: null on success, else the error (EAGAIN: nothing applied). */
  commit(store: Store, dom: DomainCheck, who: Caller, events: WatchIndex): ErrorName | null {
    // Read-only transactions are checked too: reads taken at different first touches must
    // still hold together, or the client acted on a state that never existed.
    if (conflicts(this.view, store.root)) {
      store.history.conflicts++;
      return 'EAGAIN';
    }
    if (this.log.length === 0) return null;
    const head = store.begin();
    const changes: Change[] = [];
    for (const c of this.log) if (apply(head, dom, who, null, changes, c) !== null) return 'EAGAIN';
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
    for (const c of this.log) apply(branch, dom, who, null, [], c);
    store.root = head.root;
    history.merge(this.start, branch.root, head.root, who.domid, changes, this.tag);
    return null;
  }
}
