/**
 * A minimal raw-protocol test client: it sends exact bytes over node:net (16-byte
 * little-endian header type/req_id/tx_id/len + payload, including malformed frames) and
 * sorts what comes back into replies and WATCH_EVENTs, each in arrival order. Every frame
 * carries a global arrival sequence number, so tests can assert event-versus-reply order.
 *
 * Deliberately independent of src/client: a test of the wire must not trust the codec it
 * is testing. Only the constants are shared.
 */

import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, expect } from 'vitest';
import { ERROR_NAMES, HEADER_SIZE, Op, PAYLOAD_MAX } from '../../src/wire/constants.js';
import { startDaemon, type DaemonHandle } from './daemon.js';

export { Op, HEADER_SIZE, PAYLOAD_MAX, ERROR_NAMES };

/** A payload: raw bytes, a string sent verbatim (latin1, one byte per char, so write the
 *  NULs yourself), or a list of strings each sent NUL-terminated. */
export type Payload = Buffer | string | readonly string[];

export interface Frame {
  type: number;
  req: number;
  tx: number;
  /** The header's len field. */
  len: number;
  payload: Buffer;
  /** Header + payload exactly as received. */
  raw: Buffer;
  /** Arrival index over all frames of this connection (replies and events). */
  seq: number;
}

export interface SendOptions {
  /** Header tx_id (default 0). */
  tx?: number;
  /** Header req_id (default: a fresh counter value). */
  req?: number;
  /** Override the header's len field (default: the payload's length). */
  len?: number;
}

export const DEFAULT_TIMEOUT_MS = 3000;

/** Encodes a payload to bytes. */
export function payloadBytes(p: Payload): Buffer {
  if (Buffer.isBuffer(p)) return p;
  if (typeof p === 'string') return Buffer.from(p, 'latin1');
  return Buffer.concat(p.map((s) => Buffer.from(`${s}\0`, 'latin1')));
}

/** A frame's exact bytes: the header (len from the payload unless overridden) + payload. */
export function frame(type: number, payload: Payload = Buffer.alloc(0), opts: SendOptions = {}): Buffer {
  const body = payloadBytes(payload);
  const h = Buffer.alloc(HEADER_SIZE);
  h.writeUInt32LE(type >>> 0, 0);
  h.writeUInt32LE((opts.req ?? 0) >>> 0, 4);
  h.writeUInt32LE((opts.tx ?? 0) >>> 0, 8);
  h.writeUInt32LE((opts.len ?? body.length) >>> 0, 12);
  return Buffer.concat([h, body]);
}

/** A reply payload as latin1 text (NULs kept). */
export function text(f: Frame): string {
  return f.payload.toString('latin1');
}

/** The NUL-terminated strings of a payload (bytes after the last NUL are dropped). */
export function strs(f: Frame | Buffer): string[] {
  const b = Buffer.isBuffer(f) ? f : f.payload;
  const out: string[] = [];
  let p = 0;
  for (;;) {
    const nul = b.indexOf(0, p);
    if (nul < 0) break;
    out.push(b.toString('latin1', p, nul));
    p = nul + 1;
  }
  return out;
}

export function show(f: Frame): string {
  const name = f.type === Op.ERROR ? 'ERROR' : f.type === Op.WATCH_EVENT ? 'EVENT' : `type ${f.type}`;
  const shown = JSON.stringify(f.payload.toString('latin1').slice(0, 200));
  return `#${f.seq} ${name} req=${f.req} tx=${f.tx} len=${f.len} ${shown}`;
}

/** A random non-zero 32-bit request id (above 2^31 half of the time). */
export function randomReq(): number {
  return (Math.floor(Math.random() * 0xfffffffe) + 1) >>> 0;
}

class Waiter<T> {
  constructor(
    readonly resolve: (v: T) => void,
    readonly reject: (e: Error) => void,
    readonly timer: NodeJS.Timeout,
  ) {}
}

