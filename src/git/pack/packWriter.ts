import { createHash } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import type { ObjectType } from '../objects/types.js';

/**
 * Builds a version 2 pack in memory: `PACK`, version 2, object count, then every object as a
 * type-and-size header followed by its zlib-deflated body (full objects, no deltas), then the
 * SHA-1 of everything before it. The result is a list of chunks, to be written or piped as is.
 */

export const PACK_TYPE_CODE: Record<ObjectType, number> = { commit: 1, tree: 2, blob: 3, tag: 4 };

/** zlib options: level 1, and for small bodies a small window and hash table, which makes
 *  deflateSync's setup markedly cheaper without changing the output's compression. */
const SMALL = { level: 1, windowBits: 9, memLevel: 2 };
const LARGE = { level: 1 };

/** The pack entry header: type in bits 4-6 of the first byte, size in 4 + 7·k bits. */
export function packEntryHeader(typeCode: number, size: number): Buffer {
  const bytes: number[] = [];
  let c = (typeCode << 4) | (size & 15);
  let rest = Math.floor(size / 16);
  while (rest > 0) {
    bytes.push(c | 0x80);
    c = rest & 0x7f;
    rest = Math.floor(rest / 128);
  }
  bytes.push(c);
  return Buffer.from(bytes);
}

export interface FinishedPack {
  /** Header, entries and trailer, in order. */
  readonly chunks: Buffer[];
  readonly bytes: number;
  readonly count: number;
  /** The trailer as hex: git names the pack `pack-<checksum>.pack`. */
  readonly checksum: string;
}

export class PackBuilder {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  count = 0;

  add(type: ObjectType, body: Buffer): void {
    const head = packEntryHeader(PACK_TYPE_CODE[type], body.length);
    const data = deflateSync(body, body.length < 512 ? SMALL : LARGE);
    this.chunks.push(head, data);
    this.size += head.length + data.length;
    this.count++;
  }

  /** Bytes of entries so far. */
  get bytes(): number {
    return this.size;
  }

  finish(): FinishedPack {
    const header = Buffer.alloc(12);
    header.write('PACK', 0, 'latin1');
    header.writeUInt32BE(2, 4);
    header.writeUInt32BE(this.count, 8);
    const sha = createHash('sha1').update(header);
    for (const c of this.chunks) sha.update(c);
    const trailer = sha.digest();
    const chunks = [header, ...this.chunks, trailer];
    return { chunks, bytes: 12 + this.size + 20, count: this.count, checksum: trailer.toString('hex') };
  }
}
