import { PackBuilder, type FinishedPack } from '../../git/pack/packWriter.js';
import { deltaCost, encodeDelta, prefixSuffixSegments, type Segment } from '../../git/pack/deltaEncoder.js';
import { permsBlob } from '../../history/nodeTree.js';
import { applyEdits, indexTree, type Edit, type LargeTree } from './largeTree.js';
import { dirEntry, encodeTree, fileEntries, sha1, treeIdOfBody } from './treeBody.js';
import { BatchReader, COMMIT, TREE_EDITS, type WireRef } from './wire.js';

/**
 * The mirror worker's encoder: one batch of records (protocol.ts, wire.ts) in, one pack and the
 * ids out. Pure computation (no I/O), so it also runs in-process in tests.
 *
 * Deltas: each tree is stored as an OFS_DELTA against the previous version of the same path
 * when that version is in the same pack (a chain per path); the first version of a path in a
 * pack is stored whole, so every pack stands alone. Chains are cut at MAX_DEPTH_* so that git
 * never resolves more than that many deltas to read one tree. A large directory's delta comes
 * straight from the edits that made it (largeTree.ts): no search, cost independent of its size
 * except for one copy and one hash of the new body. Small trees use the common head and tail of
 * the two versions. Blobs and commits are stored whole (commits ≥ 512 bytes deflated).
 */

/** A small tree's chain is cut after this many deltas (its whole body is a few hundred bytes). */
const MAX_DEPTH_SMALL = 50;
/** A large directory's chain: its whole body is up to hundreds of KB, so chains run longer. */
export const MAX_DEPTH_LARGE = 1000;
/** A delta is used when it is at most this share of the whole body. */
const DELTA_WORTH = 0.75;
/**
 * Blobs remembered across packs (cleared when full). Values repeat across guests and versions
 * ("", "1", "4", a permission list), so a few thousand cover most. Trees and commits are not
 * remembered: the main thread never sends a node twice, and a duplicate in another pack (a
 * value set back to an older one) is harmless. Remembering every id cost more memory than the
 * repository saved.
 */
const MAX_BLOBS = 65_536;

const EMPTY_BLOB_ID = sha1(Buffer.from('blob 0\0', 'latin1'));
const EMPTY_BLOB_HEX = EMPTY_BLOB_ID.toString('hex');

interface ChainLink {
  readonly offset: number;
  readonly body: Buffer;
  readonly depth: number;
}

export interface PackedBatch {
  readonly pack: FinishedPack | null;
  readonly treeIds: string;
  readonly commitIds: string;
  readonly deltas: number;
  /** Blob ids this pack adds, to be remembered once it is safely stored (`commit`). */
  readonly added: readonly string[];
  /** Large-directory versions to keep once the pack is stored. */
  readonly large: ReadonlyMap<string, LargeTree>;
}

const byKey = (a: Edit, b: Edit) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);

export class BatchPacker {
  /** handle → 20-byte id, until the main thread has the ids (forgetBelow). */
  private readonly handles = new Map<number, Buffer>();
  /** Last stored large version per path. */
  private large = new Map<string, LargeTree>();
  private blobs = new Set<string>();
  /** Blob ids of permission lists (few distinct ones). */
  private readonly permsIds = new Map<string, { id: Buffer; hex: string; body: Buffer }>();
  /** Children's ids of the tree being encoded (reused: no Buffer per child). */
  private scratch = Buffer.allocUnsafe(20 * 256);

