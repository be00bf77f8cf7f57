import { DOMID_FIRST_RESERVED, DOMID_SELF, FEATURE_ERROR, Op, PAYLOAD_MAX, type ErrorName } from '../wire/constants.js';
import { atoiU32, firstNul, oneArg, strings } from '../wire/args.js';
import type { Change } from '../store/change.js';
import { Ledger } from '../domain/ledger.js';
import { QUOTA_NAMES, quotaName, quotaValue } from '../domain/quota.js';
import * as ops from '../store/ops.js';
import { canonicalize, isSpecial, measuredLength } from '../store/path.js';
import { accessFor, parsePermStrings, PERM_READ } from '../store/perms.js';
import { LISTED, READ_PERMS, READ_VALUE, type View } from '../store/view.js';
import { Transaction } from '../txn/transaction.js';
import { Watch } from '../watch/watch.js';
import type { Connection } from './connection.js';
import { runControl } from '../control/index.js';
import type { Daemon } from './daemon.js';

/**
 * One handler per message type (reference §2), dispatched in the C daemon's order of checks:
 * unknown type → ENOSYS, privileged-only → EACCES, unknown tx_id → ENOENT, then the handler.
 */

const PRIVILEGED_ONLY = new Set<number>([
  Op.CONTROL, Op.INTRODUCE, Op.RELEASE, Op.IS_DOMAIN_INTRODUCED, Op.RESUME, Op.SET_TARGET, Op.SET_FEATURE,
  Op.GET_QUOTA, Op.SET_QUOTA,
]);

/** Requests that may add to an unprivileged domain's memory (checked before they run). */
const ADDS_MEMORY = new Set<number>([Op.WRITE, Op.MKDIR, Op.SET_PERMS, Op.WATCH, Op.TRANSACTION_START]);

/** Message types this daemon serves (the rest answer ENOSYS). */
function served(d: Daemon, type: number): boolean {
  if (type <= Op.SET_TARGET) return type !== Op.WATCH_EVENT && type !== Op.ERROR;
  if (type === Op.RESET_WATCHES || type === Op.DIRECTORY_PART) return true;
  // The 4.21/4.22 additions share one switch: off, the daemon is exactly Debian 12's 4.17.
  return (type === Op.GET_FEATURE || type === Op.SET_FEATURE || type === Op.GET_QUOTA || type === Op.SET_QUOTA) && d.options.features;
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
  if (!c.privileged) return guarded(d, c, type, req, txId, tx, buf, s, e);
  const err = run(d, c, type, req, txId, tx, buf, s, e);
  if (err !== null) out.error(req, txId, err);
}

/** An unprivileged request, under the quotas that are not the operations' own (reference §7):
 *  memory before it runs; transaction-nodes after it ran in a transaction. */
function guarded(d: Daemon, c: Connection, type: number, req: number, txId: number, tx: Transaction | null, buf: Buffer, s: number, e: number): void {
  const out = c.out;
  // A transaction over its node quota only takes its end (commit: ENOMEM), so it stops growing.
  if (tx !== null && tx.failed && type !== Op.TRANSACTION_END) return out.error(req, txId, 'ENOSPC');
  if (tx !== null || ADDS_MEMORY.has(type)) {
    const full = d.admitMemory(c, e - s);
    if (full !== null) return out.error(req, txId, full);
  }
  const mark = out.len;
  const err = run(d, c, type, req, txId, tx, buf, s, e);
  if (err !== null) out.error(req, txId, err);
  if (tx !== null && !tx.failed && c.txs.get(tx.id) === tx) {
    const most = d.domains.quotaOf(c.domid, 'transaction-nodes');
    if (most > 0 && tx.view.touches.size > most) {
      tx.failed = true;
      out.len = mark;
      out.error(req, txId, 'ENOSPC');
    }
  }
}

/** Canonicalizes a path; for an unprivileged caller, also applies its `path-max` quota. */
function resolve(d: Daemon, c: Connection, p: string): string | null {
  const path = canonicalize(p, c.home);
  if (path === null || c.privileged || isSpecial(path)) return path;
  return measuredLength(path) > d.domains.quotaOf(c.domid, 'path-max') ? null : path;
}

/** GET_PERMS of `@introduceDomain` / `@releaseDomain`: their perms, EACCES for a domain that
 *  may not read them, or null for any other request. */
