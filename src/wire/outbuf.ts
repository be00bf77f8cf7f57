import './latin1.js';
import { HEADER_SIZE, Op, PAYLOAD_MAX, type ErrorName } from './constants.js';

/**
 * A connection's pending output: replies and events are encoded straight into one growable
 * buffer and handed to the socket in one write per batch of input (see Connection.flush).
 */
export class OutBuffer {
  buf: Buffer = Buffer.allocUnsafe(8192);
  len = 0;
  private start = 0;

  private ensure(extra: number): void {
    if (this.len + extra <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + extra) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  /** Opens a message; the payload follows through the put* calls, then end(). */
  begin(type: number, reqId: number, txId: number): void {
    this.ensure(HEADER_SIZE + PAYLOAD_MAX + 64);
    this.start = this.len;
    const b = this.buf;
    const o = this.len;
    b.writeUInt32LE(type >>> 0, o);
    b.writeUInt32LE(reqId >>> 0, o + 4);
    b.writeUInt32LE(txId >>> 0, o + 8);
    this.len = o + HEADER_SIZE;
  }

  /** Appends a latin1 string (one byte per char). */
  put(s: string): void {
    this.ensure(s.length);
    this.len += this.buf.latin1Write(s, this.len);
  }

  put0(): void {
    this.ensure(1);
    this.buf[this.len++] = 0;
  }

  putString0(s: string): void {
    this.put(s);
    this.put0();
  }

  /** Closes the message. A payload over PAYLOAD_MAX is replaced by E2BIG, as the C daemon does. */
  end(): void {
    const plen = this.len - this.start - HEADER_SIZE;
    if (plen > PAYLOAD_MAX) {
      this.len = this.start;
      const reqId = this.buf.readUInt32LE(this.start + 4);
      const txId = this.buf.readUInt32LE(this.start + 8);
      this.error(reqId, txId, 'E2BIG');
      return;
    }
    this.buf.writeUInt32LE(plen, this.start + 12);
  }

  /** Drops the message opened by begin() (used for events that would exceed the limit). */
  cancel(): void {
    this.len = this.start;
  }

  /** The size the open message's payload has reached. */
  payloadSize(): number {
    return this.len - this.start - HEADER_SIZE;
  }

  ok(type: number, reqId: number, txId: number): void {
    this.begin(type, reqId, txId);
    this.put('OK\0');
    this.end();
  }

  error(reqId: number, txId: number, name: ErrorName): void {
    this.begin(Op.ERROR, reqId, txId);
    this.putString0(name);
    this.end();
  }

  /** Takes the pending bytes out (a copy: the buffer is reused). */
  take(): Buffer {
    const out = Buffer.allocUnsafe(this.len);
    this.buf.copy(out, 0, 0, this.len);
    this.len = 0;
    return out;
  }
}

