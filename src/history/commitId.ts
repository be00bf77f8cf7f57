import type { Commit } from './commit.js';
import { commitMessage } from './commitMessage.js';
import { encodeCommit, type Signature } from '../git/objects/commit.js';
import { treeIdOf } from './nodeTree.js';
import { hashObject } from '../git/utils/hashObject.js';

/**
 * Git commits of the in-memory history: author and committer are the domain that made the
 * change (`dom<N> <dom<N>@xenstore> <unix seconds> +0000`), the tree is the store after the
 * change, the message comes from commitMessage.ts.
 */

export function signatureOf(c: Commit): Signature {
  const name = `dom${c.domid}`;
  return { name, email: `${name}@xenstore`, time: Math.floor(c.time / 1000), tz: '+0000' };
}

/** The commit's body. Its parents must already have ids (commitIdOf sees to that). */
export function encodeCommitOf(c: Commit): Buffer {
  const sig = signatureOf(c);
  // Parents cut off by retention are still named: the commit keeps its id.
  const parents = c.cutParentIds ?? c.parents.map((p) => {
    if (p.id === undefined) throw new Error('encodeCommitOf: parent has no id yet');
    return p.id;
  });
  return encodeCommit({ tree: treeIdOf(c.root), parents, author: sig, committer: sig, message: commitMessage(c) });
}

/**
 * The git id of a commit, computed on first demand and kept on `commit.id`, together with the
 * ids of any ancestors not computed yet. Iterative, so a chain of a million commits is fine.
 */
export function commitIdOf(commit: Commit): string {
  if (commit.id !== undefined) return commit.id;
  const stack: Commit[] = [commit];
  while (stack.length > 0) {
    const c = stack[stack.length - 1];
    if (c.id !== undefined) {
      stack.pop();
      continue;
    }
    const before = stack.length;
    for (const p of c.parents) if (p.id === undefined) stack.push(p);
    // A tier commit's message names its origin's id.
    const origin = c.tierNote?.origin;
    if (origin !== undefined && typeof origin !== 'string' && origin.id === undefined) stack.push(origin);
    if (stack.length > before) continue;
    c.id = hashObject('commit', encodeCommitOf(c));
    stack.pop();
  }
  return idOf(commit);
}

function idOf(c: Commit): string {
  const id = c.id;
  if (id === undefined) throw new Error('commitIdOf: no id computed');
  return id;
}
