import { REL_PATH_MAX, type ErrorName } from '../wire/constants.js';
import { oneArg as wireOneArg, strings } from '../wire/args.js';
import { canonicalize, isSpecial, measuredLength } from '../store/path.js';
import type { Transaction } from '../txn/transaction.js';
import type { Connection } from './connection.js';
import type { Services } from './services.js';

/**
 * One request as the dispatcher hands it to a handler: the header fields and where its
 * payload lies in the input buffer (`buf[start, end)`, never copied). The dispatcher reuses
 * one Request object for every request, so a handler must not keep it.
 */
export interface Request {
  /** xsd_sockmsg.type (wire/constants.ts Op). */
  type: number;
  /** xsd_sockmsg.req_id, echoed in the reply. */
  reqId: number;
  /** xsd_sockmsg.tx_id, echoed in the reply. */
  txId: number;
  buf: Buffer;
  start: number;
  end: number;
}

/** Who asks and in which transaction; the daemon's services. Reused like Request. */
export interface RequestContext {
  readonly xs: Services;
  conn: Connection;
  /** The open transaction `txId` names; null outside one (and for the types that ignore
   *  the transaction id: WATCH, UNWATCH, the C daemon's XS_FLAG_NOTID). */
  tx: Transaction | null;
}

/**
 * What a handler returns: null once it has queued its reply (with the helpers below), else
 * the error the dispatcher answers with. The shape of the C daemon's `int do_x(ctx, conn,
 * in)` handlers of core.c (wire_funcs[]), which send their own reply or return an errno.
 */
export type Outcome = ErrorName | null;

/** A message type's handler. */
export type Handler = (ctx: RequestContext, r: Request) => Outcome;

/** Replies `OK` (oxenstored's reply_ack). */
export function ack(ctx: RequestContext, r: Request): Outcome {
  ctx.conn.out.ok(r.type, r.reqId, r.txId);
  return null;
}

/** Replies with `payload` as it is, latin1 (oxenstored's reply_data): a value, a child list. */
export function data(ctx: RequestContext, r: Request, payload: string): Outcome {
  const out = ctx.conn.out;
  out.begin(r.type, r.reqId, r.txId);
  out.put(payload);
  out.end();
  return null;
}

/** Replies with one NUL-terminated string (a path, a number, a CONTROL answer). */
export function string0(ctx: RequestContext, r: Request, s: string): Outcome {
  const out = ctx.conn.out;
  out.begin(r.type, r.reqId, r.txId);
  out.putString0(s);
  out.end();
  return null;
}

/** Whether the caller may use a XENSTORE_SERVER_FEATURE_* bit: dom0's socket has every
 *  feature of the protocol level, a guest those of its domain (C feature_available). */
export function callerHas(ctx: RequestContext, feature: number): boolean {
  const c = ctx.conn;
  const features = c.privileged ? ctx.xs.protocol.serverFeatures : (ctx.xs.domains.featuresOf(c.domid) ?? 0);
  return (features & feature) !== 0;
}

/** All the payload's NUL-terminated strings (C get_strings; bytes after the last NUL are
 *  ignored). */
export function args(r: Request): string[] {
  return strings(r.buf, r.start, r.end);
}

/** The C daemon's get_strings with its count check: every string, or null when the payload
 *  does not end with a NUL (WATCH, UNWATCH, DIRECTORY_PART). */
export function counted(r: Request): string[] | null {
  if (r.end <= r.start || r.buf[r.end - 1] !== 0) return null;
  return strings(r.buf, r.start, r.end);
}

/** The single NUL-terminated argument (C onearg), or null (wire/args.ts oneArg). */
export function oneArg(r: Request): string | null {
  return wireOneArg(r.buf, r.start, r.end);
}

/**
 * A path as the caller spelled it, made canonical (reference §3: relative paths are below
 * the caller's home; `@` paths as they are); for an unprivileged caller, also within its
 * `path-max` quota. Null: not a valid path (the request answers EINVAL).
 */
export function resolvePath(ctx: RequestContext, spelled: string): string | null {
  const c = ctx.conn;
  const path = canonicalize(spelled, c.home, ctx.xs.protocol.quotaPaths ? Infinity : REL_PATH_MAX);
  if (path === null || c.privileged || isSpecial(path)) return path;
  return measuredLength(path) > ctx.xs.domains.quotaOf(c.domid, 'path-max') ? null : path;
}

/** The one-argument data path of READ, DIRECTORY, GET_PERMS, MKDIR, RM: canonical, not an
 *  `@` path; null: EINVAL. */
export function dataPath(ctx: RequestContext, r: Request): string | null {
  const arg = oneArg(r);
  if (arg === null) return null;
  const path = resolvePath(ctx, arg);
  return path === null || isSpecial(path) ? null : path;
}
