import { FEATURE_WATCHDEPTH } from '../../wire/constants.js';
import { atoi } from '../../wire/args.js';
import { isSpecial } from '../../store/path.js';
import { Watch } from '../../watch/watch.js';
import { ack, callerHas, counted, resolvePath, type Outcome, type Request, type RequestContext } from '../request.js';

/** WATCH `<path>\0<token>\0[<depth>\0]` (reference §5; the depth from C 4.22, for callers
 *  with XENSTORE_SERVER_FEATURE_WATCHDEPTH): registers the watch, replies OK, then queues the
 *  initial event (the path as spelled). EEXIST for the same path and token twice. */
export function watch(ctx: RequestContext, r: Request): Outcome {
  const a = counted(r);
  if (a === null) return 'EINVAL';
  const c = ctx.conn;
  let depth = -1;
  if (a.length === 3 && callerHas(ctx, FEATURE_WATCHDEPTH)) {
    depth = atoi(a[2]);
    if (depth < 0) return 'EINVAL';
  } else if (a.length !== 2) return 'EINVAL';
  const [spelled, token] = a;
  const path = resolvePath(ctx, spelled);
  if (path === null) return 'EINVAL';
  const key = `${path}\0${token}`;
  if (c.watches.has(key)) return 'EEXIST';
  const err = ctx.xs.admission.admitWatch(c);
  if (err !== null) return err;
  const w = new Watch(c, path, token, spelled.charCodeAt(0) === 47 || isSpecial(spelled) ? null : c.home, depth);
  c.watches.set(key, w);
  ctx.xs.watches.add(w);
  ack(ctx, r);
  c.deliver(spelled, token);
  return null;
}

/** UNWATCH `<path>\0<token>\0`. C 4.17 only resolves a relative path and validates
 *  nothing; from 4.18 on the path is checked as WATCH checks it (EINVAL). */
export function unwatch(ctx: RequestContext, r: Request): Outcome {
  const a = counted(r);
  if (a === null || a.length !== 2) return 'EINVAL';
  const c = ctx.conn;
  const p = a[0];
  const path = ctx.xs.protocol.quotaPaths ? resolvePath(ctx, p) : p.charCodeAt(0) === 47 || isSpecial(p) ? p : `${c.home}/${p}`;
  if (path === null) return 'EINVAL';
  const key = `${path}\0${a[1]}`;
  const w = c.watches.get(key);
  if (w === undefined) return 'ENOENT';
  c.watches.delete(key);
  ctx.xs.watches.remove(w);
  return ack(ctx, r);
}

/** RESET_WATCHES: drops every watch and open transaction of the connection. */
export function resetWatches(ctx: RequestContext, r: Request): Outcome {
  ctx.xs.resetConnection(ctx.conn);
  return ack(ctx, r);
}