export class RawConn {
  /** Unconsumed replies (everything that is not a WATCH_EVENT), in arrival order. */
  readonly replies: Frame[] = [];
  /** Unconsumed watch events, in arrival order. */
  readonly events: Frame[] = [];
  /** Every frame received, in arrival order (never consumed). */
  readonly log: Frame[] = [];
  /** Total bytes received. */
  bytesIn = 0;
  closed = false;
  readonly closedPromise: Promise<void>;
  private buf: Buffer = Buffer.alloc(0);
  private seq = 0;
  private nextReq = 1;
  private replyWaiters: Waiter<Frame>[] = [];
  private eventWaiters: Waiter<Frame>[] = [];
  private closeResolve!: () => void;

  private constructor(readonly sock: Socket) {
    this.closedPromise = new Promise((r) => (this.closeResolve = r));
    sock.on('data', (d: Buffer) => this.onData(d));
    sock.on('error', () => {
      /* reported through close */
    });
    sock.on('close', () => this.onClose());
  }

  /** Connects; retries briefly on EAGAIN (a daemon with a small listen backlog, like the C
   *  one with listen(fd, 1), refuses bursts of connects). */
  static async connect(path: string): Promise<RawConn> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await new Promise<RawConn>((resolve, reject) => {
          const s = connect({ path });
          s.once('connect', () => {
            s.removeListener('error', reject);
            resolve(new RawConn(s));
          });
          s.once('error', reject);
        });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN' || attempt >= 100) throw err;
        await sleep(10);
      }
    }
  }

  // ------------------------------------------------------------ receiving

  private onData(d: Buffer): void {
    this.bytesIn += d.length;
    this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
    while (this.buf.length >= HEADER_SIZE) {
      const len = this.buf.readUInt32LE(12);
      if (this.buf.length < HEADER_SIZE + len) break;
      const raw = Buffer.from(this.buf.subarray(0, HEADER_SIZE + len));
      this.buf = this.buf.subarray(HEADER_SIZE + len);
      const f: Frame = {
        type: raw.readUInt32LE(0),
        req: raw.readUInt32LE(4),
        tx: raw.readUInt32LE(8),
        len,
        payload: raw.subarray(HEADER_SIZE),
        raw,
        seq: this.seq++,
      };
      this.log.push(f);
      if (f.type === Op.WATCH_EVENT) this.push(this.events, this.eventWaiters, f);
      else this.push(this.replies, this.replyWaiters, f);
    }
  }

  private push(q: Frame[], waiters: Waiter<Frame>[], f: Frame): void {
    const w = waiters.shift();
    if (w !== undefined) {
      clearTimeout(w.timer);
      w.resolve(f);
    } else q.push(f);
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    for (const w of [...this.replyWaiters, ...this.eventWaiters]) {
      clearTimeout(w.timer);
      w.reject(new Error(`connection closed by the server while waiting (received so far:\n${this.dump()})`));
    }
    this.replyWaiters = [];
    this.eventWaiters = [];
    this.closeResolve();
  }

  /** Bytes received that do not (yet) form a whole frame. */
  get pendingBytes(): number {
    return this.buf.length;
  }

  dump(): string {
    return this.log.map(show).join('\n') || '(nothing)';
  }

  private wait(q: Frame[], waiters: Waiter<Frame>[], what: string, ms: number): Promise<Frame> {
    const f = q.shift();
    if (f !== undefined) return Promise.resolve(f);
    if (this.closed) return Promise.reject(new Error(`connection is closed; no ${what} (received:\n${this.dump()})`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = waiters.findIndex((w) => w.timer === timer);
        if (i >= 0) waiters.splice(i, 1);
        reject(new Error(`no ${what} within ${ms} ms (received:\n${this.dump()})`));
      }, ms);
      waiters.push(new Waiter(resolve, reject, timer));
    });
  }

  /** The next reply (any non-event frame), in order. */
  nextReply(ms = DEFAULT_TIMEOUT_MS): Promise<Frame> {
    return this.wait(this.replies, this.replyWaiters, 'reply', ms);
  }

  /** The next watch event, in order. */
  nextEvent(ms = DEFAULT_TIMEOUT_MS): Promise<Frame> {
    return this.wait(this.events, this.eventWaiters, 'watch event', ms);
  }

  /** The next event's [path, token], checking its header (req_id = tx_id = 0) and layout. */
  async nextEventPT(ms = DEFAULT_TIMEOUT_MS): Promise<[string, string]> {
    const e = await this.nextEvent(ms);
    expect(e.req, 'event req_id').toBe(0);
    expect(e.tx, 'event tx_id').toBe(0);
    const s = strs(e);
    expect(s.length, `event payload ${JSON.stringify(text(e))}`).toBe(2);
    expect(e.payload[e.payload.length - 1]).toBe(0);
    return [s[0], s[1]];
  }

  /** Drains and returns the events received so far, as [path, token]. */
  takeEvents(): [string, string][] {
    return this.events.splice(0).map((e) => {
      const s = strs(e);
      return [s[0], s[1]];
    });
  }

  /** A round trip on this connection: every event queued for it before now has arrived
   *  when this returns (the server handles and answers a connection's requests in order). */
  async sync(): Promise<void> {
    const r = await this.rq(Op.GET_DOMAIN_PATH, ['0']);
    expect(text(r)).toBe('/local/domain/0\0');
  }

  /** Asserts that no watch event arrives within `ms` (then also after a round trip). */
  async noEventWithin(ms = 30): Promise<void> {
    await new Promise((r) => setTimeout(r, ms));
    await this.sync();
    expect(this.events.map(show), 'unexpected watch events').toEqual([]);
  }

  /** Whether the server closes the connection within `ms`. */
  async closedWithin(ms = DEFAULT_TIMEOUT_MS): Promise<boolean> {
    if (this.closed) return true;
    let timer: NodeJS.Timeout | undefined;
    const t = new Promise<boolean>((r) => (timer = setTimeout(() => r(false), ms)));
    const r = await Promise.race([this.closedPromise.then(() => true), t]);
    clearTimeout(timer);
    return r;
  }

  // ------------------------------------------------------------ sending

  /** Writes exact bytes. */
  sendRaw(bytes: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      this.sock.write(bytes, (err) => (err ? reject(err) : resolve()));
    });
  }

  /** Sends one request; returns the req_id used. */
  send(type: number, payload: Payload = Buffer.alloc(0), opts: SendOptions = {}): number {
    const req = opts.req ?? this.nextReq++;
    this.sock.write(frame(type, payload, { ...opts, req }));
    return req;
  }

  /** Sends one request and returns its reply, checking the echoed req_id and tx_id and that
   *  the type is the request's or ERROR. */
  async rq(type: number, payload: Payload = Buffer.alloc(0), opts: SendOptions = {}): Promise<Frame> {
    const req = this.send(type, payload, opts);
    const r = await this.nextReply();
    expect(r.req, `req_id echo (${show(r)})`).toBe(req);
    expect(r.tx, `tx_id echo (${show(r)})`).toBe((opts.tx ?? 0) >>> 0);
    expect([type >>> 0, Op.ERROR], `reply type (${show(r)})`).toContain(r.type);
    expect(r.len).toBe(r.payload.length);
    expect(r.len).toBeLessThanOrEqual(PAYLOAD_MAX);
    return r;
  }

  /** rq, expecting an ERROR reply with exactly `name\0`. */
  async expectError(name: (typeof ERROR_NAMES)[number], type: number, payload: Payload = Buffer.alloc(0), opts: SendOptions = {}): Promise<Frame> {
    const r = await this.rq(type, payload, opts);
    expect(errorOf(r), `reply to type ${type} ${JSON.stringify(payloadBytes(payload).toString('latin1'))}`).toBe(name);
    return r;
  }

  /** rq, expecting a success reply `OK\0`. */
  async expectOk(type: number, payload: Payload = Buffer.alloc(0), opts: SendOptions = {}): Promise<Frame> {
    const r = await this.rq(type, payload, opts);
    expect(show(r), `reply to type ${type} ${JSON.stringify(payloadBytes(payload).toString('latin1'))}`).toBe(
      show({ ...r, type: type >>> 0, len: 3, payload: Buffer.from('OK\0') }),
    );
    return r;
  }

  /** rq, expecting success; returns the payload. */
  async ok(type: number, payload: Payload = Buffer.alloc(0), opts: SendOptions = {}): Promise<Buffer> {
    const r = await this.rq(type, payload, opts);
    if (r.type === Op.ERROR) throw new Error(`type ${type} ${JSON.stringify(payloadBytes(payload).toString('latin1'))} failed: ${text(r)}`);
    return r.payload;
  }

  // ------------------------------------------------------------ conveniences (all checked)

  async write(path: string, value: string | Buffer, opts: SendOptions = {}): Promise<void> {
    const v = typeof value === 'string' ? Buffer.from(value, 'latin1') : value;
    await this.expectOk(Op.WRITE, Buffer.concat([Buffer.from(`${path}\0`, 'latin1'), v]), opts);
  }

  async read(path: string, opts: SendOptions = {}): Promise<Buffer> {
    return this.ok(Op.READ, [path], opts);
  }

  async readS(path: string, opts: SendOptions = {}): Promise<string> {
    return (await this.read(path, opts)).toString('latin1');
  }

  async mkdir(path: string, opts: SendOptions = {}): Promise<void> {
    await this.expectOk(Op.MKDIR, [path], opts);
  }

  async rm(path: string, opts: SendOptions = {}): Promise<void> {
    await this.expectOk(Op.RM, [path], opts);
  }

  async dir(path: string, opts: SendOptions = {}): Promise<string[]> {
    return strs(await this.ok(Op.DIRECTORY, [path], opts));
  }

  async getPerms(path: string, opts: SendOptions = {}): Promise<string> {
    return (await this.ok(Op.GET_PERMS, [path], opts)).toString('latin1');
  }

  async setPerms(path: string, perms: string[], opts: SendOptions = {}): Promise<void> {
    await this.expectOk(Op.SET_PERMS, [path, ...perms], opts);
  }

  /** WATCH; checks OK then the initial event (reply first); consumes both. */
  async watch(path: string, token: string): Promise<void> {
    await this.expectOk(Op.WATCH, [path, token]);
    const [p, t] = await this.nextEventPT();
    expect([p, t]).toEqual([path, token]);
  }

  async unwatch(path: string, token: string): Promise<void> {
    await this.expectOk(Op.UNWATCH, [path, token]);
  }

  /** TRANSACTION_START; returns the id. */
  async txStart(): Promise<number> {
    const r = await this.rq(Op.TRANSACTION_START, ['']);
    expect(r.type, show(r)).toBe(Op.TRANSACTION_START);
    expect(text(r)).toMatch(/^[1-9][0-9]*\0$/);
    return Number.parseInt(text(r), 10);
  }

  /** TRANSACTION_END; returns 'OK' or the error name. */
  async txEnd(tx: number, commit = true): Promise<string> {
    const r = await this.rq(Op.TRANSACTION_END, [commit ? 'T' : 'F'], { tx });
    return r.type === Op.ERROR ? errorOf(r) : text(r) === 'OK\0' ? 'OK' : `bad reply ${show(r)}`;
  }

  close(): void {
    this.sock.destroy();
  }

  /** Half-closes our side and waits for the server to drop the connection. */
  async end(): Promise<void> {
    this.sock.end();
    await this.closedWithin(1000);
    this.sock.destroy();
  }
}

