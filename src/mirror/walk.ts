import { Commit } from '../history/commit.js';
import type { Node } from '../store/node.js';
import { commitIdOf, encodeCommitOf } from '../history/commitId.js';
import { MissingObjectError } from '../git/errors.js';
import { isExternal } from './external.js';
import { encodeNodeTree, treeIdOf } from '../history/nodeTree.js';
import type { GitObject } from '../git/objects/types.js';

/**
 * The object walker: from some commits, every object they reach that is not known yet.
 *
 * Pruning is by id: a known commit stops the walk into its ancestors, a known tree stops it into
 * the subtree. Since unchanged subtrees keep their ids (and usually their very Node objects),
 * an incremental walk visits only the changed paths of the new commits.
 */

/** What the walker asks about objects the target may already hold. A `Set<string>` will do. */
export interface KnownObjects {
  has(id: string): boolean;
  /** Optional fast path: this node's tree (and everything below) is known. */
  hasNode?(node: Node): boolean;
  /** Optional fast path: this commit (and its ancestry) is known. */
  hasCommit?(commit: Commit): boolean;
}

/** A new object, with the node or commit it was made from (for the caller's bookkeeping). */
export interface WalkedObject extends GitObject {
  readonly node?: Node;
  readonly commit?: Commit;
  /**
   * For a commit whose parents retention has cut off (`cutParentIds`): the cut parent ids
   * `known` does not hold. If the target lacks them too, the commit must be recorded as a
   * shallow boundary (`$GIT_DIR/shallow`), or git would find broken links.
   */
  readonly missingParents?: readonly string[];
}

/**
 * Yields every object reachable from `tips` whose id is neither in `known` nor yielded before
 * in this walk. A commit comes before its tree and parents, a tree before its blobs and subtrees.
 * Iterative (explicit stack): deep trees and long chains are fine.
 *
 * Throws MissingObjectError when it reaches an external (imported) commit that `known` does
 * not hold: the target is then not the repository that commit came from.
 */
export function* walkNewObjects(tips: Iterable<Commit>, known: KnownObjects): Generator<WalkedObject> {
  const seen = new Set<string>();
  const isKnown = (id: string) => seen.has(id) || known.has(id);
  const stack: (Commit | Node)[] = [];
  for (const tip of tips) {
    commitIdOf(tip);
    stack.push(tip);
  }
  while (stack.length > 0) {
    const x = stack.pop() as Commit | Node;
    if (x instanceof Commit) {
      if (known.hasCommit?.(x)) continue;
      const id = x.id as string;
      if (isKnown(id)) continue;
      if (isExternal(x)) throw new MissingObjectError(id);
      seen.add(id);
      let missingParents: string[] | undefined;
      if (x.cutParentIds !== null) {
        const inMemory = new Set(x.parents.map((p) => commitIdOf(p)));
        for (const pid of x.cutParentIds) if (!inMemory.has(pid) && !isKnown(pid)) (missingParents ??= []).push(pid);
      }
      yield { id, type: 'commit', body: encodeCommitOf(x), commit: x, missingParents };
      for (let i = x.parents.length - 1; i >= 0; i--) stack.push(x.parents[i]);
      treeIdOf(x.root); // no-op unless the id was set by hand
      stack.push(x.root); // popped first: trees of newer commits go first, the stack stays small
      continue;
    }
    if (known.hasNode?.(x)) continue;
    const id = x.treeId as string;
    if (isKnown(id)) continue;
    seen.add(id);
    const t = encodeNodeTree(x);
    yield { id, type: 'tree', body: t.body, node: x };
    if (!isKnown(t.valueId)) {
      seen.add(t.valueId);
      yield { id: t.valueId, type: 'blob', body: Buffer.from(x.value, 'latin1') };
    }
    if (!isKnown(t.perms.id)) {
      seen.add(t.perms.id);
      yield { id: t.perms.id, type: 'blob', body: t.perms.body };
    }
    x.children.forEach((_, child) => {
      if (!isKnown(child.treeId as string)) stack.push(child);
    });
  }
}
