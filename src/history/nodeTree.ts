import type { Node } from '../store/node.js';
import { EMPTY_BLOB_ID } from '../git/objects/blob.js';
import { compareTreeEntries, dirPairOutOfOrder } from '../git/utils/compareTreeEntries.js';
import { hashLatin1Blob, sha1Hex } from '../git/utils/hashObject.js';
import { PERMS_FILE, VALUE_FILE, permsToText } from './layout.js';

/**
 * Git trees of xenstore nodes (layout.ts): encoding one node's tree, and `treeIdOf`, the lazy,
 * memoized tree id of a whole node tree.
 */

export interface PermsBlob {
  readonly id: string;
  readonly body: Buffer;
}

/** Few distinct permission lists exist, so their blobs are cached (bounded, cleared when full). */
const PERMS_CACHE_MAX = 4096;
const permsCache = new Map<string, PermsBlob>();

export function permsBlob(perms: string): PermsBlob {
  let b = permsCache.get(perms);
  if (b === undefined) {
    const text = permsToText(perms);
    b = { id: hashLatin1Blob(text), body: Buffer.from(text, 'latin1') };
    if (permsCache.size >= PERMS_CACHE_MAX) permsCache.clear();
    permsCache.set(perms, b);
  }
  return b;
}

/** The id of a node's `.value` blob (the empty value, by far the most common, is a constant). */
export function valueBlobId(value: string): string {
  return value.length === 0 ? EMPTY_BLOB_ID : hashLatin1Blob(value);
}

export interface NodeTree {
  /** `tree <len>\0` followed by the body: what the id is the SHA-1 of. */
  readonly object: Buffer;
  /** The body alone (a view into `object`). */
  readonly body: Buffer;
  readonly valueId: string;
  readonly perms: PermsBlob;
}

const VALUE_ENTRY = Buffer.from(`100644 ${VALUE_FILE}\0`, 'latin1');
const PERMS_ENTRY = Buffer.from(`100644 ${PERMS_FILE}\0`, 'latin1');
const BLOB_ENTRY_SIZE = VALUE_ENTRY.length + 20; // both names are 6 bytes
const TREE_PREFIX = Buffer.from('40000 ', 'latin1');
const EMPTY_BUFFER = Buffer.alloc(0);