function specialPerms(d: Daemon, c: Connection, buf: Buffer, s: number, e: number): string | null {
  const arg = oneArg(buf, s, e);
  if (arg === null || !isSpecial(arg)) return null;
  const perms = d.specialPermsOf(arg);
  if (perms === undefined) return null;
  if (!c.privileged && (accessFor(perms, c.domid, c.target, d.domains) & PERM_READ) === 0) return 'EACCES';
  return perms;
}

/** Resolves a one-argument data path (no `@` paths), or the error. */
function dataPath(d: Daemon, c: Connection, buf: Buffer, s: number, e: number): string | ErrorName {
  const arg = oneArg(buf, s, e);
  if (arg === null) return 'EINVAL';
  const path = resolve(d, c, arg);
  return path === null || isSpecial(path) ? 'EINVAL' : path;
}

function viewFor(d: Daemon, tx: Transaction | null): View {
  return tx !== null ? tx.view : d.store.begin();
}

function run(d: Daemon, c: Connection, type: number, req: number, txId: number, tx: Transaction | null, buf: Buffer, s: number, e: number): ErrorName | null {
  const out = c.out;
  switch (type) {
    case Op.READ: {
      const path = dataPath(d, c, buf, s, e);
      if (path.charCodeAt(0) !== 47) return path as ErrorName;
      const n = ops.access(viewFor(d, tx), d.domains, c, path, READ_VALUE, PERM_READ);
      if (typeof n === 'string') return n;
      out.begin(type, req, txId);
      out.put(n.value);
      out.end();
      return null;
    }
    case Op.DIRECTORY: {
      const path = dataPath(d, c, buf, s, e);
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
      // The special nodes' perms (C after 4.17; 4.17 itself answers EINVAL: same switch as
      // the other post-4.17 additions).
      if (d.options.features) {
        const special = specialPerms(d, c, buf, s, e);
        if (special !== null) {
          if (special === 'EACCES') return special;
          out.begin(type, req, txId);
          out.put(special);
          out.end();
          return null;
        }
      }
      const path = dataPath(d, c, buf, s, e);
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
      const path = resolve(d, c, buf.latin1Slice(s, nul));
      if (path === null || isSpecial(path)) return 'EINVAL';
      return mutate(d, c, type, req, txId, tx, { op: 'write', path, arg: buf.latin1Slice(nul + 1, e) });
    }
    case Op.MKDIR:
    case Op.RM: {
      const path = dataPath(d, c, buf, s, e);
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
      const full = d.admitTransaction(c);
      if (full !== null) return full;
      const id = c.nextTxId();
      const t = new Transaction(id, c.id, d.store);
      t.since = d.recent.seq;
      if (!c.privileged) t.dom = new Ledger(d.domains);
      c.txs.set(id, t);
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
        if (tx.failed) return 'ENOMEM';
        const ledger = d.ledger;
        ledger.reset();
        const err = tx.commit(d.store, ledger, c, d.watches);
        if (err !== null) {
          ledger.reset();
          d.watches.discard();
          if (err === 'EAGAIN') d.blame(c, tx);
          return err;
        }
        ledger.commit();
        d.wrote(c, tx.log);
        d.watches.flush();
      }
      out.ok(type, req, txId);
      return null;
    }
    case Op.GET_DOMAIN_PATH: {
      const arg = oneArg(buf, s, e);
      if (arg === null) return 'EINVAL';
      // Later C daemons want a strict decimal 0..65535; 4.17 takes anything atoi takes.
      const domid = d.options.features ? quotaDomid(arg) : atoiU32(arg);
      if (domid < 0) return 'EINVAL';
      out.begin(type, req, txId);
      out.putString0(`/local/domain/${domid}`);
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
      d.setTarget(dom, target);
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
    case Op.GET_QUOTA:
      return getQuota(d, c, req, txId, buf, s, e);
    case Op.SET_QUOTA:
      return setQuota(d, c, req, txId, buf, s, e);
  }
  return 'ENOSYS';
}

/** A domid in a quota command: strict decimal 0..65535, else -1. */
function quotaDomid(s: string): number {
  if (!/^[0-9]{1,5}$/.test(s)) return -1;
  const v = Number(s);
  return v <= 0xffff ? v : -1;
}

