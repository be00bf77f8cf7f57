import { createWriteStream, type WriteStream } from 'node:fs';
import { HEADER_SIZE, opName } from '../wire/constants.js';
import type { Connection } from './connection.js';

/** Printable form of a payload: NULs as spaces, other bytes outside ASCII as \xHH. */
function printable(buf: Buffer, s: number, e: number): string {
  let out = '';
  for (let i = s; i < e; i++) {
    const b = buf[i];
    if (b === 0) out += ' ';
    else if (b < 32 || b > 126 || b === 92) out += `\\x${b.toString(16).padStart(2, '0')}`;
    else out += String.fromCharCode(b);
  }
  return out;
}

/**
 * One line per request and per reply or event, like the C daemon's trace file:
 * `2026-11-22T05:00:00.000Z IN  conn 3 dom 0 READ req 0 tx 1 (/local/domain/0/name )`.
 */
export class AccessLog {
  private readonly stream: WriteStream;

  constructor(file: string) {
    this.stream = createWriteStream(file, { flags: 'a' });
  }

  request(c: Connection, type: number, req: number, tx: number, buf: Buffer, s: number, e: number): void {
    this.stream.write(`${new Date().toISOString()} IN  conn ${c.id} dom ${c.domid} ${opName(type)} req ${req} tx ${tx} (${printable(buf, s, e)})\n`);
  }

  /** Logs every message encoded into `buf` between `from` and `to`. */
  replies(c: Connection, buf: Buffer, from: number, to: number): void {
    const now = new Date().toISOString();
    for (let o = from; o + HEADER_SIZE <= to; ) {
      const len = buf.readUInt32LE(o + 12);
      const type = buf.readUInt32LE(o);
      this.stream.write(`${now} OUT conn ${c.id} dom ${c.domid} ${opName(type)} req ${buf.readUInt32LE(o + 4)} tx ${buf.readUInt32LE(o + 8)} (${printable(buf, o + HEADER_SIZE, o + HEADER_SIZE + len)})\n`);
      o += HEADER_SIZE + len;
    }
  }

  close(): void {
    this.stream.end();
  }
}
