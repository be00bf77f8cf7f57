import { deflateSync } from 'node:zlib';

/**
 * A minimal line-chart PNG writer for benchmark plots (no plotting dependency): series drawn
 * as polylines over a white canvas with axes and tick marks. Labels go in the CSV and the
 * README; the picture is for the shape (does memory plateau?).
 */
export interface Series {
  readonly points: readonly [number, number][];
  readonly rgb: readonly [number, number, number];
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (let i = 0; i < buf.length; i++) c = CRC_TABLE[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

export function lineChart(series: readonly Series[], width = 800, height = 400): Buffer {
  const px = Buffer.alloc(width * height * 3, 255);
  const set = (x: number, y: number, [r, g, b]: readonly [number, number, number]) => {
    if (x < 0 || y < 0 || x >= width || y >= height) return;
    const o = (y * width + x) * 3;
    px[o] = r;
    px[o + 1] = g;
    px[o + 2] = b;
  };
  const m = 40;
  const all = series.flatMap((s) => s.points);
  const maxX = Math.max(1, ...all.map((p) => p[0]));
  const maxY = Math.max(1, ...all.map((p) => p[1])) * 1.1;
  const sx = (x: number) => Math.round(m + (x / maxX) * (width - 2 * m));
  const sy = (y: number) => Math.round(height - m - (y / maxY) * (height - 2 * m));
  const grey: [number, number, number] = [120, 120, 120];
  for (let x = m; x <= width - m; x++) set(x, height - m, grey);
  for (let y = m; y <= height - m; y++) set(m, y, grey);
  for (let i = 0; i <= 10; i++) {
    for (let d = 0; d < 5; d++) set(sx((maxX * i) / 10), height - m + d, grey);
    for (let d = 0; d < 5; d++) set(m - d, sy((maxY * i) / 10), grey);
  }
  for (const s of series) {
    for (let i = 1; i < s.points.length; i++) {
      const [x0, y0] = [sx(s.points[i - 1][0]), sy(s.points[i - 1][1])];
      const [x1, y1] = [sx(s.points[i][0]), sy(s.points[i][1])];
      const steps = Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0), 1);
      for (let k = 0; k <= steps; k++) {
        const x = Math.round(x0 + ((x1 - x0) * k) / steps);
        const y = Math.round(y0 + ((y1 - y0) * k) / steps);
        set(x, y, s.rgb);
        set(x, y + 1, s.rgb);
      }
    }
  }
  const raw = Buffer.alloc(height * (width * 3 + 1));
  for (let y = 0; y < height; y++) px.copy(raw, y * (width * 3 + 1) + 1, y * width * 3, (y + 1) * width * 3);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  const sig = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([sig, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}