/** GET_QUOTA (C 4.22): no argument → the names; `<name>` → the daemon-wide value;
 *  `<domid> <name>` → that domain's value. */
function getQuota(d: Daemon, c: Connection, req: number, txId: number, buf: Buffer, s: number, e: number): ErrorName | null {
  const args = strings(buf, s, e);
  const out = c.out;
  if (args.length === 0) {
    out.begin(Op.GET_QUOTA, req, txId);
    out.putString0(QUOTA_NAMES.join(' '));
    out.end();
    return null;
  }
  if (args.length > 2) return 'EINVAL';
  const name = quotaName(args[args.length - 1]);
  if (name === null) return 'EINVAL';
  let table = d.domains.quota;
  if (args.length === 2) {
    const domid = quotaDomid(args[0]);
    if (domid < 0) return 'EINVAL';
    const dom = d.domains.get(domid);
    if (dom === undefined) return 'ENOENT';
    table = dom.quota;
  }
  out.begin(Op.GET_QUOTA, req, txId);
  out.putString0(String(table.get(name)));
  out.end();
  return null;
}

/** SET_QUOTA (C 4.22): `<name> <value>` (daemon-wide) or `<domid> <name> <value>`. */
function setQuota(d: Daemon, c: Connection, req: number, txId: number, buf: Buffer, s: number, e: number): ErrorName | null {
  const args = strings(buf, s, e);
  if (args.length !== 2 && args.length !== 3) return 'EINVAL';
  const name = quotaName(args[args.length - 2]);
  const value = quotaValue(args[args.length - 1]);
  if (name === null || value === null) return 'EINVAL';
  let table = d.domains.quota;
  if (args.length === 3) {
    const domid = quotaDomid(args[0]);
    if (domid < 0) return 'EINVAL';
    const dom = d.domains.get(domid);
    if (dom === undefined) return 'ENOENT';
    table = dom.quota;
  }
  table.set(name, value);
  d.quotasChanged();
  c.out.ok(Op.SET_QUOTA, req, txId);
  return null;
}

/** Runs a data mutation: inside a transaction on its branch (events wait for the commit),
 *  outside as one commit on the live store with its events fired before the reply. */
function mutate(d: Daemon, c: Connection, type: number, req: number, txId: number, tx: Transaction | null, change: Change): ErrorName | null {
  if (tx !== null) {
    const before = tx.log.length;
    const err = ops.apply(tx.view, tx.dom ?? d.uncounted, c, tx.view, tx.log, change);
    if (err !== null) return err;
    tx.bytes += change.path.length + (change.arg?.length ?? 0);
    // A request that changed nothing (RM of a missing node, MKDIR of an existing one) still
    // counts as a write: its answer depends on state the commit must check.
    if (tx.log.length === before) tx.log.push(change);
    c.out.ok(type, req, txId);
    return null;
  }
  const head = d.store.begin();
  const log: Change[] = [];
  const ledger = d.ledger;
  ledger.reset();
  const err = ops.apply(head, ledger, c, d.watches, log, change);
  if (err !== null) {
    d.watches.discard();
    ledger.reset();
    return err;
  }
  d.store.publish(head, c.domid, log, null);
  ledger.commit();
  d.wrote(c, log);
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
  const path = resolve(d, c, args[0]);
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
  if (!c.privileged) {
    const most = d.domains.quotaOf(c.domid, 'node-permissions');
    if (most > 0 && args.length - 1 > most) return 'ENOSPC';
  }
  const parsed = parsePermStrings(args.slice(1));
  if (!parsed.ok) return 'EINVAL';
  // An owner that cannot be a domain: the C daemon refuses before it even looks at the path.
  if (!isDomid(parsed.entries[0].domid)) return 'ENOENT';
  const path = resolve(d, c, args[0]);
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
  const path = resolve(d, c, spelled);
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
  const evtchn = atoiU32(args[2]);
  if (domid > 0xffff || evtchn === 0) return 'EINVAL';
  d.introduceDomain(domid, args[1], evtchn);
  c.out.ok(type, req, txId);
  return null;
}

/** A domid a domain can have. Without a hypervisor to ask, any such id may own nodes: the
 *  toolstack gives a guest its home before it introduces the guest. */
function isDomid(domid: number): boolean {
  return domid >= 0 && domid < DOMID_FIRST_RESERVED;
}
