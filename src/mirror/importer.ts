import type { Commit } from '../history/commit.js';
import type { Node } from '../store/node.js';
import { parseCommitMessage } from '../history/commitMessage.js';
import { InvalidObjectError, NotFoundError } from '../git/errors.js';
import { externalCommit } from './external.js';
import { parseCommit, type CommitFields } from '../git/objects/commit.js';
import { RepoObjects } from '../git/repo/objectStore.js';
import { expandRef, resolveRef } from '../git/repo/refs.js';
import { HEX_ID } from '../git/utils/hashObject.js';
import { TreeMemo, readNodeTree, type ObjectSource, type ReadTreeOptions } from './readNodeTree.js';

/**
 * Import: a repository's commit (by ref or id) back into a Node tree plus a Commit the daemon
 * can continue from. The returned commits are *external* (external.ts): their ids are the
 * repository's, so the daemon's next commit gets the repository head as its parent, and an
 * exporter treats them as already present.
 */

export interface ImportOptions extends ReadTreeOptions {
  readonly gitDir: string;
  /** A ref (`HEAD`, `main`, `refs/tags/x`) or a full commit id. Default `HEAD`. */
  readonly rev?: string;
  /** How many commits to import along first parents (default 1: just the one named). */
  readonly depth?: number;
  /** Shared between imports of several commits of one repository: equal subtrees are read
   *  once and become the same Node objects. */
  readonly memo?: TreeMemo;
}

export interface ImportedCommit {
  readonly commit: Commit;
  readonly id: string;
  readonly treeId: string;
  /** True when the tree re-encodes to the same id (see readNodeTree). */
  readonly canonical: boolean;
  readonly parentIds: readonly string[];
  readonly fields: CommitFields;
}

export interface ImportResult {
  /** The commit `rev` named, as an external Commit whose `id` is set. */
  readonly head: Commit;
  /** Its tree as a Node tree (head.root). */
  readonly root: Node;
  /** The full ref `rev` resolved through, or null when `rev` was an id. */
  readonly ref: string | null;
  /** Newest first; `commits[0].commit === head`. */
  readonly commits: readonly ImportedCommit[];
}

/** Resolves a revision to a commit id (peeling annotated tags). */
export function resolveRevision(gitDir: string, src: ObjectSource, rev: string): { id: string; ref: string | null } {
  let id: string | null;
  let ref: string | null = null;
  if (HEX_ID.test(rev)) id = rev;
  else {
    ref = expandRef(gitDir, rev);
    id = ref === null ? null : resolveRef(gitDir, ref);
  }
  if (id === null) throw new NotFoundError(`revision ${rev}`);
  for (let i = 0; i < 10; i++) {
    const o = src.read(id);
    if (o.type === 'commit') return { id, ref };
    if (o.type !== 'tag') throw new InvalidObjectError(`${rev} names a ${o.type}, not a commit`);
    const m = /^object ([0-9a-f]{40})$/m.exec(o.body.toString('utf8'));
    if (m === null) throw new InvalidObjectError(`tag ${id} without object`);
    id = m[1];
  }
  throw new InvalidObjectError(`${rev}: tag chain too long`);
}

function domidOf(fields: CommitFields, trailer: number | undefined): number {
  if (trailer !== undefined) return trailer;
  const m = /^dom(\d+)$/.exec(fields.author.name);
  return m === null ? 0 : Number(m[1]);
}

export async function importCommit(opts: ImportOptions): Promise<ImportResult> {
  const repo = new RepoObjects(opts.gitDir);
  try {
    const { id, ref } = resolveRevision(opts.gitDir, repo, opts.rev ?? 'HEAD');
    const depth = Math.max(1, opts.depth ?? 1);
    const memo = opts.memo ?? new TreeMemo();
    const chain: { id: string; fields: CommitFields; root: Node; canonical: boolean }[] = [];
    let cur: string | undefined = id;
    while (cur !== undefined && chain.length < depth) {
      const o = repo.read(cur);
      if (o.type !== 'commit') throw new InvalidObjectError(`${cur} is a ${o.type}, expected a commit`);
      const fields = parseCommit(o.body);
      const t = readNodeTree(repo, fields.tree, opts, memo);
      chain.push({ id: cur, fields, root: t.node, canonical: t.canonical });
      cur = fields.parents[0];
      if (cur !== undefined && !repo.has(cur)) cur = undefined; // a shallow boundary
    }
    // Build from the oldest, so each Commit can hold its (imported) parent.
    const out: ImportedCommit[] = [];
    let parent: Commit | undefined;
    for (let i = chain.length - 1; i >= 0; i--) {
      const c = chain[i];
      const msg = parseCommitMessage(c.fields.message);
      const commit = externalCommit({
        id: c.id,
        root: c.root,
        parents: parent === undefined ? [] : [parent],
        parentIds: c.fields.parents,
        domid: domidOf(c.fields, msg.domid),
        time: c.fields.author.time * 1000,
        changes: msg.changes,
        tx: msg.tx,
      });
      commit.revertOf = msg.revert;
      commit.storedMessage = c.fields.message;
      out.unshift({ commit, id: c.id, treeId: c.fields.tree, canonical: c.canonical, parentIds: c.fields.parents, fields: c.fields });
      parent = commit;
    }
    return { head: out[0].commit, root: out[0].commit.root, ref, commits: out };
  } finally {
    repo.close();
  }
}

/** Just the Node tree of a revision (for `--restore-from DIR:REF`), without history. */
export async function importTree(opts: ImportOptions): Promise<{ root: Node; id: string; canonical: boolean }> {
  const repo = new RepoObjects(opts.gitDir);
  try {
    const { id } = resolveRevision(opts.gitDir, repo, opts.rev ?? 'HEAD');
    const fields = parseCommit(repo.read(id).body);
    const t = readNodeTree(repo, fields.tree, opts);
    return { root: t.node, id, canonical: t.canonical };
  } finally {
    repo.close();
  }
}
