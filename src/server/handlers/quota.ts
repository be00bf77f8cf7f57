import { QUOTA_NAMES, quotaName, quotaValue, type QuotaTable } from '../../domain/quota.js';
import { args, string0, ack, type Outcome, type Request, type RequestContext } from '../request.js';
import { parseDomid } from '../../wire/args.js';

/** The quota table a request names: daemon-wide, or a domain's when a domid comes first
 *  (`withDomid`; EINVAL: not a domid, ENOENT: no such domain). */
function tableOf(ctx: RequestContext, a: readonly string[], withDomid: boolean): QuotaTable | 'EINVAL' | 'ENOENT' {
  if (!withDomid) return ctx.xs.domains.quota;
  const domid = parseDomid(a[0]);
  if (domid < 0) return 'EINVAL';
  return ctx.xs.domains.get(domid)?.quota ?? 'ENOENT';
}

/** GET_QUOTA (C 4.22): no argument → the names; `<name>` → the daemon-wide value;
 *  `<domid> <name>` → that domain's value. */
export function getQuota(ctx: RequestContext, r: Request): Outcome {
  const a = args(r);
  if (a.length === 0) return string0(ctx, r, QUOTA_NAMES.join(' '));
  if (a.length > 2) return 'EINVAL';
  const name = quotaName(a[a.length - 1]);
  if (name === null) return 'EINVAL';
  const table = tableOf(ctx, a, a.length === 2);
  return typeof table === 'string' ? table : string0(ctx, r, String(table.get(name)));
}

/** SET_QUOTA (C 4.22): `<name> <value>` (daemon-wide) or `<domid> <name> <value>`. */
export function setQuota(ctx: RequestContext, r: Request): Outcome {
  const a = args(r);
  if (a.length !== 2 && a.length !== 3) return 'EINVAL';
  const name = quotaName(a[a.length - 2]);
  const value = quotaValue(a[a.length - 1]);
  if (name === null || value === null) return 'EINVAL';
  const table = tableOf(ctx, a, a.length === 3);
  if (typeof table === 'string') return table;
  table.set(name, value);
  ctx.xs.admission.quotasChanged();
  return ack(ctx, r);
}
