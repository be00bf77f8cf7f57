import { PAYLOAD_MAX } from '../../wire/constants.js';
import { atoiU32, firstNul } from '../../wire/args.js';
import type { Change } from '../../store/change.js';
import * as ops from '../../store/ops.js';
import { isSpecial } from '../../store/path.js';
import { accessFor, parsePermStrings, PERM_READ, withoutDomain } from '../../store/perms.js';
import { LISTED, READ_PERMS, READ_VALUE, type View } from '../../store/view.js';
import { DOMID_ANY, DOMID_FIRST_RESERVED, FEATURE_DOMID_ANY } from '../../wire/constants.js';
import { args, callerHas, counted, data, dataPath, ack, oneArg, resolvePath, type Outcome, type Request, type RequestContext } from '../request.js';

/**
 * The data requests (reference §2.1, §3, §4): READ, DIRECTORY, DIRECTORY_PART, GET_PERMS,
 * WRITE, MKDIR, RM, SET_PERMS. Reads run against the transaction's branch or the live head;
 * changes run on the branch (their events wait for the commit) or are published at once as
 * one commit (server/publish.ts).
 */

function viewOf(ctx: RequestContext): View {
  return ctx.tx !== null ? ctx.tx.view : ctx.xs.store.begin();
}

export function read(ctx: RequestContext, r: Request): Outcome {
  const path = dataPath(ctx, r);
  if (path === null) return 'EINVAL';
  const n = ops.access(viewOf(ctx), ctx.xs.domains, ctx.conn, path, READ_VALUE, PERM_READ);
  return typeof n === 'string' ? n : data(ctx, r, n.value);
}

export function directory(ctx: RequestContext, r: Request): Outcome {
  const path = dataPath(ctx, r);
  if (path === null) return 'EINVAL';
  const n = ops.access(viewOf(ctx), ctx.xs.domains, ctx.conn, path, LISTED, PERM_READ);
  if (typeof n === 'string') return n;
  return n.children.bytes > PAYLOAD_MAX ? 'E2BIG' : data(ctx, r, n.children.joined());
}

/** DIRECTORY_PART `<path>\0<offset>\0`: the node's generation, then as many whole child
 *  names from byte `offset` of the list as fit; a final empty name ends the list. */
export function directoryPart(ctx: RequestContext, r: Request): Outcome {
  const a = counted(r);
  if (a === null || a.length !== 2) return 'EINVAL';
  const path = resolvePath(ctx, a[0]);
  if (path === null || isSpecial(path)) return 'EINVAL';
  const n = ops.access(viewOf(ctx), ctx.xs.domains, ctx.conn, path, LISTED, PERM_READ);
  if (typeof n === 'string') return n;
  const offset = atoiU32(a[1]);
  const gen = `${n.gen}\0`;
  const out = ctx.conn.out;
  out.begin(r.type, r.reqId, r.txId);
  out.put(gen);
  const total = n.children.bytes;
  if (offset >= total) {
    out.put0();
    out.end();
    return null;
  }
  const all = n.children.joined();
  const room = PAYLOAD_MAX - gen.length - 1;
  let end = offset;
  for (;;) {
    const nul = all.indexOf('\0', end);
    if (nul - offset + 1 > room) break;
    end = nul + 1;
    if (end >= total) break;
  }
  out.put(all.slice(offset, end));
  if (end >= total) out.put0();
  out.end();
  return null;
}

export function getPerms(ctx: RequestContext, r: Request): Outcome {
  if (ctx.xs.protocol.specialNodes) {
    const arg = oneArg(r);
    const perms = arg === null ? undefined : (ctx.tx?.specials.get(arg)?.perms ?? ctx.xs.specials.get(arg));
    if (perms !== undefined) {
      const c = ctx.conn;
      if (!c.privileged && (accessFor(perms, c.domid, c.target, ctx.xs.domains) & PERM_READ) === 0) return 'EACCES';
      return data(ctx, r, perms);
    }
    // Any other `@` path names a node that does not exist (C ≥ 4.18 reads it like any node).
    if (arg !== null && isSpecial(arg) && resolvePath(ctx, arg) !== null) return 'ENOENT';
  }
  const path = dataPath(ctx, r);
  if (path === null) return 'EINVAL';
  const n = ops.access(viewOf(ctx), ctx.xs.domains, ctx.conn, path, READ_PERMS, PERM_READ);
  return typeof n === 'string' ? n : data(ctx, r, n.perms);
}

