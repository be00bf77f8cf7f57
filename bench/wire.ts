/**
 * A minimal xenstore wire client for the benchmark drivers, speaking the protocol directly over a
 * Unix socket: a 16-byte little-endian header (type, req_id, tx_id, len) and a payload of at most
 * 4096 bytes. Self-contained on purpose (no import from src/), so that the harness measures every
 * daemon, xsgit included, through the same independent code.
 *
 * Requests may be pipelined; replies come back in request order (both peers and xsgit answer
 * a connection's requests in order), watch events (type 15) may arrive between them.
 */
import net from 'node:net';

export const XS = {
  DIRECTORY: 1,
  READ: 2,
  WATCH: 4,
  UNWATCH: 5,
  TRANSACTION_START: 6,
  TRANSACTION_END: 7,
  GET_DOMAIN_PATH: 10,
  WRITE: 11,
  MKDIR: 12,
  RM: 13,
  WATCH_EVENT: 15,
  ERROR: 16,
} as const;

const HEADER = 16;
const PAYLOAD_MAX = 4096;

export interface Reply {
  type: number;
  txId: number;
  payload: Buffer;
}

/** A reply's error name (e.g. "EAGAIN") or null if the reply is not an error. */
export function errorOf(r: Reply): string | null {
  if (r.type !== XS.ERROR) return null;
  const end = r.payload.indexOf(0);
  return r.payload.toString('latin1', 0, end < 0 ? r.payload.length : end);
}

/** Payload as a string without its trailing NUL. */
export function text(r: Reply): string {
  let n = r.payload.length;
  if (n > 0 && r.payload[n - 1] === 0) n--;
  return r.payload.toString('utf8', 0, n);
}

export type WatchListener = (path: string, token: string, at: bigint) => void;

interface Pending {
  resolve: (r: Reply) => void;
  reject: (e: Error) => void;
}

export class XsConn {
  private buf: Buffer | null = null;
  private readonly pending: Pending[] = [];
  private pendingHead = 0;
  private reqId = 1;
  private closed = false;
  private closeError: Error | null = null;
  onWatch: WatchListener | null = null;

  private constructor(private readonly sock: net.Socket) {
    sock.setNoDelay(true);
    sock.on('data', (d: Buffer) => this.onData(d));
    sock.on('error', (e) => this.fail(e));
    sock.on('close', () => this.fail(new Error('connection closed')));
  }

  /** Connects, retrying briefly on EAGAIN/ECONNREFUSED (a full listen backlog). */
  static async connect(path: string, retries = 200): Promise<XsConn> {
    for (let attempt = 0; ; attempt++) {
      try {
        const sock = await new Promise<net.Socket>((resolve, reject) => {
          const s = net.createConnection({ path });
          const onErr = (e: Error) => {
            s.destroy();
            reject(e);
          };
          s.once('error', onErr);
          s.once('connect', () => {
            s.off('error', onErr);
            resolve(s);
          });
        });
        return new XsConn(sock);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (attempt >= retries || (code !== 'EAGAIN' && code !== 'ECONNREFUSED')) throw e;
        await new Promise((r) => setTimeout(r, 5));
      }
    }
  }

  private fail(e: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.closeError = e;
    for (let i = this.pendingHead; i < this.pending.length; i++) this.pending[i]!.reject(e);
    this.pending.length = 0;
    this.pendingHead = 0;
  }

  private onData(d: Buffer): void {
    let b = this.buf ? Buffer.concat([this.buf, d]) : d;
    let off = 0;
    while (b.length - off >= HEADER) {
      const len = b.readUInt32LE(off + 12);
      if (len > PAYLOAD_MAX * 4) {
        this.fail(new Error(`reply payload too large: ${len}`));
        this.sock.destroy();
        return;
      }
      if (b.length - off < HEADER + len) break;
      const type = b.readUInt32LE(off);
      const txId = b.readUInt32LE(off + 8);
      const payload = b.subarray(off + HEADER, off + HEADER + len);
      off += HEADER + len;
      if (type === XS.WATCH_EVENT) {
        const l = this.onWatch;
        if (l) {
          const at = process.hrtime.bigint();
          const z1 = payload.indexOf(0);
          const z2 = payload.indexOf(0, z1 + 1);
          l(payload.toString('utf8', 0, z1), payload.toString('utf8', z1 + 1, z2 < 0 ? payload.length : z2), at);
        }
        continue;
      }
      const p = this.pending[this.pendingHead];
      if (!p) {
        this.fail(new Error(`unexpected reply type ${type}`));
        this.sock.destroy();
        return;
      }
      this.pending[this.pendingHead++] = undefined as unknown as Pending;
      if (this.pendingHead === this.pending.length) {
        this.pending.length = 0;
        this.pendingHead = 0;
      }
      // Copy: the payload view would otherwise pin the whole receive buffer.
      p.resolve({ type, txId, payload: Buffer.from(payload) });
    }
    this.buf = off === b.length ? null : b.subarray(off);
  }

