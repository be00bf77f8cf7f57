import { ChildMap } from './childmap.js';

/**
 * One immutable xenstore node. Updates build new nodes along the changed path and share
 * everything else, so keeping an old root keeps that whole state for O(1).
 *
 * `value` holds the raw bytes as a latin1 string (one char per byte, binary-safe and far
 * smaller than a Buffer per node). `perms` is the permission list in wire form, each entry
 * NUL-terminated (`"n0\0r5\0"`), so GET_PERMS replies with it as it is.
 */
export class Node {
  /** The git tree id of this node, computed on first demand (src/git) and then kept. */
  treeId: string | undefined = undefined;
  /** The live mirror's bookkeeping (mirror/batchBuilder.ts): 0 until it sent this node's tree
   *  to its repository. A field, not a WeakSet: it is checked for every node of every batch. */
  mirrorMark = 0;

  constructor(
    readonly value: string,
    readonly perms: string,
    readonly children: ChildMap<Node>,
    /** Generation: changes whenever this node's value, perms or child list changes. */
    readonly gen: number,
  ) {}

  withValue(value: string, gen: number): Node {
    return new Node(value, this.perms, this.children, gen);
  }

  withPerms(perms: string, gen: number): Node {
    return new Node(this.value, perms, this.children, gen);
  }

  /** A child changed inside: same generation, since the child list did not change. */
  withChild(name: string, child: Node): Node {
    return new Node(this.value, this.perms, this.children.set(name, child), this.gen);
  }

  /** A child added or removed: the child list changes, so does the generation. */
  withChildren(children: ChildMap<Node>, gen: number): Node {
    return new Node(this.value, this.perms, children, gen);
  }
}

export const NO_CHILDREN: ChildMap<Node> = ChildMap.empty<Node>();
