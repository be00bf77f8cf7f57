import { Op, type ErrorName } from '../wire/constants.js';
import type { Protocol } from './protocol.js';
import type { Handler, Request, RequestContext } from './request.js';
import { control } from './handlers/control.js';
import { directory, directoryPart, getPerms, mkdir, read, rm, setPerms, write } from './handlers/data.js';
import { getDomainPath, getFeature, introduce, isDomainIntroduced, releaseOrResume, setFeature, setTarget } from './handlers/domain.js';
import { getQuota, setQuota } from './handlers/quota.js';
import { transactionEnd, transactionStart } from './handlers/transaction.js';
import { resetWatches, unwatch, watch } from './handlers/watch.js';

/** Only privileged connections (dom0's socket) may send it; others get EACCES
 *  (C XS_FLAG_PRIV). */
const PRIV = 1;
/** The transaction id is not looked up (C XS_FLAG_NOTID). */
const NOTID = 2;
/** It may add to an unprivileged domain's memory: checked against the `memory` quota
 *  before it runs (reference §7). */
const MEMORY = 4;

/** One row of the request table. */
export interface RequestType {
  readonly run: Handler;
  readonly flags: number;
  /** Whether the protocol level serves it at all (else ENOSYS, as the C daemon of that
   *  release answers an unknown type). */
  readonly served?: (p: Protocol) => boolean;
}

/**
 * The request table, by message type (xs_wire.h xsd_sockmsg_type; reference §2): each type's
 * handler and flags, as the C daemon's wire_funcs[] of core.c. Types without a row
 * (WATCH_EVENT, ERROR, RESTRICT, unknown numbers) answer ENOSYS.
 */
export const REQUEST_TYPES: readonly (RequestType | undefined)[] = (() => {
  const t: (RequestType | undefined)[] = [];
  t[Op.CONTROL] = { run: control, flags: PRIV };
  t[Op.DIRECTORY] = { run: directory, flags: 0 };
  t[Op.READ] = { run: read, flags: 0 };
  t[Op.GET_PERMS] = { run: getPerms, flags: 0 };
  t[Op.WATCH] = { run: watch, flags: NOTID | MEMORY };
  t[Op.UNWATCH] = { run: unwatch, flags: NOTID };
  t[Op.TRANSACTION_START] = { run: transactionStart, flags: MEMORY };
  t[Op.TRANSACTION_END] = { run: transactionEnd, flags: 0 };
  t[Op.INTRODUCE] = { run: introduce, flags: PRIV };
  t[Op.RELEASE] = { run: releaseOrResume, flags: PRIV };
  t[Op.GET_DOMAIN_PATH] = { run: getDomainPath, flags: 0 };
  t[Op.WRITE] = { run: write, flags: MEMORY };
  t[Op.MKDIR] = { run: mkdir, flags: MEMORY };
  t[Op.RM] = { run: rm, flags: 0 };
  t[Op.SET_PERMS] = { run: setPerms, flags: MEMORY };
  t[Op.IS_DOMAIN_INTRODUCED] = { run: isDomainIntroduced, flags: PRIV };
  t[Op.RESUME] = { run: releaseOrResume, flags: PRIV };
  t[Op.SET_TARGET] = { run: setTarget, flags: PRIV };
  t[Op.RESET_WATCHES] = { run: resetWatches, flags: 0 };
  t[Op.DIRECTORY_PART] = { run: directoryPart, flags: 0 };
  t[Op.GET_FEATURE] = { run: getFeature, flags: 0, served: (p) => p.features };
  t[Op.SET_FEATURE] = { run: setFeature, flags: PRIV, served: (p) => p.features };
  t[Op.GET_QUOTA] = { run: getQuota, flags: PRIV, served: (p) => p.quotas };
  t[Op.SET_QUOTA] = { run: setQuota, flags: PRIV, served: (p) => p.quotas };
  return t;
})();

/**
 * Runs one request, in the C daemon's order of checks (core.c process_message): unknown or
 * unserved type → ENOSYS; privileged-only from a guest → EACCES; a transaction id that names
 * no open transaction → ENOENT; then, for a guest, the quotas that are not the operations'
 * own (guarded()); then the handler. Whatever the handler does not answer is answered with
 * its error here.
 */
export function dispatch(ctx: RequestContext, r: Request): void {
  const out = ctx.conn.out;
  const row = r.type < REQUEST_TYPES.length ? REQUEST_TYPES[r.type] : undefined;
  if (row === undefined || (row.served !== undefined && !row.served(ctx.xs.protocol))) return out.error(r.reqId, r.txId, 'ENOSYS');
  const c = ctx.conn;
  if (!c.privileged && (row.flags & PRIV) !== 0) return out.error(r.reqId, r.txId, 'EACCES');
  ctx.tx = null;
  if (r.txId !== 0 && (row.flags & NOTID) === 0) {
    const tx = c.txs.get(r.txId);
    if (tx === undefined) return out.error(r.reqId, r.txId, 'ENOENT');
    ctx.tx = tx;
  }
  const err = c.privileged ? row.run(ctx, r) : guarded(ctx, r, row);
  if (err !== null) out.error(r.reqId, r.txId, err);
}

/** An unprivileged request, under the quotas that are not the operations' own (reference
 *  §7): memory before it runs; transaction-nodes after it ran in a transaction. */
function guarded(ctx: RequestContext, r: Request, row: RequestType): ErrorName | null {
  const tx = ctx.tx;
  const c = ctx.conn;
  // A transaction over its node quota only takes its end (commit: ENOMEM), so it stops growing.
  if (tx !== null && tx.failed && r.type !== Op.TRANSACTION_END) return 'ENOSPC';
  if (tx !== null || (row.flags & MEMORY) !== 0) {
    const full = ctx.xs.admission.admitMemory(c, r.end - r.start);
    if (full !== null) return full;
  }
  const out = c.out;
  const mark = out.len;
  const err = row.run(ctx, r);
  if (err !== null) out.error(r.reqId, r.txId, err);
  if (tx !== null && !tx.failed && c.txs.get(tx.id) === tx) {
    const most = ctx.xs.domains.quotaOf(c.domid, 'transaction-nodes');
    if (most > 0 && tx.view.touches.size > most) {
      tx.failed = true;
      out.len = mark;
      return 'ENOSPC';
    }
  }
  return null;
}
