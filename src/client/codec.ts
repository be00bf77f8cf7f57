/**
 * Client-side framing of the xenstore wire protocol: encode requests, and an
 * accumulate-and-parse reader that turns a byte stream into frames.
 *
 * The header is four u32 in host byte order (xs_wire.h `struct xsd_sockmsg`).
 */

import { endianness } from 'node:os';
import { HEADER_SIZE, PAYLOAD_MAX } from '../wire/constants.js';

const LITTLE_ENDIAN = endianness() === 'LE';
const NUL = 0;

export interface Frame {
  type: number;
  reqId: number;
  txId: number;
  payload: Buffer;
}

function readU32(buf: Buffer, off: number): number {
  return LITTLE_ENDIAN ? buf.readUInt32LE(off) : buf.readUInt32BE(off);
}

function writeU32(buf: Buffer, value: number, off: number): void {
  if (LITTLE_ENDIAN) buf.writeUInt32LE(value >>> 0, off);
  else buf.writeUInt32BE(value >>> 0, off);
}

/** Fill in the header at the start of `frame`, whose payload is everything after it. */
export function writeHeader(frame: Buffer, type: number, reqId: number, txId: number): Buffer {
  writeU32(frame, type, 0);
  writeU32(frame, reqId, 4);
  writeU32(frame, txId, 8);
  writeU32(frame, frame.length - HEADER_SIZE, 12);
  return frame;
}

/** One frame, header and payload in a single buffer. */
export function encodeFrame(type: number, reqId: number, txId: number, payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(HEADER_SIZE + payload.length);
  out.set(payload, HEADER_SIZE);
  return writeHeader(out, type, reqId, txId);
}

export type Part = string | Uint8Array;

function partLength(p: Part): number {
  return typeof p === 'string' ? Buffer.byteLength(p, 'utf8') : p.length;
}

function putPart(out: Buffer, p: Part, off: number): number {
  if (typeof p === 'string') return off + out.write(p, off, 'utf8');
  out.set(p, off);
  return off + p.length;
}

/**
 * `a\0b\0c\0`: each part followed by a NUL. With `headroom`, that many bytes are left
 * free at the start (HEADER_SIZE: the frame is built in one allocation; see writeHeader).
 */
export function encodeStrings(parts: readonly Part[], headroom = 0): Buffer {
  let len = headroom;
  for (const p of parts) len += partLength(p) + 1;
  const out = Buffer.allocUnsafe(len);
  let off = headroom;
  for (const p of parts) {
    off = putPart(out, p, off);
    out[off++] = NUL;
  }
  return out;
}

/** WRITE's payload: `path\0` then the raw value, no terminator. `headroom` as for encodeStrings. */
export function encodeWrite(path: string, value: Part, headroom = 0): Buffer {
  const plen = Buffer.byteLength(path, 'utf8');
  const out = Buffer.allocUnsafe(headroom + plen + 1 + partLength(value));
  out.write(path, headroom, 'utf8');
  out[headroom + plen] = NUL;
  putPart(out, value, headroom + plen + 1);
  return out;
}

/**
 * The NUL-terminated strings of a payload. Bytes after the last NUL (an
 * unterminated tail) are returned as a final string only if `keepTail`.
 */
export function decodeStrings(payload: Uint8Array, keepTail = false): string[] {
  const buf = Buffer.isBuffer(payload) ? payload : Buffer.from(payload.buffer, payload.byteOffset, payload.length);
  const out: string[] = [];
  let start = 0;
  for (;;) {
    const nul = buf.indexOf(NUL, start);
    if (nul < 0) break;
    out.push(buf.toString('utf8', start, nul));
    start = nul + 1;
  }
  if (keepTail && start < buf.length) out.push(buf.toString('utf8', start));
  return out;
}

/** A reply's text: the payload without its trailing NUL(s). */
export function decodeText(payload: Uint8Array): string {
  let end = payload.length;
  while (end > 0 && payload[end - 1] === NUL) end--;
  return Buffer.from(payload.buffer, payload.byteOffset, end).toString('utf8');
}

/** The peer announced a payload longer than allowed; the stream cannot be trusted further. */
export class FrameTooLargeError extends Error {
  constructor(readonly length: number, readonly max: number) {
    super(`frame payload of ${length} bytes exceeds the maximum of ${max}`);
    this.name = 'FrameTooLargeError';
  }
}

/**
 * Accumulate-and-parse reader. Chunks are queued as they arrive (never
 * concatenated); a frame that lies inside one chunk is returned as a view of
 * it, and only a frame that straddles chunks is copied, once, into a buffer of
 * exactly its size.
 */
export class FrameDecoder {
  private readonly chunks: Buffer[] = [];
  private head = 0; // offset into chunks[0]
  private total = 0; // unread bytes over all chunks
  private readonly scratch = Buffer.alloc(HEADER_SIZE);
  readonly maxPayload: number;

  constructor(options: { maxPayload?: number } = {}) {
    this.maxPayload = options.maxPayload ?? PAYLOAD_MAX;
  }

  /** Unparsed bytes held. */
  get buffered(): number {
    return this.total;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.total += chunk.length;
  }

  /** The next complete frame, or undefined if more bytes are needed. Throws FrameTooLargeError. */
  next(): Frame | undefined {
    if (this.total < HEADER_SIZE) return undefined;
    const first = this.chunks[0]!;
    let hdr: Buffer;
    let hoff: number;
    if (first.length - this.head >= HEADER_SIZE) {
      hdr = first;
      hoff = this.head;
    } else {
      this.copyOut(this.scratch, 0, HEADER_SIZE);
      hdr = this.scratch;
      hoff = 0;
    }
    const len = readU32(hdr, hoff + 12);
    if (len > this.maxPayload) throw new FrameTooLargeError(len, this.maxPayload);
    if (this.total < HEADER_SIZE + len) return undefined;
    const type = readU32(hdr, hoff);
    const reqId = readU32(hdr, hoff + 4);
    const txId = readU32(hdr, hoff + 8);
    this.skip(HEADER_SIZE);
    return { type, reqId, txId, payload: this.take(len) };
  }

  /** Drop everything buffered. */
  reset(): void {
    this.chunks.length = 0;
    this.head = 0;
    this.total = 0;
  }

  /** Copy n bytes from the read position into dst without consuming them. */
  private copyOut(dst: Buffer, dstOff: number, n: number): void {
    let i = 0;
    let off = this.head;
    while (n > 0) {
      const c = this.chunks[i]!;
      const k = Math.min(n, c.length - off);
      c.copy(dst, dstOff, off, off + k);
      dstOff += k;
      n -= k;
      i++;
      off = 0;
    }
  }

  private skip(n: number): void {
    this.total -= n;
    while (n > 0) {
      const c = this.chunks[0]!;
      const avail = c.length - this.head;
      if (n < avail) {
        this.head += n;
        return;
      }
      n -= avail;
      this.chunks.shift();
      this.head = 0;
    }
  }

  private take(n: number): Buffer {
    if (n === 0) return Buffer.alloc(0);
    const c = this.chunks[0]!;
    if (c.length - this.head >= n) {
      const view = c.subarray(this.head, this.head + n);
      this.skip(n);
      return view;
    }
    const out = Buffer.allocUnsafe(n);
    this.copyOut(out, 0, n);
    this.skip(n);
    return out;
  }
}
