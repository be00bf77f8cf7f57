import type { Caller } from '../store/caller.js';
import type { Node } from '../store/node.js';
import { isSpecial, parentOf } from '../store/path.js';
import { accessFor, PERM_READ } from '../store/perms.js';
import { lookup } from '../store/tree.js';
import type { DomainCheck } from '../store/ops.js';
import type { SpecialNodes } from './specials.js';

/**
 * Whether an unprivileged caller gets the watch event for the absolute `path` (reference
 * §5.6, C watch.c watch_permitted): only when it may read the node or its parent, before
 * (`pre`) or after (`post`) the change; a special path by its own permission list (§4.5).
 */
export function canSee(c: Caller, path: string, post: Node, pre: Node, specials: SpecialNodes, dom: DomainCheck): boolean {
  if (isSpecial(path)) {
    const perms = specials.visibleThrough(path);
    if (perms !== undefined && readable(c, perms, dom)) return true;
    const old = specials.previous(path);
    return old !== undefined && readable(c, old, dom);
  }
  if (readableIn(c, post, path, dom)) return true;
  return pre !== post && readableIn(c, pre, path, dom);
}

function readableIn(c: Caller, root: Node, path: string, dom: DomainCheck): boolean {
  const n = lookup(root, path);
  if (n !== undefined && readable(c, n.perms, dom)) return true;
  if (path === '/') return false;
  const p = lookup(root, parentOf(path));
  return p !== undefined && readable(c, p.perms, dom);
}

function readable(c: Caller, perms: string, dom: DomainCheck): boolean {
  return (accessFor(perms, c.domid, c.target, dom) & PERM_READ) !== 0;
}
