import { closeSync, fchmodSync, fstatSync, openSync, writeSync } from 'node:fs';
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

/** Lines are gathered and written in one write(2) when this much is pending, and at the
 *  latest on the next turn of the event loop. */
const FLUSH_BYTES = 64 * 1024;

/**
 * One line per request and per reply or event, like the C daemon's trace file:
 * `2026-11-22T05:00:00.000Z IN  conn 3 dom 0 READ req 0 tx 1 (/local/domain/0/name )`,
 * and one per connect and disconnect, naming the process behind a dom0 connection
 * (`CONNECT conn 3 dom 0 pid 812 uid 0 comm xenstore-write`).
 *
 * The file is opened when this is constructed, so a bad path fails before the daemon
 * listens (errors are Node's ENOENT, EACCES, EISDIR…). It is created mode 0600 and made so if
 * it existed: it holds every value written to the store. reopen() (SIGHUP, as the C daemon
 * does for its log files) closes and opens the path again, for logrotate.
 */
export class AccessLog {
  private fd: number;
  private pending: string[] = [];
  private pendingBytes = 0;
  private scheduled = false;

  constructor(readonly file: string) {
    this.fd = AccessLog.open(file);
  }

  private static open(file: string): number {
    const fd = openSync(file, 'a', 0o600);
    try {
      if (!fstatSync(fd).isFile()) throw Object.assign(new Error(`${file}: not a regular file`), { code: 'EINVAL' });
      fchmodSync(fd, 0o600);
    } catch (e) {
      closeSync(fd);
      throw e;
    }
    return fd;
  }

  private line(text: string): void {
    this.pending.push(text);
    this.pendingBytes += text.length;
    if (this.pendingBytes >= FLUSH_BYTES) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Writes what is pending (synchronously: a daemon stopping loses no line). */
  flush(): void {
    this.scheduled = false;
    if (this.pending.length === 0 || this.fd < 0) return;
    const text = this.pending.join('');
    this.pending = [];
    this.pendingBytes = 0;
    writeSync(this.fd, text, null, 'latin1');
  }

  connected(c: Connection): void {
    const p = c.proc;
    const who = p === null ? '' : ` pid ${p.pid} uid ${p.uid} comm ${printable(Buffer.from(p.comm, 'latin1'), 0, p.comm.length)}`;
    this.line(`${new Date().toISOString()} CONNECT conn ${c.id} dom ${c.domid}${who}\n`);
  }

  disconnected(c: Connection): void {
    this.line(`${new Date().toISOString()} DISCONNECT conn ${c.id} dom ${c.domid}\n`);
  }

  request(c: Connection, type: number, req: number, tx: number, buf: Buffer, s: number, e: number): void {
    this.line(`${new Date().toISOString()} IN  conn ${c.id} dom ${c.domid} ${opName(type)} req ${req} tx ${tx} (${printable(buf, s, e)})\n`);
  }

  /** Logs every message encoded into `buf` between `from` and `to`. */
  replies(c: Connection, buf: Buffer, from: number, to: number): void {
    const now = new Date().toISOString();
    for (let o = from; o + HEADER_SIZE <= to; ) {
      const len = buf.readUInt32LE(o + 12);
      const type = buf.readUInt32LE(o);
      this.line(`${now} OUT conn ${c.id} dom ${c.domid} ${opName(type)} req ${buf.readUInt32LE(o + 4)} tx ${buf.readUInt32LE(o + 8)} (${printable(buf, o + HEADER_SIZE, o + HEADER_SIZE + len)})\n`);
      o += HEADER_SIZE + len;
    }
  }

  /** Closes the file and opens its path again (after logrotate moved it away). When the
   *  path cannot be opened now, the old file stays in use and the error is thrown. */
  reopen(): void {
    this.flush();
    const fd = AccessLog.open(this.file);
    closeSync(this.fd);
    this.fd = fd;
  }

  close(): void {
    this.flush();
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}
