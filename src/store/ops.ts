import type { ErrorName } from '../wire/constants.js';
import type { Change } from './change.js';
import type { Caller } from './caller.js';
import type { Node } from './node.js';
import { baseName, parentOf } from './path.js';
import { accessFor, entriesOf, inheritPerms, ownerOf, PERM_READ, PERM_WRITE } from './perms.js';
import { type EventSink, type View, READ_PERMS, SAW_EXISTENCE } from './view.js';

/**
 * The data operations, written once against a View so that the live store and a
 * transaction's branch behave the same (reference §2.1, §3.4, §4). Each returns null on
 * success or the xenstore error name. Successful mutations are appended to `log` (the
 * commit's changes, or the transaction's replay list) and reported to `events` (null inside
 * a transaction: its events fire at commit).
 */

/**
 * What the operations ask of the domain table (src/domain): whether an ACL entry's domain
 * still counts (XSA-322), the quotas that bind an unprivileged caller, and the accounting of
 * nodes per owner. Implementations: the table itself (reads), a Ledger that buffers one
 * request's or one transaction's accounting, and `silent()` (no quotas, nothing counted).
 */
export interface DomainCheck {
  isLive(domid: number): boolean;
  /** False when account() does nothing: removals then skip walking the removed subtree. */
  readonly counting: boolean;
  /** The limit a quota puts on an unprivileged caller; 0: none. */
  limit(who: Caller, name: 'nodes' | 'node-size'): number;
  /** Nodes `domid` owns, as this operation sees them. */
  owned(domid: number): number;
  /** Nodes owned by `owner` appear (+) or disappear (−), with their bytes (memory quota). */
  account(owner: number, nodes: number, bytes: number): void;
}

/** A DomainCheck that limits and counts nothing (replays that only rebuild a state). */
export function silent(dom: DomainCheck): DomainCheck {
  return { isLive: (d) => dom.isLive(d), counting: false, limit: () => 0, owned: () => 0, account: () => {} };
}

/** The C daemon's node record size, which the `node-size` quota bounds: a 16-byte header,
 *  8 bytes per permission entry, the value and the NUL-terminated child names. */
export function nodeSize(value: string, perms: string, childBytes: number): number {
  return 16 + 8 * entriesOf(perms).length + value.length + childBytes;
}

/** What one node costs its owner in the `memory` quota: its record and its name. */
export function nodeBytes(name: string, value: string, perms: string): number {
  return 16 + 8 * entriesOf(perms).length + value.length + name.length + 1;
}

/** Takes a removed subtree off its owners' accounts (iteratively: paths may be 1,500 deep). */
function unaccount(dom: DomainCheck, path: string, old: Node): void {
  if (!dom.counting) return;
  const names = [baseName(path)];
  const nodes = [old];
  while (nodes.length > 0) {
    const n = nodes.pop()!;
    const name = names.pop()!;
    const owner = ownerOf(n.perms);
    if (owner !== 0) dom.account(owner, -1, -nodeBytes(name, n.value, n.perms));
    n.children.forEach((k, child) => {
      names.push(k);
      nodes.push(child);
    });
  }
}

function allowed(view: View, dom: DomainCheck, who: Caller, path: string, node: Node, want: number): boolean {
  if (who.privileged) return true;
  view.mark(path, READ_PERMS);
  return (accessFor(node.perms, who.domid, who.target, dom) & want) === want;
}

/** ENOENT for a missing node, or EACCES when the caller could not even read the nearest
 *  existing ancestor, so that nothing leaks about existence (C errno_from_parents). */
function missing(view: View, dom: DomainCheck, who: Caller, path: string): ErrorName {
  // Walked for every caller: in a transaction these are first touches, as in the C daemon.
  let p = parentOf(path);
  for (;;) {
    const n = view.node(p, SAW_EXISTENCE);
    if (n !== undefined) return allowed(view, dom, who, p, n, PERM_READ) ? 'ENOENT' : 'EACCES';
    p = parentOf(p);
  }
}

/** Fetches a node the caller may access in `want` mode, or the error. */
export function access(view: View, dom: DomainCheck, who: Caller, path: string, reads: number, want: number): Node | ErrorName {
  const n = view.node(path, reads);
  if (n === undefined) return missing(view, dom, who, path);
  return allowed(view, dom, who, path, n, want) ? n : 'EACCES';
}

