import { DOMID_SELF, FEATURE_ERROR, Op } from '../../wire/constants.js';
import { atoiU32 } from '../../wire/args.js';
import { homePath } from '../../store/path.js';
import { ack, args, oneArg, string0, type Outcome, type Request, type RequestContext } from '../request.js';

/**
 * The domain requests (reference §4.6): GET_DOMAIN_PATH, IS_DOMAIN_INTRODUCED, INTRODUCE,
 * RELEASE, RESUME, SET_TARGET, GET_FEATURE, SET_FEATURE. All but GET_DOMAIN_PATH and
 * GET_FEATURE are privileged-only (the request table says so).
 */

/** A domid argument as the protocol level reads it: strict decimal 0..65535 (C ≥ 4.18
 *  domid_from_string… see docs/decisions.md), else -1; or C's atoi at 4.17. */
export function domidArg(ctx: RequestContext, s: string): number {
  if (!ctx.xs.protocol.strictDomids) return atoiU32(s);
  return strictDomid(s);
}

/** A strict decimal domid 0..65535, else -1. */
export function strictDomid(s: string): number {
  if (!/^[0-9]{1,5}$/.test(s)) return -1;
  const v = Number(s);
  return v <= 0xffff ? v : -1;
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
  const domid = atoiU32(arg);
  return string0(ctx, r, domid === DOMID_SELF || ctx.xs.domains.isLive(domid) ? 'T' : 'F');
}

/** INTRODUCE `<domid>\0<gfn>\0<evtchn>\0`. */
export function introduce(ctx: RequestContext, r: Request): Outcome {
  const a = args(r);
  if (a.length < 3) return 'EINVAL';
  const domid = atoiU32(a[0]);
  const evtchn = atoiU32(a[2]);
  if (domid > 0xffff || evtchn === 0) return 'EINVAL';
  ctx.xs.introduceDomain(domid, a[1], evtchn);
  return ack(ctx, r);
}

/** RELEASE and RESUME `<domid>\0`: ENOENT for a domain not introduced; dom0 is EINVAL. */
export function releaseOrResume(ctx: RequestContext, r: Request): Outcome {
  const arg = oneArg(r);
  if (arg === null) return 'EINVAL';
  const domid = atoiU32(arg);
  if (domid === 0) return 'EINVAL';
  if (!ctx.xs.domains.isLive(domid)) return 'ENOENT';
  if (r.type === Op.RELEASE) ctx.xs.releaseDomain(domid, ctx.conn.proc);
  return ack(ctx, r);
}

/** SET_TARGET `<domid>\0<target>\0`. */
export function setTarget(ctx: RequestContext, r: Request): Outcome {
  const a = args(r);
  if (a.length < 2) return 'EINVAL';
  const dom = ctx.xs.domains.get(atoiU32(a[0]));
  const target = atoiU32(a[1]);
  if (dom === undefined || !ctx.xs.domains.isLive(target)) return 'ENOENT';
  ctx.xs.setTarget(dom, target);
  return ack(ctx, r);
}

/** GET_FEATURE [`<domid>`]: the features the daemon offers, or a domain's (privileged). */
export function getFeature(ctx: RequestContext, r: Request): Outcome {
  const a = args(r);
  if (a.length > 1) return 'EINVAL';
  let features = FEATURE_ERROR;
  if (a.length === 1) {
    if (!ctx.conn.privileged) return 'EACCES';
    const f = ctx.xs.domains.featuresOf(atoiU32(a[0]));
    if (f === undefined) return 'ENOENT';
    features = f;
  }
  return string0(ctx, r, String(features));
}

/** SET_FEATURE `<domid>\0<features>\0`: only for a domain not introduced yet (EBUSY). */
export function setFeature(ctx: RequestContext, r: Request): Outcome {
  const a = args(r);
  if (a.length !== 2) return 'EINVAL';
  const value = atoiU32(a[1]);
  if ((value & ~FEATURE_ERROR) !== 0) return 'EINVAL';
  const err = ctx.xs.domains.setFeatures(atoiU32(a[0]), value);
  return err ?? ack(ctx, r);
}
