import { createHash } from 'node:crypto';
import { PackBuilder, type FinishedPack } from '../../git/pack/packWriter.js';
import { deltaCost, encodeDelta, prefixSuffixSegments, type Segment } from '../../git/pack/deltaEncoder.js';
import { EMPTY_BLOB_ID } from '../../git/objects/blob.js';
import { permsBlob } from '../../history/nodeTree.js';
import { PERMS_FILE, VALUE_FILE } from '../../history/layout.js';
import { applyEdits, largeTreeOf, type Edit, type LargeTree } from './largeTree.js';
import type { BatchRequest, Ref, TreeRecord } from './protocol.js';

/**
 * The mirror worker's encoder: one batch of records (protocol.ts) in, one pack and the ids out.
 * Pure computation (no I/O), so it also runs in-process in tests.
 *
 * Deltas: each tree is stored as an OFS_DELTA against the previous version of the same path
 * when that version is in the same pack (a chain per path); the first version of a path in a
 * pack is stored whole, so every pack stands alone. Chains are cut at MAX_DEPTH_* so that git
 * never resolves more than that many deltas to read one tree. A large directory's delta comes
 * straight from the edits that made it (largeTree.ts): cost independent of its size except for
 * one copy and one hash of the new body. Small trees use the common head and tail of the two
 * versions. Blobs and commits are stored whole (commits ≥ 512 bytes deflated).
 */

/** A small tree's chain is cut after this many deltas (its whole body is a few hundred bytes). */
const MAX_DEPTH_SMALL = 50;
/** A large directory's chain: its whole body is up to hundreds of KB, so chains run longer. */
const MAX_DEPTH_LARGE = 1000;
/** A delta is used when it is at most this share of the whole body. */
const DELTA_WORTH = 0.75;
/** Bound on remembered written ids (cleared when full: duplicates across packs are harmless). */
const MAX_WRITTEN = 2_000_000;

const VALUE_ENTRY = Buffer.from(`100644 ${VALUE_FILE}\0`, 'latin1');
const PERMS_ENTRY = Buffer.from(`100644 ${PERMS_FILE}\0`, 'latin1');

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
  /** Ids this pack adds, to be remembered once it is safely stored (`commit`). */
  readonly added: readonly string[];
  /** Large-directory versions to keep once the pack is stored. */
  readonly large: ReadonlyMap<string, LargeTree>;
}

function hashWith(type: string, body: Buffer): Buffer {
  return createHash('sha1').update(`${type} ${body.length}\0`, 'latin1').update(body).digest();
}

function dirEntry(name: string, id: Buffer): Buffer {
  const b = Buffer.allocUnsafe(7 + name.length + 20);
  b.write('40000 ', 0, 'latin1');
  b.write(name, 6, 'latin1');
  b[6 + name.length] = 0;
  id.copy(b, 7 + name.length);
  return b;
}

function fileEntry(prefix: Buffer, id: Buffer): Buffer {
  const b = Buffer.allocUnsafe(prefix.length + 20);
  prefix.copy(b, 0);
  id.copy(b, prefix.length);
  return b;
}

const EMPTY_BLOB = Buffer.from(EMPTY_BLOB_ID, 'hex');

export class BatchPacker {
  /** handle → 20-byte id, until the main thread has the ids (forgetBelow). */
  private readonly handles = new Map<number, Buffer>();
  /** Last stored large version per path. */
  private large = new Map<string, LargeTree>();
  private written = new Set<string>();

