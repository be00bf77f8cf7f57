import type { Change } from '../store/change.js';
import type { ProcessIdentity } from '../store/caller.js';
import type { Node } from '../store/node.js';

/** The transaction a commit belongs to, for the message trailers and the branch name. */
export interface TxTag {
  readonly conn: number;
  readonly txid: number;
}

/** What a commit of a coarse retention tier stands for (history/retention.ts). */
export interface TierNote {
  readonly tier: string;
  /** How many commits of main the bucket held; this commit has the state of the last one. */
  readonly covers: number;
  readonly bucketStart: number;
  /** That last commit of main: the object until the pruner resolves it to its id. */
  origin: Commit | string;
}

/** What a `revert-to` commit did: made the subtree at `path` what it was at `target`. */
export interface RevertNote {
  /** The full id of the commit restored. */
  readonly target: string;
  /** The subtree restored (`/`: the whole store). */
  readonly path: string;
}

/**
 * One commit of the in-memory history. Only references are stored on the request path; the
 * git id and message are derived later (src/git), so a commit costs one small object.
 */
export class Commit {
  /** Git commit id, computed on first demand and then kept. */
  id: string | undefined = undefined;
  /** Set on the commits of coarse retention tiers. */
  tierNote: TierNote | null = null;
  /** Set on the commits of `revert-to` (their message says so: commitMessage.ts). */
  revertOf: RevertNote | null = null;
  /** The message as a repository holds it, for commits read back from one (mirror/importer.ts):
   *  shown as it is rather than derived again from what was parsed (a body cut at BODY_MAX
   *  changes, a merge imported without its branch, would derive differently). */
  storedMessage: string | null = null;
  /** The parents' ids once retention has cut them off (git's shallow boundary): the commit
   *  keeps its id, and its encoding still names them. */
  cutParentIds: readonly string[] | null = null;
  /** The live mirror's bookkeeping (mirror/batchBuilder.ts): 0 until it sent this commit. */
  mirrorMark = 0;

  constructor(
    readonly root: Node,
    /** First parent: the previous head. A merge commit has the transaction's commit second.
     *  Emptied by the pruner when the parents leave the retained history. */
    public parents: readonly Commit[],
    readonly domid: number,
    /** Milliseconds since the epoch. */
    readonly time: number,
    readonly changes: readonly Change[],
    readonly tx: TxTag | null,
    /** The process whose connection made the change (dom0 sockets), shared with its
     *  connection; null for guests, the daemon itself, and imported commits. */
    readonly by: ProcessIdentity | null = null,
  ) {}
}