  /** Encodes one request: header then payload. */
  static encode(type: number, txId: number, reqId: number, payload: Buffer): Buffer {
    const m = Buffer.allocUnsafe(HEADER + payload.length);
    m.writeUInt32LE(type, 0);
    m.writeUInt32LE(reqId >>> 0, 4);
    m.writeUInt32LE(txId >>> 0, 8);
    m.writeUInt32LE(payload.length, 12);
    payload.copy(m, HEADER);
    return m;
  }

  request(type: number, payload: Buffer, txId = 0): Promise<Reply> {
    if (this.closed) return Promise.reject(this.closeError ?? new Error('closed'));
    if (payload.length > PAYLOAD_MAX) return Promise.reject(new Error('payload too large'));
    const msg = XsConn.encode(type, txId, this.reqId++, payload);
    return new Promise<Reply>((resolve, reject) => {
      this.pending.push({ resolve, reject });
      this.sock.write(msg);
    });
  }

  /** Sends a request and throws on an error reply. */
  async ok(type: number, payload: Buffer, txId = 0): Promise<Reply> {
    const r = await this.request(type, payload, txId);
    const e = errorOf(r);
    if (e) throw new XsError(e, type);
    return r;
  }

  read(path: string, tx = 0): Promise<Reply> {
    return this.request(XS.READ, z(path), tx);
  }
  write(path: string, value: string, tx = 0): Promise<Reply> {
    return this.request(XS.WRITE, Buffer.from(`${path}\0${value}`), tx);
  }
  rm(path: string, tx = 0): Promise<Reply> {
    return this.request(XS.RM, z(path), tx);
  }
  mkdir(path: string, tx = 0): Promise<Reply> {
    return this.request(XS.MKDIR, z(path), tx);
  }
  watch(path: string, token: string): Promise<Reply> {
    return this.request(XS.WATCH, Buffer.from(`${path}\0${token}\0`));
  }
  getDomainPath(domid: number): Promise<Reply> {
    return this.request(XS.GET_DOMAIN_PATH, z(String(domid)));
  }
  async txStart(): Promise<number> {
    const r = await this.ok(XS.TRANSACTION_START, z(''));
    return Number(text(r));
  }
  /** Ends a transaction; returns null on success or the error name (e.g. "EAGAIN"). */
  async txEnd(tx: number, commit: boolean): Promise<string | null> {
    const r = await this.request(XS.TRANSACTION_END, z(commit ? 'T' : 'F'), tx);
    return errorOf(r);
  }

  close(): void {
    this.closed = true;
    this.sock.destroy();
  }
}

export class XsError extends Error {
  constructor(
    readonly code: string,
    readonly op: number,
  ) {
    super(`xenstore error ${code} (op ${op})`);
  }
}

function z(s: string): Buffer {
  return Buffer.from(`${s}\0`);
}

/**
 * Pipelined bulk writes over one connection (setup only, never measured): keeps `depth` requests in
 * flight. Returns the number of error replies.
 */
export async function bulkWrite(
  conn: XsConn,
  items: Iterable<[string, string]>,
  depth = 64,
): Promise<number> {
  let errors = 0;
  const inflight = new Set<Promise<void>>();
  for (const [p, v] of items) {
    const pr: Promise<void> = conn.write(p, v).then((r) => {
      if (errorOf(r)) errors++;
      inflight.delete(pr);
    });
    inflight.add(pr);
    if (inflight.size >= depth) await Promise.race(inflight);
  }
  await Promise.all(inflight);
  return errors;
}
