import type { Node } from '../store/node.js';
import { childPath } from '../store/path.js';
import { lookup } from '../store/tree.js';
import { walkTree } from '../store/walk.js';

/** One difference between two states of the store. */
export interface Difference {
  readonly kind: 'added' | 'removed' | 'changed';
  readonly path: string;
  /** The node before (removed, changed) and after (added, changed). */
  readonly before: Node | undefined;
  readonly after: Node | undefined;
}

/**
 * The differences between two trees at and below `path`, parents before children, skipping
 * every subtree that is the same object on both sides (unchanged subtrees are shared), so the
 * cost follows what changed, not the store's size. A removed or added subtree is reported once,
 * at its top (what an edit needs: one RM, one walk of the added subtree); everyNode() spells
 * such a subtree out node by node (what a reader needs). Iterative: no recursion tied to depth.
 */
export function diffTrees(a: Node, b: Node, path = '/'): Difference[] {
  const out: Difference[] = [];
  const stack: [string, Node | undefined, Node | undefined][] = [[path, lookup(a, path), lookup(b, path)]];
  while (stack.length > 0) {
    const [p, x, y] = stack.pop()!;
    if (x === y) continue;
    if (x === undefined) {
      out.push({ kind: 'added', path: p, before: undefined, after: y });
      continue;
    }
    if (y === undefined) {
      out.push({ kind: 'removed', path: p, before: x, after: undefined });
      continue;
    }
    if (x.value !== y.value || x.perms !== y.perms) out.push({ kind: 'changed', path: p, before: x, after: y });
    if (x.children === y.children) continue;
    const kids: [string, Node | undefined, Node | undefined][] = [];
    const xs = x.children.keys();
    const ys = y.children.keys();
    let i = 0;
    let j = 0;
    while (i < xs.length || j < ys.length) {
      let k: string;
      if (j >= ys.length || (i < xs.length && xs[i] < ys[j])) k = xs[i++];
      else if (i >= xs.length || ys[j] < xs[i]) k = ys[j++];
      else {
        k = xs[i++];
        j++;
      }
      kids.push([childPath(p, k), x.children.get(k), y.children.get(k)]);
    }
    for (let k = kids.length - 1; k >= 0; k--) stack.push(kids[k]);
  }
  return out;
}

/**
 * diffTrees with every added or removed subtree spelled out: one Difference per node that
 * differs, parents first, as `git diff` lists every line of an added or deleted file. The
 * order is diffTrees' (a subtree's nodes follow its top).
 */
export function everyNode(diffs: readonly Difference[]): Difference[] {
  const out: Difference[] = [];
  for (const d of diffs) {
    if (d.kind === 'changed') out.push(d);
    else if (d.kind === 'added') for (const [p, n] of walkTree(d.after!, d.path)) out.push({ kind: 'added', path: p, before: undefined, after: n });
    else for (const [p, n] of walkTree(d.before!, d.path)) out.push({ kind: 'removed', path: p, before: n, after: undefined });
  }
  return out;
}