  /** Encodes one batch. Nothing here is remembered until `commit(result)`. */
  pack(bytes: ArrayBuffer, forgetBelow: number): PackedBatch {
    for (const h of this.handles.keys()) {
      if (h >= forgetBelow) break; // a Map iterates in insertion order, and handles only grow
      this.handles.delete(h);
    }
    const builder = new PackBuilder('auto');
    const inPack = new Set<string>();
    const added: string[] = [];
    const chains = new Map<string, ChainLink>();
    // Every path's last version in this batch (edits apply to it); large ones are kept after.
    // A small tree's version is kept as its body, indexed only if an edit comes for it.
    const index = new Map<string, LargeTree | Buffer>(this.large);
    const largePaths = new Set(this.large.keys());
    let deltas = 0;
    const fresh = (hex: string): boolean => {
      if (inPack.has(hex)) return false;
      inPack.add(hex);
      return true;
    };
    const freshBlob = (hex: string): boolean => {
      if (this.blobs.has(hex) || !fresh(hex)) return false;
      added.push(hex);
      return true;
    };
    const resolve = (r: WireRef): Buffer => {
      if (r === null) throw new Error('mirror worker: missing reference');
      if (typeof r !== 'number') return r;
      const id = this.handles.get(r);
      if (id === undefined) throw new Error(`mirror worker: unknown handle ${r}`);
      return id;
    };

    const treeIds: Buffer[] = [];
    const commitIds: Buffer[] = [];
    const rd = new BatchReader(bytes);
    while (!rd.done) {
      const kind = rd.u8();
      const h = rd.u32();
      if (kind === COMMIT) {
        let text = `tree ${resolve(rd.ref()).toString('hex')}\n`;
        for (let n = rd.u8(); n > 0; n--) text += `parent ${resolve(rd.ref()).toString('hex')}\n`;
        text += rd.utf8();
        const header = `commit ${Buffer.byteLength(text, 'utf8')}\0`;
        const object = Buffer.from(header + text, 'utf8');
        const body = object.subarray(header.length);
        const id = sha1(object);
        this.handles.set(h, id);
        commitIds.push(id);
        const hex = id.toString('hex');
        if (fresh(hex)) builder.add('commit', body, hex);
        continue;
      }
      const isLarge = rd.u8() === 1;
      const path = rd.latin1();
      const value = rd.latin1();
      const perms = this.perms(rd.latin1());
      const valueId = value.length === 0 ? EMPTY_BLOB_ID : this.valueBlob(value, freshBlob, builder);
      if (value.length === 0 && freshBlob(EMPTY_BLOB_HEX)) builder.add('blob', Buffer.alloc(0), EMPTY_BLOB_HEX);
      if (freshBlob(perms.hex)) builder.add('blob', perms.body, perms.hex);

      let id: Buffer;
      let body: Buffer;
      let segments: { base: Buffer; list: Segment[] } | null = null;
      const count = rd.u32();
      if (kind === TREE_EDITS) {
        const held = index.get(path);
        if (held === undefined) throw new Error(`mirror worker: no previous version of ${path}`);
        const old = Buffer.isBuffer(held) ? indexTree(held) : held;
        const edits: Edit[] = fileEntries(perms.id, valueId);
        for (let i = 0; i < count; i++) {
          const name = rd.latin1();
          const r = rd.ref();
          edits.push([`${name}/`, r === null ? null : dirEntry(name, resolve(r))]);
        }
        edits.sort(byKey);
        const next = applyEdits(old, edits);
        index.set(path, next.tree);
        body = next.tree.body;
        id = treeIdOfBody(body);
        segments = { base: old.body, list: next.segments };
      } else {
        const names: string[] = new Array(count);
        if (this.scratch.length < 20 * count) this.scratch = Buffer.allocUnsafe(40 * count);
        const ids = this.scratch;
        for (let i = 0; i < count; i++) {
          names[i] = rd.latin1();
          const r = rd.refInto(ids, 20 * i);
          if (r !== true) resolve(r).copy(ids, 20 * i);
        }
        const t = encodeTree(names, ids, perms.id, valueId, isLarge);
        index.set(path, t.large ?? t.body);
        id = t.id;
        body = t.body;
      }
      if (isLarge) largePaths.add(path);
      else largePaths.delete(path);
      this.handles.set(h, id);
      treeIds.push(id);
      const hex = id.toString('hex');
      if (!fresh(hex)) continue;
      const prev = chains.get(path);
      let offset = -1;
      if (prev !== undefined && prev.depth < (isLarge ? MAX_DEPTH_LARGE : MAX_DEPTH_SMALL)) {
        const segs = segments !== null && segments.base === prev.body ? segments.list : prefixSuffixSegments(prev.body, body);
        if (deltaCost(segs) <= body.length * DELTA_WORTH) {
          offset = builder.addOfsDelta(prev.offset, encodeDelta(prev.body.length, body.length, segs), hex);
          chains.set(path, { offset, body, depth: prev.depth + 1 });
          deltas++;
        }
      }
      if (offset < 0) chains.set(path, { offset: builder.add('tree', body, hex), body, depth: 0 });
    }
    const large = new Map<string, LargeTree>();
    for (const p of largePaths) {
      const held = index.get(p) as LargeTree | Buffer;
      large.set(p, Buffer.isBuffer(held) ? indexTree(held) : held);
    }
    return {
      pack: builder.count === 0 ? null : builder.finish(),
      treeIds: Buffer.concat(treeIds).toString('hex'),
      commitIds: Buffer.concat(commitIds).toString('hex'),
      deltas,
      added,
      large,
    };
  }

  /** The batch's pack is stored: remember its objects and large versions. */
  commit(done: PackedBatch): void {
    if (this.blobs.size + done.added.length > MAX_BLOBS) this.blobs = new Set();
    for (const id of done.added) this.blobs.add(id);
    this.large = new Map(done.large);
  }

  /** Bytes kept between batches (the large directories' last versions). */
  get heldBytes(): number {
    let n = 0;
    for (const t of this.large.values()) n += t.body.length + 16 * t.keys.length;
    return n;
  }

  private perms(wire: string): { id: Buffer; hex: string; body: Buffer } {
    let p = this.permsIds.get(wire);
    if (p === undefined) {
      const b = permsBlob(wire);
      p = { id: Buffer.from(b.id, 'hex'), hex: b.id, body: b.body };
      if (this.permsIds.size >= 4096) this.permsIds.clear();
      this.permsIds.set(wire, p);
    }
    return p;
  }

  /** A value's blob id, adding the blob to the pack when new. */
  private valueBlob(value: string, fresh: (hex: string) => boolean, builder: PackBuilder): Buffer {
    const header = `blob ${value.length}\0`;
    const object = Buffer.from(header + value, 'latin1');
    const id = sha1(object);
    const hex = id.toString('hex');
    if (fresh(hex)) builder.add('blob', object.subarray(header.length), hex);
    return id;
  }
}