  /** Encodes one batch. Nothing here is remembered until `commit(result)`. */
  pack(req: BatchRequest): PackedBatch {
    for (const h of this.handles.keys()) {
      if (h >= req.forgetBelow) break; // Map iterates in insertion order: handles only grow
      this.handles.delete(h);
    }
    const builder = new PackBuilder('auto');
    const inPack = new Set<string>();
    const added: string[] = [];
    const chains = new Map<string, ChainLink>();
    const large = new Map(this.large);
    let deltas = 0;
    const has = (hex: string) => inPack.has(hex) || this.written.has(hex);
    const ref = (r: Ref): Buffer => {
      if (typeof r === 'string') return Buffer.from(r, 'hex');
      const id = this.handles.get(r);
      if (id === undefined) throw new Error(`mirror worker: unknown handle ${r}`);
      return id;
    };
    const blob = (body: Buffer, id: Buffer) => {
      const hex = id.toString('hex');
      if (has(hex)) return;
      builder.add('blob', body, hex);
      inPack.add(hex);
      added.push(hex);
    };

    const treeIds: Buffer[] = [];
    for (const rec of req.trees) {
      const valueBody = Buffer.from(rec.value, 'latin1');
      const valueId = rec.value.length === 0 ? EMPTY_BLOB : hashWith('blob', valueBody);
      const perms = permsBlob(rec.perms);
      const permsId = Buffer.from(perms.id, 'hex');
      blob(valueBody, valueId);
      blob(perms.body, permsId);
      const files: Edit[] = [
        [PERMS_FILE, fileEntry(PERMS_ENTRY, permsId)],
        [VALUE_FILE, fileEntry(VALUE_ENTRY, valueId)],
      ];
      const { body, segments } = this.encodeTree(rec, files, ref, large);
      const id = hashWith('tree', body);
      const hex = id.toString('hex');
      this.handles.set(rec.h, id);
      treeIds.push(id);
      if (has(hex)) continue;
      const prev = chains.get(rec.path);
      const maxDepth = rec.large ? MAX_DEPTH_LARGE : MAX_DEPTH_SMALL;
      let offset = -1;
      if (prev !== undefined && prev.depth < maxDepth) {
        const segs = segments !== null && segments.base === prev.body ? segments.list : prefixSuffixSegments(prev.body, body);
        if (deltaCost(segs) <= body.length * DELTA_WORTH) {
          offset = builder.addOfsDelta(prev.offset, encodeDelta(prev.body.length, body.length, segs), hex);
          chains.set(rec.path, { offset, body, depth: prev.depth + 1 });
          deltas++;
        }
      }
      if (offset < 0) chains.set(rec.path, { offset: builder.add('tree', body, hex), body, depth: 0 });
      inPack.add(hex);
      added.push(hex);
    }

    const commitIds: Buffer[] = [];
    for (const c of req.commits) {
      let head = `tree ${ref(c.tree).toString('hex')}\n`;
      for (const p of c.parents) head += `parent ${ref(p).toString('hex')}\n`;
      const body = Buffer.from(head + c.rest, 'utf8');
      const id = hashWith('commit', body);
      const hex = id.toString('hex');
      this.handles.set(c.h, id);
      commitIds.push(id);
      if (has(hex)) continue;
      builder.add('commit', body, hex);
      inPack.add(hex);
      added.push(hex);
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
    if (this.written.size + done.added.length > MAX_WRITTEN) this.written = new Set();
    for (const id of done.added) this.written.add(id);
    this.large = new Map(done.large);
  }

  /** Bytes kept between batches (the large directories' last versions). */
  get heldBytes(): number {
    let n = 0;
    for (const t of this.large.values()) n += t.body.length + 16 * t.keys.length;
    return n;
  }

  /**
   * A record's tree body, and for a large directory given as edits, the segments that build it
   * from the previous version (`base`: that version's body).
   */
  private encodeTree(
    rec: TreeRecord,
    files: Edit[],
    ref: (r: Ref) => Buffer,
    large: Map<string, LargeTree>,
  ): { body: Buffer; segments: { base: Buffer; list: Segment[] } | null } {
    if (rec.edits !== undefined) {
      const old = large.get(rec.path);
      if (old === undefined) throw new Error(`mirror worker: no previous version of ${rec.path}`);
      const edits: Edit[] = files;
      const e = rec.edits;
      for (let i = 0; i < e.length; i += 2) {
        const name = e[i] as string;
        const r = e[i + 1] as Ref | null;
        edits.push([`${name}/`, r === null ? null : dirEntry(name, ref(r))]);
      }
      edits.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      const { tree, segments } = applyEdits(old, edits);
      large.set(rec.path, tree);
      return { body: tree.body, segments: { base: old.body, list: segments } };
    }
    const entries: Edit[] = files;
    const k = rec.kids ?? [];
    for (let i = 0; i < k.length; i += 2) {
      const name = k[i] as string;
      entries.push([`${name}/`, dirEntry(name, ref(k[i + 1] as Ref))]);
    }
    entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    if (rec.large) {
      const tree = largeTreeOf(entries);
      large.set(rec.path, tree);
      return { body: tree.body, segments: null };
    }
    large.delete(rec.path);
    return { body: Buffer.concat(entries.map((x) => x[1] as Buffer)), segments: null };
  }
}
