/**
 * What the live mirror's main thread and its worker (thread.ts) send each other. The in-memory
 * tree is immutable Node objects that cannot cross threads, so the main thread serialises the
 * nodes each batch adds (batchBuilder.ts) — changed paths only, and for a large directory only
 * the children that changed — and the worker encodes, hashes, deltifies, compresses and writes
 * them (packer.ts), answering with the ids.
 */

/**
 * A tree or commit another record points at: a 40-hex id (the repository has the object, or an
 * earlier batch wrote it), or the handle of a record of this batch or of an earlier one whose
 * ids the main thread has not received yet.
 */
export type Ref = string | number;

/** One node's tree. Children before parents: a handle is always defined before it is used. */
export interface TreeRecord {
  /** Handle (unique for the life of the worker). */
  readonly h: number;
  /** The node's path (`/` for the root): versions of one path are delta bases for each other. */
  readonly path: string;
  /** The value, one char per byte (latin1). */
  readonly value: string;
  /** The permissions, wire form (NUL-terminated entries). */
  readonly perms: string;
  /**
   * The children as `[name, ref, name, ref, …]` in byte order of the names: all of them, for a
   * small directory or the first large version of a path.
   */
  readonly kids?: readonly (string | Ref)[];
  /**
   * A large directory given as its changes since the previous large version of the same path
   * the worker was sent: `[name, ref | null, …]` (null = removed), any order.
   */
  readonly edits?: readonly (string | Ref | null)[];
  /** The worker keeps this version (as the base of the next `edits` of this path). */
  readonly large: boolean;
}

/** One commit: the body is `tree`, `parent` lines, then `rest` (signatures, blank line, message). */
export interface CommitRecord {
  readonly h: number;
  readonly tree: Ref;
  readonly parents: readonly Ref[];
  readonly rest: string;
}

export interface BatchRequest {
  readonly kind: 'batch';
  readonly seq: number;
  readonly trees: readonly TreeRecord[];
  readonly commits: readonly CommitRecord[];
  /** Handles below this are resolved on the main thread: the worker may forget them. */
  readonly forgetBelow: number;
}

/** Answer to a batch: ids in record order, 20 bytes each, as one hex string per kind. */
export interface BatchReply {
  readonly kind: 'done';
  readonly seq: number;
  readonly treeIds: string;
  readonly commitIds: string;
  /** `pack-<checksum>`, or null when every object was in the repository already. */
  readonly pack: string | null;
  readonly objects: number;
  readonly deltas: number;
  /** Bytes of pack data written (the `.pack` file; its index not counted). */
  readonly bytes: number;
  /** Milliseconds the worker spent (encoding, hashing, writing). */
  readonly ms: number;
  /** Bytes the worker keeps for the next batches (large directories' last versions). */
  readonly heldBytes: number;
}

export interface BatchFailed {
  readonly kind: 'failed';
  readonly seq: number;
  readonly message: string;
  /** The errno code when the file system refused (ENOSPC, EACCES, …). */
  readonly code?: string;
}

export interface WorkerInit {
  readonly gitDir: string;
}
