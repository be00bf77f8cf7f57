import { ChildMap } from '../store/childmap.js';
import { Node } from '../store/node.js';
import { InvalidObjectError } from '../git/errors.js';
import { PERMS_FILE, VALUE_FILE, isStorableName, permsFromText, permsToText } from '../history/layout.js';
import { BLOB_MODE, TREE_MODE, isSortedTree, isTreeMode, parseTree, type TreeEntry } from '../git/objects/tree.js';
import type { GitObject } from '../git/objects/types.js';

/**
 * Reads a git tree in the xsgit layout (layout.ts) back into a Node tree. Iterative (explicit
 * stack), and identical subtrees (same tree id) become one shared Node.
 *
 * A tree is *canonical* when encoding its Node again gives the very same bytes: exactly the
 * entries `.value` and `.perms` (mode 100644) plus subtrees (mode 40000), in git's order, perms
 * text in normal form, every subtree canonical. Canonical nodes get their `treeId` set from the
 * repository, so nothing read is hashed again and an export prunes them at once. Anything else
 * is still read as well as it can be (extra entries ignored, a missing `.perms` replaced by
 * `defaultPerms`), but its id is left to be computed.
 */

export interface ObjectSource {
  read(id: string): GitObject;
}

export interface ReadTreeOptions {
  /** Generation number given to every node read. */
  readonly gen?: number;
  /** Permissions for a node without a `.perms` file (wire form). */
  readonly defaultPerms?: string;
}

export interface ReadTree {
  readonly node: Node;
  readonly canonical: boolean;
}

/** Shared between reads of several commits, so unchanged subtrees are read once. */
export class TreeMemo {
  readonly trees = new Map<string, ReadTree>();
  readonly perms = new Map<string, { perms: string; canonical: boolean }>();
}

interface Frame {
  readonly id: string;
  readonly subtrees: TreeEntry[];
  next: number;
  children: ChildMap<Node>;
  value: string;
  perms: string;
  canonical: boolean;
}

function readBlob(src: ObjectSource, id: string): Buffer {
  const o = src.read(id);
  if (o.type !== 'blob') throw new InvalidObjectError(`${id} is a ${o.type}, expected a blob`);
  return o.body;
}

export function readNodeTree(src: ObjectSource, treeId: string, opts: ReadTreeOptions = {}, memo = new TreeMemo()): ReadTree {
  const gen = opts.gen ?? 0;
  const defaultPerms = opts.defaultPerms ?? 'n0\0';
  const hit = memo.trees.get(treeId);
  if (hit !== undefined) return hit;

  const open = (id: string): Frame => {
    const o = src.read(id);
    if (o.type !== 'tree') throw new InvalidObjectError(`${id} is a ${o.type}, expected a tree`);
    const entries = parseTree(o.body);
    let canonical = isSortedTree(entries);
    let value: string | undefined;
    let perms: string | undefined;
    const subtrees: TreeEntry[] = [];
    for (const e of entries) {
      if (e.name === VALUE_FILE && !isTreeMode(e.mode)) {
        value = readBlob(src, e.id).toString('latin1');
        if (e.mode !== BLOB_MODE) canonical = false;
      } else if (e.name === PERMS_FILE && !isTreeMode(e.mode)) {
        let p = memo.perms.get(e.id);
        if (p === undefined) {
          const text = readBlob(src, e.id).toString('latin1');
          const wire = permsFromText(text);
          p = { perms: wire, canonical: permsToText(wire) === text };
          memo.perms.set(e.id, p);
        }
        perms = p.perms;
        if (e.mode !== BLOB_MODE || !p.canonical) canonical = false;
      } else if (isTreeMode(e.mode) && isStorableName(e.name)) {
        subtrees.push(e);
        if (e.mode !== TREE_MODE) canonical = false;
      } else {
        canonical = false; // not part of the layout: ignored
      }
    }
    if (value === undefined || perms === undefined) canonical = false;
    return {
      id,
      subtrees,
      next: 0,
      children: ChildMap.empty<Node>(),
      value: value ?? '',
      perms: perms ?? defaultPerms,
      canonical,
    };
  };

  const stack: Frame[] = [open(treeId)];
  let result: ReadTree | undefined;
  while (stack.length > 0) {
    const f = stack[stack.length - 1];
    let descended = false;
    while (f.next < f.subtrees.length) {
      const e = f.subtrees[f.next];
      const done = memo.trees.get(e.id);
      if (done === undefined) {
        stack.push(open(e.id));
        descended = true;
        break;
      }
      f.children = f.children.set(e.name, done.node);
      if (!done.canonical) f.canonical = false;
      f.next++;
    }
    if (descended) continue;
    const node = new Node(f.value, f.perms, f.children, gen);
    if (f.canonical) node.treeId = f.id;
    result = { node, canonical: f.canonical };
    memo.trees.set(f.id, result);
    stack.pop();
  }
  return result as ReadTree;
}