/** The error name of an ERROR reply (checked: type 16, one known name, NUL-terminated), or
 *  `not an error: …`. */
export function errorOf(f: Frame): string {
  if (f.type !== Op.ERROR) return `not an error: ${show(f)}`;
  const t = text(f);
  if (!t.endsWith('\0') || t.indexOf('\0') !== t.length - 1) return `malformed error payload ${JSON.stringify(t)}`;
  const name = t.slice(0, -1);
  if (!(ERROR_NAMES as readonly string[]).includes(name)) return `error name not in xs_wire.h: ${name}`;
  return name;
}

/** Opens `n` raw connections to a socket. */
export async function openRaw(socket: string, n = 1): Promise<RawConn[]> {
  const out: RawConn[] = [];
  for (let i = 0; i < n; i++) out.push(await RawConn.connect(socket));
  return out;
}

/** A unique path prefix per call, so tests sharing a daemon do not collide. */
let uniq = 0;
export function fresh(base = 'p'): string {
  return `/${base}${process.pid}x${++uniq}`;
}

/** The generation and names walked with libxenstore's xs_directory_part algorithm. */
export async function directoryPartWalk(c: RawConn, path: string, opts: SendOptions = {}): Promise<{ gen: string; names: string[]; chunks: number; restarts: number }> {
  let offset = 0;
  let gen: string | null = null;
  let acc: Buffer = Buffer.alloc(0);
  let chunks = 0;
  let restarts = 0;
  for (let guard = 0; guard < 10_000; guard++) {
    const r = await c.rq(Op.DIRECTORY_PART, [path, String(offset)], opts);
    if (r.type === Op.ERROR) throw new Error(`DIRECTORY_PART ${path} ${offset}: ${errorOf(r)}`);
    const p = r.payload;
    const nul = p.indexOf(0);
    if (nul < 0) throw new Error(`DIRECTORY_PART reply without a generation: ${show(r)}`);
    const g = p.toString('latin1', 0, nul);
    if (!/^[0-9]+$/.test(g)) throw new Error(`DIRECTORY_PART generation not decimal: ${JSON.stringify(g)}`);
    if (gen === null) gen = g;
    else if (g !== gen) {
      // The node changed under us: restart, as xs_directory_part does.
      gen = g;
      offset = 0;
      acc = Buffer.alloc(0);
      restarts++;
      continue;
    }
    const chunk = p.subarray(nul + 1);
    chunks++;
    acc = Buffer.concat([acc, chunk]);
    offset += chunk.length;
    if (acc.length <= 1 || (acc.length >= 2 && acc[acc.length - 1] === 0 && acc[acc.length - 2] === 0)) break;
    if (chunk.length === 0) throw new Error('DIRECTORY_PART returned an empty chunk without the end marker');
  }
  // The accumulated list ends in the "\0" end marker after the last name's NUL.
  const names = acc.length <= 1 ? [] : strs(acc.subarray(0, acc.length - 1));
  return { gen: gen ?? '', names, chunks, restarts };
}