/** How many of the (git-ordered) directory names sort before the blob `file`. */
function blobPosition(names: string[], file: string): number {
  if (names.length === 0 || compareTreeEntries(names[0], true, file, false) > 0) return 0;
  let lo = 0;
  let hi = names.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareTreeEntries(names[mid], true, file, false) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Encodes one node's tree. Every child must already have its `treeId` (treeIdOf sees to that).
 * Children come from the ChildMap in plain byte order; git compares directory names as if they
 * ended in `/`, which only differs when one name is a prefix of another followed by a byte
 * below `/` (`a` vs `a-b`), so the order is checked pairwise and re-sorted only then.
 */
export function encodeNodeTree(node: Node): NodeTree {
  if (node.children.size >= LARGE) {
    const large = encodeLargeTree(node);
    if (large !== null) return large;
  }
  let names: string[] = [];
  let ids: string[] = [];
  let namesLen = 0;
  node.children.forEach((name, child) => {
    const id = child.treeId;
    if (id === undefined) throw new Error(`encodeNodeTree: child ${name} has no tree id yet`);
    names.push(name);
    ids.push(id);
    namesLen += name.length;
  });
  for (let i = 1; i < names.length; i++) {
    if (dirPairOutOfOrder(names[i - 1], names[i])) {
      const order = names.map((_, j) => j).sort((a, b) => compareTreeEntries(names[a], true, names[b], true));
      names = order.map((j) => names[j]);
      ids = order.map((j) => ids[j]);
      break;
    }
  }
  const valueId = valueBlobId(node.value);
  const perms = permsBlob(node.perms);
  const bodyLen = 2 * BLOB_ENTRY_SIZE + names.length * (TREE_PREFIX.length + 21) + namesLen;
  const header = `tree ${bodyLen}\0`;
  const buf = Buffer.allocUnsafe(header.length + bodyLen);
  let off = buf.write(header, 0, 'latin1');
  const permsAt = blobPosition(names, PERMS_FILE);
  const valueAt = blobPosition(names, VALUE_FILE);
  // One native hex decode for all child ids; per-entry copies and short names in plain JS
  // (a Buffer.write per entry costs more in call overhead than the bytes it writes).
  const bin = names.length > 0 ? Buffer.from(ids.join(''), 'hex') : EMPTY_BUFFER;
  for (let i = 0; i <= names.length; i++) {
    // '.perms' < '.value', so when both land at the same position perms goes first.
    if (i === permsAt) {
      off += PERMS_ENTRY.copy(buf, off);
      off += buf.write(perms.id, off, 20, 'hex');
    }
    if (i === valueAt) {
      off += VALUE_ENTRY.copy(buf, off);
      off += buf.write(valueId, off, 20, 'hex');
    }
    if (i === names.length) break;
    for (let k = 0; k < TREE_PREFIX.length; k++) buf[off++] = TREE_PREFIX[k];
    const name = names[i];
    if (name.length > 32) off += buf.write(name, off, 'latin1');
    else for (let k = 0; k < name.length; k++) buf[off++] = name.charCodeAt(k);
    buf[off++] = 0;
    for (let k = i * 20, end = k + 20; k < end; k++) buf[off++] = bin[k];
  }
  return { object: buf, body: buf.subarray(header.length), valueId, perms };
}

/** Directories from this size up are encoded from cached per-leaf chunks. */
const LARGE = 64;

interface LeafChunk {
  /** The leaf's entries (`40000 <name>\0<20-byte id>`), in byte order of the names. */
  readonly bytes: Buffer;
  /** Whether byte order is git order within the leaf. */
  readonly ordered: boolean;
  readonly first: string;
  readonly last: string;
}

/** Leaves are shared by every version of a directory that did not change them, so a write to
 *  one child of `/local/domain` re-encodes one leaf of 32 entries, not the 1,000 of them. */
const leafChunks = new WeakMap<readonly unknown[], LeafChunk>();

function leafChunk(leaf: readonly unknown[]): LeafChunk | null {
  let c = leafChunks.get(leaf);
  if (c !== undefined) return c;
  let size = 0;
  for (let i = 0; i < leaf.length; i += 2) size += TREE_PREFIX.length + (leaf[i] as string).length + 21;
  const bytes = Buffer.allocUnsafe(size);
  let off = 0;
  let ordered = true;
  for (let i = 0; i < leaf.length; i += 2) {
    const name = leaf[i] as string;
    const id = (leaf[i + 1] as Node).treeId;
    if (id === undefined) return null;
    if (i > 0 && dirPairOutOfOrder(leaf[i - 2] as string, name)) ordered = false;
    off += TREE_PREFIX.copy(bytes, off);
    off += bytes.write(name, off, 'latin1');
    bytes[off++] = 0;
    off += bytes.write(id, off, 20, 'hex');
  }
  c = { bytes, ordered, first: leaf[0] as string, last: leaf[leaf.length - 2] as string };
  leafChunks.set(leaf, c);
  return c;
}

/** A large directory's tree from its leaves' chunks; null when git's order differs from byte
 *  order somewhere (a name followed by `name-…`) or a name sorts before the blobs. */
function encodeLargeTree(node: Node): NodeTree | null {
  const chunks: Buffer[] = [];
  let ok = true;
  let prev: LeafChunk | null = null;
  node.children.forEachLeaf((leaf) => {
    if (!ok) return;
    const c = leafChunk(leaf);
    if (c === null || !c.ordered || (prev !== null && dirPairOutOfOrder(prev.last, c.first))) ok = false;
    else chunks.push(c.bytes);
    prev = c;
  });
  // A first name starting with '-' sorts before `.perms`/`.value`: the general path places it.
  if (!ok || chunks.length === 0 || chunks[0][TREE_PREFIX.length] === 45) return null;
  const valueId = valueBlobId(node.value);
  const perms = permsBlob(node.perms);
  const blobs = Buffer.allocUnsafe(2 * BLOB_ENTRY_SIZE);
  let off = PERMS_ENTRY.copy(blobs, 0);
  off += blobs.write(perms.id, off, 20, 'hex');
  off += VALUE_ENTRY.copy(blobs, off);
  blobs.write(valueId, off, 20, 'hex');
  let bodyLen = blobs.length;
  for (const c of chunks) bodyLen += c.length;
  const header = Buffer.from(`tree ${bodyLen}\0`, 'latin1');
  const object = Buffer.concat([header, blobs, ...chunks], header.length + bodyLen);
  return { object, body: object.subarray(header.length), valueId, perms };
}

/**
 * Computes the tree ids of a node and everything below it that has none yet, a bounded number
 * of nodes per step, so that hashing a large store for the first time can be spread over many
 * turns of the event loop (History pruning, the mirror). Nodes are immutable and ids memoized,
 * so work done by an abandoned hasher is never lost.
 *
 * Iterative post-order over an explicit stack; paths thousands of levels deep are fine.
 */
export class TreeHasher {
  private readonly stack: Node[];
  private readonly expanded: boolean[];

  constructor(root: Node) {
    this.stack = root.treeId === undefined ? [root] : [];
    this.expanded = this.stack.map(() => false);
  }

  /** Hashes up to `budget` nodes; true once the root has its id. */
  step(budget: number): boolean {
    const stack = this.stack;
    const expanded = this.expanded;
    let done = 0;
    while (stack.length > 0 && done < budget) {
      const top = stack.length - 1;
      const node = stack[top];
      if (node.treeId !== undefined) {
        stack.pop();
        expanded.pop();
        continue;
      }
      if (!expanded[top]) {
        expanded[top] = true;
        const before = stack.length;
        node.children.forEach((_, child) => {
          if (child.treeId === undefined) {
            stack.push(child);
            expanded.push(false);
          }
        });
        // Children pushed above are all finished before this entry is on top again.
        if (stack.length > before) continue;
      }
      node.treeId = sha1Hex(encodeNodeTree(node).object);
      stack.pop();
      expanded.pop();
      done++;
    }
    return stack.length === 0;
  }
}

/**
 * The git tree id of a node, computed on first demand and kept on `node.treeId`. Nodes are
 * immutable and shared between versions, so an unchanged subtree is never hashed twice: after
 * a write only the nodes on the changed path (which are new objects) are hashed.
 */
export function treeIdOf(root: Node): string {
  if (root.treeId === undefined) new TreeHasher(root).step(Infinity);
  return idOf(root);
}

function idOf(node: Node): string {
  const id = node.treeId;
  if (id === undefined) throw new Error('treeIdOf: no id computed');
  return id;
}
