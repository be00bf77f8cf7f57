import { DOMID_FIRST_RESERVED, DOMID_SELF, FEATURE_ERROR, Op, PAYLOAD_MAX, type ErrorName } from '../wire/constants.js';
import { atoiU32, firstNul, oneArg, strings } from '../wire/args.js';
import type { Change } from '../history/commit.js';
import * as ops from '../store/ops.js';
import { canonicalize, isSpecial } from '../store/path.js';
import { parsePermStrings, PERM_READ } from '../store/perms.js';
import { LISTED, READ_PERMS, READ_VALUE, type View } from '../store/view.js';
import { Transaction } from '../txn/transaction.js';
import { Watch } from '../watch/watch.js';
import type { Connection } from './connection.js';
import { runControl } from './control.js';
import type { Daemon } from './daemon.js';

/**
 * One handler per message type (reference §2), dispatched in the C daemon's order of checks:
 * unknown type → ENOSYS, privileged-only → EACCES, unknown tx_id → ENOENT, then the handler.
 */

const PRIVILEGED_ONLY = new Set<number>([
  Op.CONTROL, Op.INTRODUCE, Op.RELEASE, Op.IS_DOMAIN_INTRODUCED, Op.RESUME, Op.SET_TARGET, Op.SET_FEATURE,
]);

/** Message types this daemon serves (the rest answer ENOSYS). */
function served(d: Daemon, type: number): boolean {
  if (type <= Op.SET_TARGET) return type !== Op.WATCH_EVENT && type !== Op.ERROR;
  if (type === Op.RESET_WATCHES || type === Op.DIRECTORY_PART) return true;
  return (type === Op.GET_FEATURE || type === Op.SET_FEATURE) && d.options.features;
}

export function dispatch(d: Daemon, c: Connection, type: number, req: number, txId: number, buf: Buffer, s: number, e: number): void {
  const out = c.out;
  if (!served(d, type)) return out.error(req, txId, 'ENOSYS');
  if (!c.privileged && PRIVILEGED_ONLY.has(type)) return out.error(req, txId, 'EACCES');
  let tx: Transaction | null = null;
  if (txId !== 0 && type !== Op.WATCH && type !== Op.UNWATCH) {
    tx = c.txs.get(txId) ?? null;
    if (tx === null) return out.error(req, txId, 'ENOENT');
  }
  const err = run(d, c, type, req, txId, tx, buf, s, e);
  if (err !== null) out.error(req, txId, err);
}

/** Resolves a one-argument data path (no `@` paths), or the error. */
function dataPath(c: Connection, buf: Buffer, s: number, e: number): string | ErrorName {
  const arg = oneArg(buf, s, e);
  if (arg === null) return 'EINVAL';
  const path = canonicalize(arg, c.home);
  return path === null || isSpecial(path) ? 'EINVAL' : path;
}

function viewFor(d: Daemon, tx: Transaction | null): View {
  return tx !== null ? tx.view : d.store.begin();
}