/** Byte-order sort (xsgit's documented DIRECTORY order). */
export function byteSorted(names: readonly string[]): string[] {
  return [...names].sort((a, b) => Buffer.compare(Buffer.from(a, 'latin1'), Buffer.from(b, 'latin1')));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export interface Shared {
  /** The file's daemon. */
  d: DaemonHandle;
  /** A connection opened in beforeAll. */
  c: RawConn;
  /** Opens another connection (closed in afterAll). */
  open(): Promise<RawConn>;
}

/** One daemon for a test file (beforeAll/afterAll), and a first raw connection. afterAll
 *  also checks that the daemon was still running and stopped cleanly. `args`: extra
 *  `xsgit daemon` arguments (ignored for the peers). */
export function sharedDaemon(args: string[] = []): Shared {
  const conns: RawConn[] = [];
  const ctx = {
    open: async () => {
      const c = await RawConn.connect(ctx.d.socket);
      conns.push(c);
      return c;
    },
  } as Shared;
  beforeAll(async () => {
    ctx.d = await startDaemon({ args });
    ctx.c = await ctx.open();
  });
  afterAll(async () => {
    for (const c of conns) c.close();
    if (ctx.d === undefined) return;
    const r = await ctx.d.stop();
    expect(r.code === 0 || r.signal === 'SIGTERM', `daemon exit: code ${r.code}, signal ${r.signal}`).toBe(true);
  });
  return ctx;
}
