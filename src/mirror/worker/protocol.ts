/**
 * What the live mirror's main thread and its worker (thread.ts) send each other. The in-memory
 * tree is immutable Node objects that cannot cross threads, so the main thread serialises the
 * nodes each batch adds (batchBuilder.ts) — changed paths only, and for a large directory only
 * the children that changed — as bytes (wire.ts), and the worker encodes, hashes, deltifies,
 * compresses and writes them (packer.ts), answering with the ids.
 *
 * Records (see wire.ts for the bytes), children before parents, trees before the commits that
 * name them, parents before children:
 *   - a tree: handle, path (`/` for the root; versions of one path are delta bases for each
 *     other), value and permissions (wire form), and either all its children (`[name, ref]`
 *     in byte order of the names) or, for a large directory whose previous version the worker
 *     holds, the children that changed since that version (a removed child has no ref);
 *     `large` asks the worker to hold this version as the base of the next edits of its path;
 *   - a commit: handle, tree, parents, and the rest of its body (signatures, blank line,
 *     message).
 */

/**
 * A tree or commit a record points at: a 40-hex id (the repository has the object: an earlier
 * batch wrote it, or it was there at start), or the handle of a record of this batch.
 */
export type Ref = string | number;

export interface BatchRequest {
  readonly kind: 'batch';
  readonly seq: number;
  /** The records (wire.ts), transferred. */
  readonly bytes: ArrayBuffer;
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
