import { createHash } from 'node:crypto';
import type { PackedEntry } from './packWriter.js';

/**
 * Writes a version 2 pack index (the format PackIndex reads): magic and version, the fan-out
 * table (how many ids start with a byte ≤ i), the ids sorted, their CRC-32s, their offsets
 * (31 bits; larger ones go to a table of 64-bit offsets, referenced with the high bit set),
 * the pack's checksum, then the SHA-1 of everything before it. Every entry needs its id.
 */
export function writePackIndex(entries: readonly PackedEntry[], packChecksum: string): Buffer {
  const sorted = entries.slice().sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const n = sorted.length;
  let big = 0;
  for (const e of sorted) if (e.offset >= 0x80000000) big++;
  const size = 8 + 1024 + n * 28 + big * 8 + 40;
  const buf = Buffer.alloc(size);
  buf.writeUInt32BE(0xff744f63, 0);
  buf.writeUInt32BE(2, 4);
  const ids = Buffer.from(sorted.map((e) => e.id).join(''), 'hex');
  if (ids.length !== n * 20) throw new Error('writePackIndex: every entry needs a 40-hex id');
  const fan = new Uint32Array(256);
  for (let i = 0; i < n; i++) fan[ids[i * 20]]++;
  let acc = 0;
  for (let b = 0; b < 256; b++) {
    acc += fan[b];
    buf.writeUInt32BE(acc, 8 + b * 4);
  }
  let off = 8 + 1024;
  ids.copy(buf, off);
  off += n * 20;
  for (const e of sorted) {
    buf.writeUInt32BE(e.crc >>> 0, off);
    off += 4;
  }
  let bigAt = off + n * 4;
  let bigIndex = 0;
  for (const e of sorted) {
    if (e.offset < 0x80000000) buf.writeUInt32BE(e.offset, off);
    else {
      buf.writeUInt32BE((0x80000000 | bigIndex++) >>> 0, off);
      buf.writeUInt32BE(Math.floor(e.offset / 2 ** 32), bigAt);
      buf.writeUInt32BE(e.offset >>> 0, bigAt + 4);
      bigAt += 8;
    }
    off += 4;
  }
  off = bigAt;
  off += buf.write(packChecksum, off, 20, 'hex');
  createHash('sha1').update(buf.subarray(0, off)).digest().copy(buf, off);
  return buf;
}
