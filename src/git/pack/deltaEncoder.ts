/**
 * Writes git deltas (the payload of OFS_DELTA / REF_DELTA pack entries; delta.ts reads them):
 * the base size and the result size as little-endian base-128 varints, then instructions —
 * `1oooosss` + offset and size bytes copies a range of the base, `0nnnnnnn` + n bytes inserts.
 *
 * The encoders here find no matches of their own: the caller says how the target is made of
 * the base (a list of Segments), which it knows because it made the target from the base. For
 * the general case of two versions of a small object, `prefixSuffixSegments` keeps the common
 * head and tail and inserts the middle.
 */

/** A piece of the target: `[offset, length]` of the base, or literal bytes. */
export type Segment = readonly [number, number] | Buffer;

/** Longest copy one instruction writes: git's own encoder stops at 64 KiB (older readers). */
const MAX_COPY = 0x10000;
/** Longest insert: the opcode byte holds the length (1-127). */
const MAX_INSERT = 127;

function varint(out: number[], n: number): void {
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
}

/**
 * The delta that builds a `targetSize`-byte target from a `baseSize`-byte base. Segments must
 * add up to targetSize and copy only within the base (checked: Error otherwise).
 */
export function encodeDelta(baseSize: number, targetSize: number, segments: readonly Segment[]): Buffer {
  const head: number[] = [];
  varint(head, baseSize);
  varint(head, targetSize);
  const parts: Buffer[] = [Buffer.from(head)];
  let ops: number[] = [];
  let total = 0;
  const flushOps = () => {
    if (ops.length > 0) parts.push(Buffer.from(ops));
    ops = [];
  };
  for (const s of segments) {
    if (Buffer.isBuffer(s)) {
      for (let at = 0; at < s.length; at += MAX_INSERT) {
        const n = Math.min(MAX_INSERT, s.length - at);
        ops.push(n);
        flushOps();
        parts.push(s.subarray(at, at + n));
      }
      total += s.length;
      continue;
    }
    const [offset, length] = s;
    if (offset < 0 || length < 0 || offset + length > baseSize) throw new Error(`encodeDelta: copy ${offset}+${length} outside a base of ${baseSize}`);
    for (let at = 0; at < length; at += MAX_COPY) {
      const off = offset + at;
      const len = Math.min(MAX_COPY, length - at);
      const at0 = ops.length;
      ops.push(0x80);
      let op = 0x80;
      for (let b = 0; b < 4; b++) {
        const byte = Math.floor(off / 2 ** (8 * b)) & 0xff;
        if (byte !== 0) {
          op |= 1 << b;
          ops.push(byte);
        }
      }
      // A size of 0x10000 is written as no size bytes at all.
      if (len !== MAX_COPY) {
        for (let b = 0; b < 3; b++) {
          const byte = (len >>> (8 * b)) & 0xff;
          if (byte !== 0) {
            op |= 0x10 << b;
            ops.push(byte);
          }
        }
      }
      ops[at0] = op;
    }
    total += length;
  }
  flushOps();
  if (total !== targetSize) throw new Error(`encodeDelta: segments make ${total} bytes, expected ${targetSize}`);
  return Buffer.concat(parts);
}

/** Bytes compared per native call before narrowing down to the byte. */
const BLOCK = 256;

/** Length of the common prefix of a and b (native block compares, then bytes). */
export function commonPrefix(a: Buffer, b: Buffer, limit = Math.min(a.length, b.length)): number {
  let i = 0;
  while (i + BLOCK <= limit && a.compare(b, i, i + BLOCK, i, i + BLOCK) === 0) i += BLOCK;
  while (i < limit && a[i] === b[i]) i++;
  return i;
}

/** Length of the common suffix of a and b, at most `limit` bytes. */
export function commonSuffix(a: Buffer, b: Buffer, limit = Math.min(a.length, b.length)): number {
  let n = 0;
  const al = a.length;
  const bl = b.length;
  while (n + BLOCK <= limit && a.compare(b, bl - n - BLOCK, bl - n, al - n - BLOCK, al - n) === 0) n += BLOCK;
  while (n < limit && a[al - n - 1] === b[bl - n - 1]) n++;
  return n;
}

/** `target` as the base's common head, the differing middle inserted, the common tail. */
export function prefixSuffixSegments(base: Buffer, target: Buffer): Segment[] {
  const pre = commonPrefix(base, target);
  const suf = commonSuffix(base, target, Math.min(base.length, target.length) - pre);
  const out: Segment[] = [];
  if (pre > 0) out.push([0, pre]);
  if (target.length - suf > pre) out.push(target.subarray(pre, target.length - suf));
  if (suf > 0) out.push([base.length - suf, suf]);
  return out;
}

/** Bytes a delta of these segments takes, roughly (to decide whether it beats the whole). */
export function deltaCost(segments: readonly Segment[]): number {
  let n = 8;
  for (const s of segments) n += Buffer.isBuffer(s) ? s.length + Math.ceil(s.length / MAX_INSERT) : 8 * Math.ceil(s[1] / MAX_COPY);
  return n;
}
