import { InvalidObjectError } from '../errors.js';

/**
 * Applies a git delta (as stored in OFS_DELTA / REF_DELTA pack entries) to its base: two
 * size varints (base, result), then instructions: `1xxxxxxx` copies a range of the base
 * (offset and size bytes present per the low bits; size 0 means 0x10000), `0nnnnnnn` inserts
 * the next n bytes of the delta.
 */
export function applyDelta(base: Buffer, delta: Buffer): Buffer {
  let pos = 0;
  const varint = (): number => {
    let v = 0;
    let mul = 1;
    let c: number;
    do {
      if (pos >= delta.length) throw new InvalidObjectError('truncated delta');
      c = delta[pos++];
      v += (c & 0x7f) * mul;
      mul *= 128;
    } while (c & 0x80);
    return v;
  };
  const baseSize = varint();
  if (baseSize !== base.length) throw new InvalidObjectError('delta base size mismatch');
  const size = varint();
  const out = Buffer.allocUnsafe(size);
  let o = 0;
  while (pos < delta.length) {
    const op = delta[pos++];
    if (op & 0x80) {
      let off = 0;
      let len = 0;
      if (op & 0x01) off |= delta[pos++];
      if (op & 0x02) off |= delta[pos++] << 8;
      if (op & 0x04) off |= delta[pos++] << 16;
      if (op & 0x08) off = (off | (delta[pos++] << 24)) >>> 0;
      if (op & 0x10) len |= delta[pos++];
      if (op & 0x20) len |= delta[pos++] << 8;
      if (op & 0x40) len |= delta[pos++] << 16;
      if (len === 0) len = 0x10000;
      if (off + len > base.length || o + len > size) throw new InvalidObjectError('delta copy out of range');
      base.copy(out, o, off, off + len);
      o += len;
    } else if (op !== 0) {
      if (pos + op > delta.length || o + op > size) throw new InvalidObjectError('delta insert out of range');
      delta.copy(out, o, pos, pos + op);
      pos += op;
      o += op;
    } else {
      throw new InvalidObjectError('delta opcode 0');
    }
  }
  if (o !== size) throw new InvalidObjectError('delta result size mismatch');
  return out;
}
