import { InvalidObjectError } from '../errors.js';

/**
 * A version 2 pack index (`.idx`): magic `\377tOc`, version 2, a 256-entry fan-out table, the
 * sorted 20-byte object ids, their CRC32s, their 4-byte pack offsets (high bit set: index into
 * a table of 8-byte offsets that follows), then the pack and index checksums.
 */
export class PackIndex {
  readonly count: number;
  private readonly idsAt: number;
  private readonly offsetsAt: number;
  private readonly bigOffsetsAt: number;

  constructor(private readonly buf: Buffer) {
    if (buf.length < 8 + 1024 + 40 || buf.readUInt32BE(0) !== 0xff744f63) {
      throw new InvalidObjectError('not a version 2 pack index');
    }
    if (buf.readUInt32BE(4) !== 2) throw new InvalidObjectError(`pack index version ${buf.readUInt32BE(4)}`);
    this.count = buf.readUInt32BE(8 + 255 * 4);
    this.idsAt = 8 + 1024;
    this.offsetsAt = this.idsAt + this.count * 24; // ids (20) + crc32 (4)
    this.bigOffsetsAt = this.offsetsAt + this.count * 4;
    if (buf.length < this.bigOffsetsAt + 40) throw new InvalidObjectError('truncated pack index');
  }

  /** Position of the id (a 20-byte Buffer) in the index, or -1. */
  find(id: Buffer): number {
    const first = id[0];
    let lo = first === 0 ? 0 : this.buf.readUInt32BE(8 + (first - 1) * 4);
    let hi = this.buf.readUInt32BE(8 + first * 4) - 1;
    const b = this.buf;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const at = this.idsAt + mid * 20;
      let cmp = 0;
      for (let k = 1; k < 20; k++) {
        cmp = b[at + k] - id[k];
        if (cmp !== 0) break;
      }
      if (cmp === 0) return mid;
      if (cmp < 0) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  has(id: Buffer): boolean {
    return this.find(id) >= 0;
  }

  idAt(i: number): string {
    return this.buf.toString('hex', this.idsAt + i * 20, this.idsAt + i * 20 + 20);
  }

  offsetAt(i: number): number {
    const o = this.buf.readUInt32BE(this.offsetsAt + i * 4);
    if ((o & 0x80000000) === 0) return o;
    const at = this.bigOffsetsAt + (o & 0x7fffffff) * 8;
    return this.buf.readUInt32BE(at) * 2 ** 32 + this.buf.readUInt32BE(at + 4);
  }

  /** The pack's checksum, as recorded in the index. */
  get packChecksum(): string {
    const at = this.buf.length - 40;
    return this.buf.toString('hex', at, at + 20);
  }
}