function run(d: Daemon, c: Connection, type: number, req: number, txId: number, tx: Transaction | null, buf: Buffer, s: number, e: number): ErrorName | null {
  const out = c.out;
  switch (type) {
    case Op.READ: {
      const path = dataPath(c, buf, s, e);
      if (path.charCodeAt(0) !== 47) return path as ErrorName;
      const n = ops.access(viewFor(d, tx), d.domains, c, path, READ_VALUE, PERM_READ);
      if (typeof n === 'string') return n;
      out.begin(type, req, txId);
      out.put(n.value);
      out.end();
      return null;
    }
    case Op.DIRECTORY: {
      const path = dataPath(c, buf, s, e);
      if (path.charCodeAt(0) !== 47) return path as ErrorName;
      const n = ops.access(viewFor(d, tx), d.domains, c, path, LISTED, PERM_READ);
      if (typeof n === 'string') return n;
      if (n.children.bytes > PAYLOAD_MAX) return 'E2BIG';
      out.begin(type, req, txId);
      out.put(n.children.joined());
      out.end();
      return null;
    }
    case Op.DIRECTORY_PART:
      return directoryPart(d, c, req, txId, tx, buf, s, e);
    case Op.GET_PERMS: {
      const path = dataPath(c, buf, s, e);
      if (path.charCodeAt(0) !== 47) return path as ErrorName;
      const n = ops.access(viewFor(d, tx), d.domains, c, path, READ_PERMS, PERM_READ);
      if (typeof n === 'string') return n;
      out.begin(type, req, txId);
      out.put(n.perms);
      out.end();
      return null;
    }
    case Op.WRITE: {
      const nul = firstNul(buf, s, e);
      if (nul < 0) return 'EINVAL';
      const path = canonicalize(buf.latin1Slice(s, nul), c.home);
      if (path === null || isSpecial(path)) return 'EINVAL';
      return mutate(d, c, type, req, txId, tx, { op: 'write', path, arg: buf.latin1Slice(nul + 1, e) });
    }
    case Op.MKDIR:
    case Op.RM: {
      const path = dataPath(c, buf, s, e);
      if (path.charCodeAt(0) !== 47) return path as ErrorName;
      return mutate(d, c, type, req, txId, tx, { op: type === Op.MKDIR ? 'mkdir' : 'rm', path });
    }
    case Op.SET_PERMS:
      return setPerms(d, c, req, txId, tx, buf, s, e);
    case Op.WATCH:
      return watch(d, c, req, txId, buf, s, e);
    case Op.UNWATCH: {
      const args = counted(buf, s, e);
      if (args === null || args.length !== 2) return 'EINVAL';
      // Like the C daemon, UNWATCH only resolves a relative path; it validates nothing.
      const p = args[0];
      const path = p.charCodeAt(0) === 47 || isSpecial(p) ? p : `${c.home}/${p}`;
      const key = `${path}\0${args[1]}`;
      const w = c.watches.get(key);
      if (w === undefined) return 'ENOENT';
      c.watches.delete(key);
      d.watches.remove(w);
      out.ok(type, req, txId);
      return null;
    }
    case Op.TRANSACTION_START: {
      if (tx !== null) return 'EBUSY';
      const id = c.nextTxId();
      c.txs.set(id, new Transaction(id, c.id, d.store));
      out.begin(type, req, txId);
      out.putString0(String(id));
      out.end();
      return null;
    }
    case Op.TRANSACTION_END: {
      if (tx === null) return 'ENOENT';
      const arg = oneArg(buf, s, e);
      if (arg !== 'T' && arg !== 'F') return 'EINVAL';
      c.txs.delete(tx.id);
      if (arg === 'T') {
        const err = tx.commit(d.store, d.domains, c, d.watches);
        if (err !== null) {
          d.watches.discard();
          return err;
        }
        d.watches.flush();
      }
      out.ok(type, req, txId);
      return null;
    }
    case Op.GET_DOMAIN_PATH: {
      const arg = oneArg(buf, s, e);
      if (arg === null) return 'EINVAL';
      out.begin(type, req, txId);
      out.putString0(`/local/domain/${atoiU32(arg)}`);
      out.end();
      return null;
    }
    case Op.IS_DOMAIN_INTRODUCED: {
      const arg = oneArg(buf, s, e);
      if (arg === null) return 'EINVAL';
      const domid = atoiU32(arg);
      out.begin(type, req, txId);
      out.put(domid === DOMID_SELF || d.domains.isLive(domid) ? 'T\0' : 'F\0');
      out.end();
      return null;
    }
    case Op.INTRODUCE:
      return introduce(d, c, type, req, txId, buf, s, e);
    case Op.RELEASE:
    case Op.RESUME: {
      const arg = oneArg(buf, s, e);
      if (arg === null) return 'EINVAL';
      const domid = atoiU32(arg);
      if (domid === 0) return 'EINVAL';
      if (!d.domains.isLive(domid)) return 'ENOENT';
      if (type === Op.RELEASE) d.releaseDomain(domid);
      out.ok(type, req, txId);
      return null;
    }
    case Op.SET_TARGET: {
      const args = strings(buf, s, e);
      if (args.length < 2) return 'EINVAL';
      const dom = d.domains.get(atoiU32(args[0]));
      const target = atoiU32(args[1]);
      if (dom === undefined || !d.domains.isLive(target)) return 'ENOENT';
      dom.target = target;
      out.ok(type, req, txId);
      return null;
    }
    case Op.RESET_WATCHES:
      d.resetConnection(c);
      out.ok(type, req, txId);
      return null;
    case Op.CONTROL: {
      const args = strings(buf, s, e);
      const reply = runControl(d, args);
      if (typeof reply !== 'string') return reply.error;
      out.begin(type, req, txId);
      out.putString0(reply);
      out.end();
      return null;
    }
    case Op.GET_FEATURE: {
      const args = strings(buf, s, e);
      if (args.length > 1) return 'EINVAL';
      let features = FEATURE_ERROR;
      if (args.length === 1) {
        if (!c.privileged) return 'EACCES';
        const f = d.domainFeatures(atoiU32(args[0]));
        if (f === undefined) return 'ENOENT';
        features = f;
      }
      out.begin(type, req, txId);
      out.putString0(String(features));
      out.end();
      return null;
    }
    case Op.SET_FEATURE: {
      const args = strings(buf, s, e);
      if (args.length !== 2) return 'EINVAL';
      const value = atoiU32(args[1]);
      if ((value & ~FEATURE_ERROR) !== 0) return 'EINVAL';
      const err = d.setDomainFeatures(atoiU32(args[0]), value);
      if (err !== null) return err;
      out.ok(type, req, txId);
      return null;
    }
  }
  return 'ENOSYS';
}

