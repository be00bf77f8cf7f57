import type { ErrorName } from '../wire/constants.js';
import type { Change } from '../history/commit.js';
import type { Caller } from './caller.js';
import type { Node } from './node.js';
import { parentOf } from './path.js';
import { accessFor, inheritPerms, ownerOf, PERM_READ, PERM_WRITE } from './perms.js';
import { type EventSink, type View, READ_PERMS } from './view.js';

/**
 * The data operations, written once against a View so that the live store and a
 * transaction's branch behave the same (reference §2.1, §3.4, §4). Each returns null on
 * success or the xenstore error name. Successful mutations are appended to `log` (the
 * commit's changes, or the transaction's replay list) and reported to `events` (null inside
 * a transaction: its events fire at commit).
 */

/** Answers whether an ACL entry's domain is alive (XSA-322) and whether a domain exists. */
export interface DomainCheck {
  isLive(domid: number): boolean;
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
    const n = view.node(p, 0);
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
  let top = view.node(p, 0);
  while (top === undefined) {
    chain.push(p);
    p = parentOf(p);
    top = view.node(p, 0);
  }
  // The new nodes' perms derive from the ancestor's: a transaction depends on them.
  view.mark(p, READ_PERMS);
  if (!allowed(view, dom, who, p, top, PERM_WRITE)) return 'EACCES';
  let perms = top.perms;
  let made: Node = top;
  for (let i = chain.length - 1; i >= 0; i--) {
    perms = inheritPerms(perms, who.domid, who.privileged);
    made = view.put(chain[i], i === 0 ? value : '', perms);
  }
  return made;
}

export function write(view: View, dom: DomainCheck, who: Caller, events: EventSink | null, log: Change[], path: string, value: string): ErrorName | null {
  const n = view.node(path, 0);
  let made: Node | ErrorName;
  if (n !== undefined) {
    if (!allowed(view, dom, who, path, n, PERM_WRITE)) return 'EACCES';
    made = view.put(path, value, n.perms);
  } else {
    made = create(view, dom, who, path, value);
    if (typeof made === 'string') return made;
  }
  log.push({ op: 'write', path, arg: value });
  events?.changed(path, made, null);
  return null;
}

export function mkdir(view: View, dom: DomainCheck, who: Caller, events: EventSink | null, log: Change[], path: string): ErrorName | null {
  const n = view.node(path, 0);
  if (n !== undefined) return allowed(view, dom, who, path, n, PERM_WRITE) ? null : 'EACCES';
  const made = create(view, dom, who, path, '');
  if (typeof made === 'string') return made;
  log.push({ op: 'mkdir', path });
  events?.changed(path, made, null);
  return null;
}

export function rm(view: View, dom: DomainCheck, who: Caller, events: EventSink | null, log: Change[], path: string): ErrorName | null {
  if (path === '/') return 'EINVAL';
  const n = view.node(path, 0);
  if (n === undefined) {
    // Removing what is already gone is fine, as long as the parent exists.
    return view.node(parentOf(path), 0) !== undefined ? null : missing(view, dom, who, path);
  }
  if (!allowed(view, dom, who, path, n, PERM_WRITE)) return 'EACCES';
  const old = view.remove(path);
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
  }
  const made = view.put(path, n.value, perms);
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
