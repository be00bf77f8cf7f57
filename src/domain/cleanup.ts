import type { Change } from '../store/change.js';
import type { Caller } from '../store/caller.js';
import type { Node } from '../store/node.js';
import * as ops from '../store/ops.js';
import { ownerOf, withoutDomain } from '../store/perms.js';
import type { EventSink, View } from '../store/view.js';

/** The identity the daemon's own changes are made with: dom0, privileged. */
export const DOM0: Caller = { domid: 0, privileged: true, target: -1, home: '/local/domain/0' };

/**
 * What RELEASE does to the store (reference §4.6, C domain_tree_remove): every node the
 * domain owns is deleted with its subtree, wherever it is (XSA-419), and every ACL entry
 * naming it is removed (XSA-322), so that a domain that later reuses the domid inherits
 * nothing. A root owned by the domain is handed to dom0 instead (it cannot be deleted).
 *
 * The tree is walked once, iteratively (paths can be 1,500 levels deep, XSA-418), in
 * pre-order; the changes are then made through the ordinary operations as dom0, so that they
 * fire the usual watch events and land in `log` as one commit's changes.
 */
export function releaseFromTree(view: View, root: Node, domid: number, dom: ops.DomainCheck, events: EventSink, log: Change[]): void {
  const actions: { path: string; perms: string | null }[] = [];
  // What each distinct permission list means for the domain (lists are shared by many nodes):
  // OWNED, NOTHING, or the list without the domain's entries.
  const verdicts = new Map<string, string | null>();
  const nodes: Node[] = [root];
  const names: string[] = [''];
  const depths: number[] = [0];
  // The names from the root down to the node being visited (paths are built only for the
  // few nodes that need an action).
  const trail: string[] = [];
  let childDepth = 0;
  const push = (name: string, child: Node): void => {
    names.push(name);
    nodes.push(child);
    depths.push(childDepth);
  };
  while (nodes.length > 0) {
    const n = nodes.pop()!;
    const name = names.pop()!;
    const depth = depths.pop()!;
    trail.length = depth;
    if (depth > 0) trail[depth - 1] = name;
    let v = verdicts.get(n.perms);
    if (v === undefined) {
      v = ownerOf(n.perms) === domid ? OWNED : withoutDomain(n.perms, domid);
      verdicts.set(n.perms, v);
    }
    if (v !== null) {
      const path = depth === 0 ? '/' : `/${trail.join('/')}`;
      if (v === OWNED && depth > 0) {
        actions.push({ path, perms: null });
        continue;
      }
      actions.push({ path, perms: v === OWNED ? (withoutDomain(n.perms, domid) ?? n.perms) : v });
    }
    const from = nodes.length;
    childDepth = depth + 1;
    n.children.forEach(push);
    // Reversed, so that the walk visits the children in their map order.
    for (let i = from, j = nodes.length - 1; i < j; i++, j--) {
      const tn = nodes[i];
      nodes[i] = nodes[j];
      nodes[j] = tn;
      const tm = names[i];
      names[i] = names[j];
      names[j] = tm;
    }
  }
  for (const a of actions) {
    if (a.perms === null) ops.rm(view, dom, DOM0, events, log, a.path);
    else ops.setPerms(view, dom, DOM0, events, log, a.path, a.perms);
  }
}

/** A verdict: the domain owns nodes with this permission list. */
const OWNED = '\0owned';
