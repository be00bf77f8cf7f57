import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { inflateSync } from 'node:zlib';
import { InvalidObjectError } from '../errors.js';
import type { GitObject, ObjectType } from '../objects/types.js';
import { applyDelta } from './delta.js';
import type { PackIndex } from './packIndex.js';

/**
 * Reads objects out of a pack file by offset (the offset comes from its PackIndex), resolving
 * OFS_DELTA and REF_DELTA chains iteratively. Resolved bodies are kept in a small byte-bounded
 * cache, since deltified trees share chains.
 */

const TYPES: (ObjectType | undefined)[] = [undefined, 'commit', 'tree', 'blob', 'tag'];
const OFS_DELTA = 6;
const REF_DELTA = 7;

interface Entry {
  readonly code: number;
  readonly size: number;
  readonly dataStart: number;
  readonly dataEnd: number;
  readonly baseOffset: number;
  readonly baseId: Buffer | null;
}

export type ReadById = (id: string) => { type: ObjectType; body: Buffer };

const CACHE_BYTES = 32 << 20;

export class PackFile {
  private fdOrNull: number | null = null;
  private size = 0;
  private ends: Float64Array | null = null;
  private readonly cache = new Map<number, { type: ObjectType; body: Buffer }>();
  private cached = 0;

  constructor(
    readonly path: string,
    readonly index: PackIndex,
  ) {}

  /** The file is opened on first read: a store with many packs that is only asked `has()`
   *  (as an exporter's is) holds no descriptors. */
  private get fd(): number {
    if (this.fdOrNull === null) {
      this.fdOrNull = openSync(this.path, 'r');
      this.size = fstatSync(this.fdOrNull).size;
    }
    return this.fdOrNull;
  }

  close(): void {
    if (this.fdOrNull !== null) closeSync(this.fdOrNull);
    this.fdOrNull = null;
  }

  /** The object with this id if the pack holds it. */
  readId(id: string, readById: ReadById): GitObject | null {
    const i = this.index.find(Buffer.from(id, 'hex'));
    if (i < 0) return null;
    const o = this.readAt(this.index.offsetAt(i), readById);
    return { id, type: o.type, body: o.body };
  }

  /** The end of the entry starting at `offset`: the next entry's start, or the trailer's. */
  private endOf(offset: number): number {
    if (this.ends === null) {
      const n = this.index.count;
      const a = new Float64Array(n);
      for (let i = 0; i < n; i++) a[i] = this.index.offsetAt(i);
      a.sort();
      this.ends = a;
    }
    const a = this.ends;
    let lo = 0;
    let hi = a.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (a[mid] <= offset) lo = mid + 1;
      else hi = mid;
    }
    if (lo < a.length) return a[lo];
    void this.fd; // makes sure size is known
    return this.size - 20;
  }

  private entryAt(offset: number): Entry {
    const head = Buffer.alloc(32);
    readSync(this.fd, head, 0, 32, offset);
    let p = 0;
    let c = head[p++];
    const code = (c >> 4) & 7;
    let size = c & 15;
    let mul = 16;
    while (c & 0x80) {
      c = head[p++];
      size += (c & 0x7f) * mul;
      mul *= 128;
    }
    let baseOffset = -1;
    let baseId: Buffer | null = null;
    if (code === OFS_DELTA) {
      c = head[p++];
      let ofs = c & 0x7f;
      while (c & 0x80) {
        c = head[p++];
        ofs = (ofs + 1) * 128 + (c & 0x7f);
      }
      baseOffset = offset - ofs;
    } else if (code === REF_DELTA) {
      baseId = Buffer.from(head.subarray(p, p + 20));
      p += 20;
    } else if (TYPES[code] === undefined) {
      throw new InvalidObjectError(`bad pack entry type ${code} at ${offset} in ${this.path}`);
    }
    return { code, size, dataStart: offset + p, dataEnd: this.endOf(offset), baseOffset, baseId };
  }

  private inflate(e: Entry): Buffer {
    const raw = Buffer.allocUnsafe(e.dataEnd - e.dataStart);
    readSync(this.fd, raw, 0, raw.length, e.dataStart);
    const out = inflateSync(raw);
    if (out.length !== e.size) throw new InvalidObjectError(`pack entry size mismatch in ${this.path}`);
    return out;
  }

  private remember(offset: number, o: { type: ObjectType; body: Buffer }): void {
    if (o.body.length > CACHE_BYTES / 8) return;
    this.cache.set(offset, o);
    this.cached += o.body.length;
    for (const [k, v] of this.cache) {
      if (this.cached <= CACHE_BYTES) break;
      this.cache.delete(k);
      this.cached -= v.body.length;
    }
  }

  /** The object at `offset`; `readById` finds REF_DELTA bases held outside this pack. */
  readAt(offset: number, readById: ReadById): { type: ObjectType; body: Buffer } {
    const deltas: Buffer[] = [];
    const offsets: number[] = [];
    let cur = offset;
    let base: { type: ObjectType; body: Buffer } | undefined;
    for (;;) {
      base = this.cache.get(cur);
      if (base !== undefined) break;
      const e = this.entryAt(cur);
      if (e.code === OFS_DELTA || e.code === REF_DELTA) {
        deltas.push(this.inflate(e));
        offsets.push(cur);
        if (e.code === OFS_DELTA) {
          cur = e.baseOffset;
          continue;
        }
        const i = this.index.find(e.baseId as Buffer);
        if (i >= 0) {
          cur = this.index.offsetAt(i);
          continue;
        }
        base = readById((e.baseId as Buffer).toString('hex'));
        break;
      }
      base = { type: TYPES[e.code] as ObjectType, body: this.inflate(e) };
      this.remember(cur, base);
      break;
    }
    for (let k = deltas.length - 1; k >= 0; k--) {
      base = { type: base.type, body: applyDelta(base.body, deltas[k]) };
      this.remember(offsets[k], base);
    }
    return base;
  }
}
