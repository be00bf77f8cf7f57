import { Ledger } from '../../domain/ledger.js';
import { Transaction } from '../../txn/transaction.js';
import { ack, oneArg, string0, type Outcome, type Request, type RequestContext } from '../request.js';

/** TRANSACTION_START (reference §6): a branch of the store from the head of now; replies
 *  its id. EBUSY inside a transaction; ENOSPC over the `transactions` quota. */
export function transactionStart(ctx: RequestContext, r: Request): Outcome {
  if (ctx.tx !== null) return 'EBUSY';
  const c = ctx.conn;
  const xs = ctx.xs;
  const full = xs.admission.admitTransaction(c);
  if (full !== null) return full;
  const id = c.nextTxId();
  const t = new Transaction(id, c.id, xs.store);
  t.since = xs.recent.seq;
  if (!c.privileged) t.dom = new Ledger(xs.domains);
  c.txs.set(id, t);
  return string0(ctx, r, String(id));
}

/** TRANSACTION_END `T` (commit) or `F` (abort). A commit answers EAGAIN when merge.ts finds
 *  a conflict (the domain whose write caused it is blamed), ENOMEM after the
 *  transaction-nodes quota was hit, ENOSPC when the quotas no longer allow its changes. */
export function transactionEnd(ctx: RequestContext, r: Request): Outcome {
  const tx = ctx.tx;
  if (tx === null) return 'ENOENT';
  const arg = oneArg(r);
  if (arg !== 'T' && arg !== 'F') return 'EINVAL';
  const c = ctx.conn;
  c.txs.delete(tx.id);
  if (arg === 'T') {
    if (tx.failed) return 'ENOMEM';
    const err = ctx.xs.publish(c, { op: 'commit', tx });
    if (err !== null) return err;
  }
  return ack(ctx, r);
}
