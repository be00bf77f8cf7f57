/**
 * A zlib stream (RFC 1950) holding `data` in stored (uncompressed) deflate blocks (RFC 1951
 * §3.2.4): the header 78 01, blocks of at most 65535 bytes each preceded by BFINAL/BTYPE=00 and
 * LEN/NLEN, then the Adler-32 of the data. Any inflater reads it; git does. Written in plain JS
 * it costs a copy and a checksum, where `deflateSync` pays a zlib context per call.
 */
export function storedZlib(data: Buffer): Buffer {
  const n = data.length;
  const blocks = n === 0 ? 1 : Math.ceil(n / 65535);
  const out = Buffer.allocUnsafe(2 + blocks * 5 + n + 4);
  out[0] = 0x78;
  out[1] = 0x01;
  let off = 2;
  let pos = 0;
  for (let b = 0; b < blocks; b++) {
    const len = Math.min(65535, n - pos);
    out[off++] = b === blocks - 1 ? 1 : 0;
    out[off++] = len & 0xff;
    out[off++] = len >>> 8;
    out[off++] = ~len & 0xff;
    out[off++] = (~len >>> 8) & 0xff;
    off += data.copy(out, off, pos, pos + len);
    pos += len;
  }
  out.writeUInt32BE(adler32(data), off);
  return out;
}

export function adler32(data: Uint8Array): number {
  let a = 1;
  let b = 0;
  const n = data.length;
  let i = 0;
  while (i < n) {
    // 3800 bytes keep b below 2^31 before the modulo (NMAX is 5552 for 32-bit unsigned).
    const end = Math.min(i + 3800, n);
    for (; i < end; i++) {
      a += data[i];
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return ((b << 16) | a) >>> 0;
}