/** Creates `path` and its missing ancestors (empty values, perms inherited from the parent). */
function create(view: View, dom: DomainCheck, who: Caller, path: string, value: string): Node | ErrorName {
  const chain = [path];
  let p = parentOf(path);
  let top = view.node(p, SAW_EXISTENCE);
  while (top === undefined) {
    chain.push(p);
    p = parentOf(p);
    top = view.node(p, SAW_EXISTENCE);
  }
  // The new nodes' perms derive from the ancestor's: a transaction depends on them.
  view.mark(p, READ_PERMS);
  if (!allowed(view, dom, who, p, top, PERM_WRITE)) return 'EACCES';
  const k = chain.length;
  const perms = inheritPerms(top.perms, who.domid, who.privileged);
  if (!who.privileged) {
    const most = dom.limit(who, 'nodes');
    if (most > 0 && dom.owned(who.domid) + k > most) return 'ENOSPC';
    const size = dom.limit(who, 'node-size');
    if (size > 0) {
      // The ancestor gains a child name; each new node holds its value or one child name.
      if (nodeSize(top.value, top.perms, top.children.bytes + baseName(chain[k - 1]).length + 1) > size) return 'ENOSPC';
      if (nodeSize(value, perms, 0) > size) return 'ENOSPC';
      for (let i = 1; i < k; i++) if (nodeSize('', perms, baseName(chain[i - 1]).length + 1) > size) return 'ENOSPC';
    }
  }
  let made: Node = top;
  let bytes = 0;
  for (let i = k - 1; i >= 0; i--) {
    const v = i === 0 ? value : '';
    made = view.put(chain[i], v, perms);
    bytes += nodeBytes(baseName(chain[i]), v, perms);
  }
  const owner = ownerOf(perms);
  if (owner !== 0) dom.account(owner, k, bytes);
  return made;
}

export function write(view: View, dom: DomainCheck, who: Caller, events: EventSink | null, log: Change[], path: string, value: string): ErrorName | null {
  const n = view.node(path, SAW_EXISTENCE);
  let made: Node | ErrorName;
  if (n !== undefined) {
    if (!allowed(view, dom, who, path, n, PERM_WRITE)) return 'EACCES';
    if (!who.privileged) {
      const size = dom.limit(who, 'node-size');
      if (size > 0 && nodeSize(value, n.perms, n.children.bytes) > size) return 'ENOSPC';
    }
    made = view.put(path, value, n.perms);
    const owner = ownerOf(n.perms);
    if (owner !== 0) dom.account(owner, 0, value.length - n.value.length);
  } else {
    made = create(view, dom, who, path, value);
    if (typeof made === 'string') return made;
  }
  log.push({ op: 'write', path, arg: value });
  events?.changed(path, made, null);
  return null;
}

export function mkdir(view: View, dom: DomainCheck, who: Caller, events: EventSink | null, log: Change[], path: string): ErrorName | null {
  const n = view.node(path, SAW_EXISTENCE);
  if (n !== undefined) return allowed(view, dom, who, path, n, PERM_WRITE) ? null : 'EACCES';
  const made = create(view, dom, who, path, '');
  if (typeof made === 'string') return made;
  log.push({ op: 'mkdir', path });
  events?.changed(path, made, null);
  return null;
}

export function rm(view: View, dom: DomainCheck, who: Caller, events: EventSink | null, log: Change[], path: string): ErrorName | null {
  if (path === '/') return 'EINVAL';
  const n = view.node(path, SAW_EXISTENCE);
  if (n === undefined) {
    // Removing what is already gone is fine, as long as the parent exists.
    return view.node(parentOf(path), SAW_EXISTENCE) !== undefined ? null : missing(view, dom, who, path);
  }
  if (!allowed(view, dom, who, path, n, PERM_WRITE)) return 'EACCES';
  const old = view.remove(path);
  unaccount(dom, path, old);
  log.push({ op: 'rm', path });
  events?.removed(path, old);
  return null;
}

export function setPerms(view: View, dom: DomainCheck, who: Caller, events: EventSink | null, log: Change[], path: string, perms: string): ErrorName | null {
  const n = view.node(path, READ_PERMS);
  if (n === undefined) return missing(view, dom, who, path);
  if (!who.privileged) {
    const owner = ownerOf(n.perms);
    if (owner !== who.domid && owner !== who.target) return 'EACCES';
    if (ownerOf(perms) !== owner) return 'EPERM';
    const size = dom.limit(who, 'node-size');
    if (size > 0 && nodeSize(n.value, perms, n.children.bytes) > size) return 'ENOSPC';
  }
  const made = view.put(path, n.value, perms);
  const was = ownerOf(n.perms);
  const now = ownerOf(perms);
  const name = baseName(path);
  if (was !== 0) dom.account(was, -1, -nodeBytes(name, n.value, n.perms));
  if (now !== 0) dom.account(now, 1, nodeBytes(name, n.value, perms));
  log.push({ op: 'set_perms', path, arg: perms });
  events?.changed(path, made, n.perms);
  return null;
}

/** Applies a recorded change again (a transaction's commit, a replay onto another root). */
export function apply(view: View, dom: DomainCheck, who: Caller, events: EventSink | null, log: Change[], c: Change): ErrorName | null {
  switch (c.op) {
    case 'write':
      return write(view, dom, who, events, log, c.path, c.arg ?? '');
    case 'mkdir':
      return mkdir(view, dom, who, events, log, c.path);
    case 'rm':
      return rm(view, dom, who, events, log, c.path);
    case 'set_perms':
      return setPerms(view, dom, who, events, log, c.path, c.arg ?? '');
  }
}