export function write(ctx: RequestContext, r: Request): Outcome {
  const nul = firstNul(r.buf, r.start, r.end);
  if (nul < 0) return 'EINVAL';
  const path = resolvePath(ctx, r.buf.latin1Slice(r.start, nul));
  if (path === null || isSpecial(path)) return 'EINVAL';
  return change(ctx, r, { op: 'write', path, arg: r.buf.latin1Slice(nul + 1, r.end) });
}

export function mkdir(ctx: RequestContext, r: Request): Outcome {
  const path = dataPath(ctx, r);
  return path === null ? 'EINVAL' : change(ctx, r, { op: 'mkdir', path });
}

export function rm(ctx: RequestContext, r: Request): Outcome {
  const path = dataPath(ctx, r);
  return path === null ? 'EINVAL' : change(ctx, r, { op: 'rm', path });
}

/** SET_PERMS `<path>\0<perm>\0…`: the C daemon's order of checks (perm-count quota, syntax,
 *  an owner that cannot be a domain, then the path). */
export function setPerms(ctx: RequestContext, r: Request): Outcome {
  const a = args(r);
  if (a.length < 2) return 'EINVAL';
  const c = ctx.conn;
  if (!c.privileged) {
    const most = ctx.xs.domains.quotaOf(c.domid, 'node-permissions');
    if (most > 0 && a.length - 1 > most) return 'ENOSPC';
  }
  const parsed = parsePermStrings(a.slice(1));
  if (!parsed.ok) return 'EINVAL';
  // DOMID_ANY counts only for a caller with the feature (C domain_alloc_permrefs marks it
  // ignored otherwise; xsgit leaves such entries out of the list).
  const any = callerHas(ctx, FEATURE_DOMID_ANY);
  // Without a hypervisor to ask, any domid a domain can have may own nodes: the toolstack
  // gives a guest its home before it introduces the guest.
  const owner = parsed.entries[0].domid;
  if ((owner < 0 || owner >= DOMID_FIRST_RESERVED) && !(owner === DOMID_ANY && any)) return 'ENOENT';
  const masked = !any && (ctx.xs.protocol.serverFeatures & FEATURE_DOMID_ANY) !== 0;
  const perms = masked ? (withoutDomain(parsed.perms, DOMID_ANY) ?? parsed.perms) : parsed.perms;
  const path = resolvePath(ctx, a[0]);
  if (path === null) return 'EINVAL';
  if (isSpecial(path)) return setSpecialPerms(ctx, r, path, perms);
  return change(ctx, r, { op: 'set_perms', path, arg: perms });
}

/** SET_PERMS of `@introduceDomain` / `@releaseDomain`: at 4.17 set at once, silently; from
 *  4.18 on (special nodes are nodes) their watchers get an event, and inside a transaction
 *  the change waits for the commit (which fails with EAGAIN if the list moved meanwhile). */
function setSpecialPerms(ctx: RequestContext, r: Request, path: string, perms: string): Outcome {
  const xs = ctx.xs;
  const tx = ctx.tx;
  if (!xs.protocol.specialNodes) return xs.specials.set(ctx.conn, path, perms) ?? ack(ctx, r);
  if (xs.specials.get(path) === undefined) return 'ENOENT';
  if (tx === null) return xs.publish(ctx.conn, { op: 'special', path, perms }) ?? ack(ctx, r);
  const mine = tx.specials.get(path);
  const old = mine?.perms ?? xs.specials.get(path);
  if (old === undefined) return 'EINVAL';
  const err = xs.specials.may(ctx.conn, old);
  if (err !== null) return err;
  if (mine !== undefined) mine.perms = perms;
  else tx.specials.set(path, { base: old, perms });
  return ack(ctx, r);
}

/** A data change: inside a transaction on its branch; outside, published as one commit. */
function change(ctx: RequestContext, r: Request, edit: Change): Outcome {
  const tx = ctx.tx;
  if (tx === null) return ctx.xs.publish(ctx.conn, edit) ?? ack(ctx, r);
  const before = tx.log.length;
  const err = ops.apply(tx.view, tx.dom ?? ctx.xs.domains.uncounted, ctx.conn, tx.view, tx.log, edit);
  if (err !== null) return err;
  tx.bytes += edit.path.length + (edit.arg?.length ?? 0);
  // A request that changed nothing (RM of a missing node, MKDIR of an existing one) still
  // counts as a write: its answer depends on state the commit must check.
  if (tx.log.length === before) tx.log.push(edit);
  return ack(ctx, r);
}