/** Runs a data mutation: inside a transaction on its branch (events wait for the commit),
 *  outside as one commit on the live store with its events fired before the reply. */
function mutate(d: Daemon, c: Connection, type: number, req: number, txId: number, tx: Transaction | null, change: Change): ErrorName | null {
  if (tx !== null) {
    const before = tx.log.length;
    const err = ops.apply(tx.view, d.domains, c, tx.view, tx.log, change);
    if (err !== null) return err;
    // A request that changed nothing (RM of a missing node, MKDIR of an existing one) still
    // counts as a write: its answer depends on state the commit must check.
    if (tx.log.length === before) tx.log.push(change);
    c.out.ok(type, req, txId);
    return null;
  }
  const head = d.store.begin();
  const log: Change[] = [];
  const err = ops.apply(head, d.domains, c, d.watches, log, change);
  if (err !== null) {
    d.watches.discard();
    return err;
  }
  d.store.publish(head, c.domid, log, null);
  d.watches.flush();
  c.out.ok(type, req, txId);
  return null;
}

/** The C daemon's get_strings: all strings, or none when the last byte is not a NUL. */
function counted(buf: Buffer, s: number, e: number): string[] | null {
  if (e <= s || buf[e - 1] !== 0) return null;
  return strings(buf, s, e);
}

function directoryPart(d: Daemon, c: Connection, req: number, txId: number, tx: Transaction | null, buf: Buffer, s: number, e: number): ErrorName | null {
  const args = counted(buf, s, e);
  if (args === null || args.length !== 2) return 'EINVAL';
  const path = canonicalize(args[0], c.home);
  if (path === null || isSpecial(path)) return 'EINVAL';
  const n = ops.access(viewFor(d, tx), d.domains, c, path, LISTED, PERM_READ);
  if (typeof n === 'string') return n;
  const offset = atoiU32(args[1]);
  const gen = `${n.gen}\0`;
  const out = c.out;
  out.begin(Op.DIRECTORY_PART, req, txId);
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

function setPerms(d: Daemon, c: Connection, req: number, txId: number, tx: Transaction | null, buf: Buffer, s: number, e: number): ErrorName | null {
  const args = strings(buf, s, e);
  if (args.length < 2) return 'EINVAL';
  const parsed = parsePermStrings(args.slice(1));
  if (!parsed.ok) return 'EINVAL';
  // An owner that cannot be a domain: the C daemon refuses before it even looks at the path.
  if (!isDomid(parsed.entries[0].domid)) return 'ENOENT';
  const path = canonicalize(args[0], c.home);
  if (path === null) return 'EINVAL';
  if (isSpecial(path)) {
    const err = d.setSpecialPerms(c, path, parsed.perms);
    if (err === null) c.out.ok(Op.SET_PERMS, req, txId);
    return err;
  }
  return mutate(d, c, Op.SET_PERMS, req, txId, tx, { op: 'set_perms', path, arg: parsed.perms });
}

function watch(d: Daemon, c: Connection, req: number, txId: number, buf: Buffer, s: number, e: number): ErrorName | null {
  const args = counted(buf, s, e);
  if (args === null || args.length !== 2) return 'EINVAL';
  const [spelled, token] = args;
  const path = canonicalize(spelled, c.home);
  if (path === null) return 'EINVAL';
  const key = `${path}\0${token}`;
  if (c.watches.has(key)) return 'EEXIST';
  const err = d.admitWatch(c);
  if (err !== null) return err;
  const w = new Watch(c, path, token, spelled.charCodeAt(0) === 47 || isSpecial(spelled) ? null : c.home);
  c.watches.set(key, w);
  d.watches.add(w);
  c.out.ok(Op.WATCH, req, txId);
  c.deliver(spelled, token);
  return null;
}

function introduce(d: Daemon, c: Connection, type: number, req: number, txId: number, buf: Buffer, s: number, e: number): ErrorName | null {
  const args = strings(buf, s, e);
  if (args.length < 3) return 'EINVAL';
  const domid = atoiU32(args[0]);
  if (domid > 0xffff || atoiU32(args[2]) === 0) return 'EINVAL';
  d.introduceDomain(domid);
  c.out.ok(type, req, txId);
  return null;
}

/** A domid a domain can have. Without a hypervisor to ask, any such id may own nodes: the
 *  toolstack gives a guest its home before it introduces the guest. */
function isDomid(domid: number): boolean {
  return domid >= 0 && domid < DOMID_FIRST_RESERVED;
}
