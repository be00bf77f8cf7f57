import { DOMID_SELF, Op } from '../../wire/constants.js';
import { atoiU32, parseDomid } from '../../wire/args.js';
import { homePath } from '../../store/path.js';
import { ack, args, oneArg, string0, type Outcome, type Request, type RequestContext } from '../request.js';

/**
 * The domain requests (reference §4.6): GET_DOMAIN_PATH, IS_DOMAIN_INTRODUCED, INTRODUCE,
 * RELEASE, RESUME, SET_TARGET, GET_FEATURE, SET_FEATURE. All but GET_DOMAIN_PATH and
 * GET_FEATURE are privileged-only (the request table says so).
 */

/** A domid argument as the protocol level reads it: C 4.22's parse_domid (-1: EINVAL), or C
 *  4.17's atoi (never fails; wraps modulo 2^32). */
export function domidArg(ctx: RequestContext, s: string): number {
  return ctx.xs.protocol.strictDomids ? parseDomid(s) : atoiU32(s);
}

export function getDomainPath(ctx: RequestContext, r: Request): Outcome {
  const arg = oneArg(r);
  if (arg === null) return 'EINVAL';
  const domid = domidArg(ctx, arg);
  return domid < 0 ? 'EINVAL' : string0(ctx, r, homePath(domid));
}

export function isDomainIntroduced(ctx: RequestContext, r: Request): Outcome {
  const arg = oneArg(r);
  if (arg === null) return 'EINVAL';
  const domid = domidArg(ctx, arg);
  if (domid < 0) return 'EINVAL';
  return string0(ctx, r, domid === DOMID_SELF || ctx.xs.domains.isLive(domid) ? 'T' : 'F');
}

/** INTRODUCE `<domid>\0<gfn>\0<evtchn>\0` (the gfn is not needed: guests' pages are mapped
 *  by grant reference). */
export function introduce(ctx: RequestContext, r: Request): Outcome {
  const a = args(r);
  if (a.length < 3) return 'EINVAL';
  const domid = domidArg(ctx, a[0]);
  const evtchn = atoiU32(a[2]);
  if (domid < 0 || domid > 0xffff || evtchn === 0) return 'EINVAL';
  ctx.xs.introduceDomain(domid, a[1], evtchn);
  return ack(ctx, r);
}

/** RELEASE and RESUME `<domid>\0`: dom0 is EINVAL; ENOENT for a domain not introduced. */
export function releaseOrResume(ctx: RequestContext, r: Request): Outcome {
  const arg = oneArg(r);
  if (arg === null) return 'EINVAL';
  const domid = domidArg(ctx, arg);
  if (domid <= 0) return 'EINVAL';
  if (!ctx.xs.domains.isLive(domid)) return 'ENOENT';
  if (r.type === Op.RELEASE) ctx.xs.releaseDomain(domid, ctx.conn.proc);
  return ack(ctx, r);
}

/** SET_TARGET `<domid>\0<target>\0`: both must be introduced (ENOENT). */
export function setTarget(ctx: RequestContext, r: Request): Outcome {
  const a = args(r);
  if (a.length < 2) return 'EINVAL';
  const domid = domidArg(ctx, a[0]);
  const target = domidArg(ctx, a[1]);
  if (domid < 0 || target < 0) return 'EINVAL';
  const dom = ctx.xs.domains.get(domid);
  if (dom === undefined || !ctx.xs.domains.isLive(target)) return 'ENOENT';
  ctx.xs.setTarget(dom, target);
  return ack(ctx, r);
}

/** GET_FEATURE (C 4.22 do_get_feature): no argument → the caller's own features (dom0's
 *  socket: every feature this level has; a guest: its domain's, C cb8972017c); `<domid>`
 *  (privileged only, else EACCES) → that domain's. */
export function getFeature(ctx: RequestContext, r: Request): Outcome {
  const a = args(r);
  const c = ctx.conn;
  let features: number | undefined;
  if (a.length === 0) features = c.privileged ? ctx.xs.protocol.serverFeatures : ctx.xs.domains.featuresOf(c.domid);
  else {
    if (!c.privileged) return 'EACCES';
    if (a.length > 1) return 'EINVAL';
    const domid = domidArg(ctx, a[0]);
    if (domid < 0) return 'EINVAL';
    features = ctx.xs.domains.featuresOf(domid);
  }
  return features === undefined ? 'ENOENT' : string0(ctx, r, String(features));
}

/** SET_FEATURE `<domid>\0<features>\0`: only before the domain is introduced (EBUSY), and
 *  only features this level has (EINVAL). */
export function setFeature(ctx: RequestContext, r: Request): Outcome {
  const a = args(r);
  if (a.length !== 2) return 'EINVAL';
  const domid = domidArg(ctx, a[0]);
  if (domid < 0) return 'EINVAL';
  const value = atoiU32(a[1]);
  if (ctx.xs.domains.isLive(domid)) return 'EBUSY';
  if ((value & ~ctx.xs.protocol.serverFeatures) !== 0) return 'EINVAL';
  ctx.xs.domains.setFeatures(domid, value);
  return ack(ctx, r);
}
