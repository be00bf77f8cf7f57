/**
 * The byte form of a batch (protocol.ts), so that it crosses to the worker as one transferred
 * ArrayBuffer: structured cloning of thousands of small record objects cost the main thread
 * more than writing them here. Little-endian; strings are u32 length + bytes (latin1 for
 * names, values and permissions, which hold one byte per char; UTF-8 for commit text).
 *
 *   tree    u8 1 (children) | 2 (edits), u32 handle, u8 large, str path, str value, str perms,
 *           u32 n, then n × (str name, ref)
 *   commit  u8 3, u32 handle, ref tree, u8 n, n × ref parent, utf8 rest
 *   ref     u8 0 (none: a removed child) | 1 + u32 handle | 2 + 20-byte id
 */
import type { Ref } from './protocol.js';

export const TREE_KIDS = 1;
export const TREE_EDITS = 2;
export const COMMIT = 3;

export class BatchWriter {
  private buf = Buffer.allocUnsafe(1 << 16);
  private off = 0;

  private room(n: number): void {
    if (this.off + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.off + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.off);
    this.buf = next;
  }

  u8(v: number): void {
    this.room(1);
    this.buf[this.off++] = v;
  }

  u32(v: number): void {
    this.room(4);
    this.buf.writeUInt32LE(v, this.off);
    this.off += 4;
  }

  latin1(s: string): void {
    this.room(4 + s.length);
    this.buf.writeUInt32LE(s.length, this.off);
    this.off += 4;
    if (s.length <= 24) for (let i = 0; i < s.length; i++) this.buf[this.off++] = s.charCodeAt(i);
    else this.off += this.buf.write(s, this.off, 'latin1');
  }

  utf8(s: string): void {
    const n = Buffer.byteLength(s, 'utf8');
    this.room(4 + n);
    this.buf.writeUInt32LE(n, this.off);
    this.off += 4;
    this.off += this.buf.write(s, this.off, 'utf8');
  }

  ref(r: Ref | null): void {
    if (r === null) this.u8(0);
    else if (typeof r === 'number') {
      this.u8(1);
      this.u32(r);
    } else {
      this.room(21);
      this.buf[this.off++] = 2;
      this.off += this.buf.write(r, this.off, 20, 'hex');
    }
  }

  /** The bytes written, in an ArrayBuffer of their own (to transfer). */
  finish(): ArrayBuffer {
    const out = new ArrayBuffer(this.off);
    this.buf.copy(new Uint8Array(out), 0, 0, this.off);
    return out;
  }
}

/** A reference as read: a handle, a 20-byte id (a view into the batch), or none. */
export type WireRef = number | Buffer | null;

export class BatchReader {
  private off = 0;
  private readonly buf: Buffer;

  constructor(bytes: ArrayBuffer) {
    this.buf = Buffer.from(bytes);
  }

  get done(): boolean {
    return this.off >= this.buf.length;
  }

  u8(): number {
    return this.buf[this.off++];
  }

  u32(): number {
    const v = this.buf.readUInt32LE(this.off);
    this.off += 4;
    return v;
  }

  latin1(): string {
    const n = this.u32();
    const s = this.buf.toString('latin1', this.off, this.off + n);
    this.off += n;
    return s;
  }

  utf8(): string {
    const n = this.u32();
    const s = this.buf.toString('utf8', this.off, this.off + n);
    this.off += n;
    return s;
  }

  /** Copies a reference's 20-byte id to `to` at `at`; returns the handle instead when it is one
   *  (nothing copied), or null for none. Saves a Buffer per child of every small tree. */
  refInto(to: Buffer, at: number): number | null | true {
    const kind = this.u8();
    if (kind === 0) return null;
    if (kind === 1) return this.u32();
    this.buf.copy(to, at, this.off, this.off + 20);
    this.off += 20;
    return true;
  }

  ref(): WireRef {
    const kind = this.u8();
    if (kind === 0) return null;
    if (kind === 1) return this.u32();
    const id = this.buf.subarray(this.off, this.off + 20);
    this.off += 20;
    return id;
  }
}
