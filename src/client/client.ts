/**
 * The xsgit client: one Unix-socket connection to a xenstored, every operation a
 * promise. Requests are pipelined (any number in flight, each with its own req_id);
 * replies are matched by req_id. Watch events are delivered to async iterators.
 */

import { connect as netConnect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { HEADER_SIZE, Op } from '../wire/constants.js';
import {
  decodeStrings,
  decodeText,
  encodeStrings,
  encodeWrite,
  FrameDecoder,
  FrameTooLargeError,
  writeHeader,
  type Frame,
  type Part,
} from './codec.js';
import { XsConnectionError, XsError, isXsError } from './errors.js';
import { AsyncQueue } from './events.js';
import { socketCandidates, type SocketCandidate } from './paths.js';
import { Transaction } from './transaction.js';
import type { Value, WatchEvent } from './types.js';
import { Watcher } from './watcher.js';

export interface ClientOptions {
  /** Socket path. Default: the first of socketCandidates(env) that answers (libxenstore's
   *  rule, then ./run/socket). */
  path?: string;
  /** Environment for the default path. Default: process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Give up connecting after this long (ms). Default 10000. */
  connectTimeoutMs?: number;
  /** First req_id to use (default 1); ids increase by one, wrap at 2^32 and skip 0. */
  firstReqId?: number;
}

/** A reply exactly as received. */
export interface Reply {
  type: number;
  reqId: number;
  txId: number;
  payload: Buffer;
}

export interface DirectoryPart {
  /** The node's generation count, in decimal (64-bit, so kept as a string). */
  generation: string;
  names: string[];
  /** This chunk reached the end of the list. */
  end: boolean;
}

export interface TransactionOptions {
  /** Attempts before giving up with the last EAGAIN. Default 100. */
  maxAttempts?: number;
}

/** What a failed connect means, for the message listing what was tried. */
const NO_DAEMON: Record<string, string> = {
  ENOENT: ' (no such socket)',
  ECONNREFUSED: ' (a stale socket: no daemon listens)',
  EACCES: ' (permission denied: the socket is mode 0600, for root)',
};

/** All events of a connection (see Client.watches). */
export interface EventStream extends AsyncIterable<WatchEvent> {
  /** The next event; rejects with QueueTimeoutError after `timeoutMs`. */
  nextEvent(timeoutMs?: number): Promise<WatchEvent>;
  /** Stop receiving. */
  close(): void;
}

interface Pending {
  type: number;
  raw: boolean;
  /** The request payload (its first string names the path in error messages). */
  payload: Buffer;
  resolve: (reply: Reply) => void;
  reject: (err: unknown) => void;
}

/** A request's strings, with room for the header in front (one allocation per frame). */
function strings(parts: readonly Part[]): Buffer {
  return encodeStrings(parts, HEADER_SIZE);
}

function emptyFrame(): Buffer {
  return Buffer.alloc(HEADER_SIZE);
}

function firstString(payload: Buffer): string | undefined {
  if (payload.length === 0) return undefined;
  const nul = payload.indexOf(0);
  return payload.toString('utf8', 0, nul < 0 ? Math.min(payload.length, 256) : nul);
}

function withHeaderRoom(payload: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(HEADER_SIZE + payload.length);
  frame.set(payload, HEADER_SIZE);
  return frame;
}

function domidString(domid: number | string): string {
  return typeof domid === 'number' ? String(domid) : domid;
}

function isUnderWatch(eventPath: string, watchPath: string): boolean {
  if (eventPath === watchPath) return true;
  if (watchPath === '/') return eventPath.startsWith('/');
  return eventPath.startsWith(watchPath + '/');
}

export class Client {
  readonly socketPath: string;
  private readonly socket: Socket;
  private readonly decoder = new FrameDecoder();
  private readonly pending = new Map<number, Pending>();
  private readonly watchersByToken = new Map<string, Set<Watcher>>();
  private readonly listeners = new Set<AsyncQueue<WatchEvent>>();
  private nextReqId: number;
  private corked = false;
  private failure: Error | undefined;
  private closing = false;
  private readonly closed: Promise<void>;

  private constructor(socket: Socket, path: string, firstReqId: number) {
    this.socket = socket;
    this.socketPath = path;
    this.nextReqId = firstReqId >>> 0 || 1;
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.fail(new XsConnectionError(`socket ${path}: ${err.message}`, { cause: err })));
    socket.on('close', () =>
      this.fail(this.closing ? new XsConnectionError('client closed') : new XsConnectionError(`connection to ${path} closed`)),
    );
  }

  /**
   * Connect to `options.path`, else to the first socket of paths.ts's socketCandidates() that
   * answers: $XENSTORED_PATH, else $XENSTORED_RUNDIR/socket, else /var/run/xenstored/socket
   * and then ./run/socket. A candidate that does not exist or refuses (ENOENT, ECONNREFUSED:
   * no daemon there) passes to the next; when none answers, the XsConnectionError lists what
   * was tried and why each failed.
   */
  static async connect(options: ClientOptions = {}): Promise<Client> {
    if (options.path !== undefined) return Client.connectTo(options.path, options);
    const tried: string[] = [];
    const candidates: SocketCandidate[] = socketCandidates(options.env ?? process.env);
    for (const c of candidates) {
      try {
        return await Client.connectTo(c.path, options);
      } catch (err) {
        const code = ((err as Error).cause as NodeJS.ErrnoException | undefined)?.code;
        tried.push(`${c.path} (${c.source}): ${code === undefined ? (err as Error).message : `${code}${NO_DAEMON[code] ?? ''}`}`);
        if (code !== 'ENOENT' && code !== 'ECONNREFUSED') break;
      }
    }
    throw new XsConnectionError(`no xenstored answers; tried ${tried.join('; ')}. Set XENSTORED_PATH (or --socket) to the daemon's socket`);
  }

  /** One socket path. The C daemon listens with a backlog of 1, so a non-blocking connect
   *  can meet EAGAIN while the daemon is busy: that is retried until `connectTimeoutMs`. */
  private static async connectTo(path: string, options: ClientOptions): Promise<Client> {
    const timeoutMs = options.connectTimeoutMs ?? 10_000;
    const deadline = Date.now() + timeoutMs;
    for (let attempt = 0; ; attempt++) {
      try {
        const socket = await Client.connectOnce(path, Math.max(1, deadline - Date.now()));
        return new Client(socket, path, options.firstReqId ?? 1);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'EAGAIN' || Date.now() >= deadline) {
          throw new XsConnectionError(`connect ${path}: ${(err as Error).message}`, { cause: err });
        }
        await sleep(Math.min(50, 1 + attempt * 2));
      }
    }
  }

  private static connectOnce(path: string, timeoutMs: number): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const socket = netConnect({ path });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      const onError = (err: Error): void => {
        clearTimeout(timer);
        socket.destroy();
        reject(err);
      };
      socket.once('error', onError);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.off('error', onError);
        resolve(socket);
      });
    });
  }

  /** Requests sent and not yet answered. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** Whether the connection is still usable. */
  get isOpen(): boolean {
    return this.failure === undefined;
  }

  /**
   * Close the connection: no more requests are sent; replies to those already sent are
   * still delivered if the daemon sends them before it closes its side; anything left
   * pending then rejects with XsConnectionError. Watch iterators end (done, no error).
   */
  async close(): Promise<void> {
    if (this.failure === undefined) {
      this.closing = true;
      this.socket.end();
      const t = setTimeout(() => this.socket.destroy(), 1000);
      await this.closed;
      clearTimeout(t);
    }
  }

  // ------------------------------------------------------------------ raw requests

  /**
   * Send one request and resolve with the reply as received, ERROR replies included.
   * Any type is allowed (for protocol tests).
   */
  request(type: number, payload: Uint8Array = Buffer.alloc(0), txId = 0): Promise<Reply> {
    return this.send(type, withHeaderRoom(payload), txId, true);
  }

  /** Send one request; resolve with the payload, reject an ERROR reply as XsError. */
  async call(type: number, payload: Uint8Array, txId = 0): Promise<Buffer> {
    return (await this.send(type, withHeaderRoom(payload), txId, false)).payload;
  }

  /** `frame` = HEADER_SIZE free bytes + payload. */
  private async op(type: number, frame: Buffer, txId = 0): Promise<Buffer> {
    return (await this.send(type, frame, txId, false)).payload;
  }

  private send(type: number, frame: Buffer, txId: number, raw: boolean): Promise<Reply> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.closing) return Promise.reject(new XsConnectionError('client closed'));
    const reqId = this.allocReqId();
    writeHeader(frame, type, reqId, txId);
    return new Promise<Reply>((resolve, reject) => {
      this.pending.set(reqId, { type, raw, payload: frame.subarray(HEADER_SIZE), resolve, reject });
      if (!this.corked) {
        this.corked = true;
        this.socket.cork();
        process.nextTick(() => {
          this.corked = false;
          this.socket.uncork();
        });
      }
      this.socket.write(frame);
    });
  }

  private allocReqId(): number {
    let id = this.nextReqId;
    while (id === 0 || this.pending.has(id)) id = (id + 1) >>> 0;
    this.nextReqId = (id + 1) >>> 0;
    return id;
  }

  // ------------------------------------------------------------------ receive path

  private onData(chunk: Buffer): void {
    this.decoder.push(chunk);
    for (;;) {
      let frame: Frame | undefined;
      try {
        frame = this.decoder.next();
      } catch (err) {
        if (err instanceof FrameTooLargeError) {
          this.protocolError(`daemon sent a ${err.length}-byte payload (max ${err.max})`);
          return;
        }
        throw err;
      }
      if (frame === undefined) return;
      this.dispatch(frame);
      if (this.failure !== undefined) return;
    }
  }

  private dispatch(frame: Frame): void {
    const p = this.pending.get(frame.reqId);
    // Events carry req_id 0, which is never ours; only a raw request *of type* WATCH_EVENT
    // could be answered with that type.
    if (frame.type === Op.WATCH_EVENT && !(p !== undefined && p.raw && p.type === Op.WATCH_EVENT)) {
      this.deliverEvent(frame.payload);
      return;
    }
    if (p === undefined) {
      this.protocolError(`reply with unknown req_id ${frame.reqId} (type ${frame.type})`);
      return;
    }
    this.pending.delete(frame.reqId);
    const reply: Reply = { type: frame.type, reqId: frame.reqId, txId: frame.txId, payload: frame.payload };
    if (p.raw) {
      p.resolve(reply);
    } else if (frame.type === Op.ERROR) {
      p.reject(new XsError(decodeText(frame.payload), p.type, firstString(p.payload)));
    } else if (frame.type !== p.type) {
      p.reject(new XsConnectionError(`reply type ${frame.type} to a request of type ${p.type}`));
      this.protocolError(`reply type ${frame.type} to a request of type ${p.type}`);
    } else {
      p.resolve(reply);
    }
  }

  private deliverEvent(payload: Buffer): void {
    const parts = decodeStrings(payload);
    if (parts.length < 2) return; // malformed event: ignore, as libxenstore does
    const ev: WatchEvent = { path: parts[0]!, token: parts[1]! };
    for (const l of this.listeners) l.push(ev);
    const set = this.watchersByToken.get(ev.token);
    if (set === undefined) return;
    if (set.size === 1) {
      for (const w of set) w.queue.push(ev);
      return;
    }
    // Several watches share the token: give the event to those whose path covers it,
    // or to all of them if none does.
    let matched = false;
    for (const w of set) {
      if (isUnderWatch(ev.path, w.path)) {
        w.queue.push(ev);
        matched = true;
      }
    }
    if (!matched) for (const w of set) w.queue.push(ev);
  }

  private protocolError(message: string): void {
    this.fail(new XsConnectionError(`protocol error from ${this.socketPath}: ${message}`));
    this.socket.destroy();
  }

  private fail(err: Error): void {
    if (this.failure !== undefined) return;
    this.failure = err;
    this.decoder.reset();
    const pend = [...this.pending.values()];
    this.pending.clear();
    for (const p of pend) p.reject(err);
    const endWith = this.closing ? undefined : err;
    for (const set of [...this.watchersByToken.values()]) for (const w of [...set]) w.detach(endWith);
    for (const l of this.listeners) l.end(endWith);
    this.listeners.clear();
    if (!this.socket.destroyed) this.socket.destroy();
  }

  // ------------------------------------------------------------------ data operations

  /** READ: the raw value bytes. */
  read(path: string, txId = 0): Promise<Buffer> {
    return this.op(Op.READ, strings([path]), txId);
  }

  /** READ, decoded as UTF-8. */
  async readString(path: string, txId = 0): Promise<string> {
    return (await this.read(path, txId)).toString('utf8');
  }

  /** READ that answers false for ENOENT. */
  async exists(path: string, txId = 0): Promise<boolean> {
    try {
      await this.read(path, txId);
      return true;
    } catch (err) {
      if (isXsError(err, 'ENOENT')) return false;
      throw err;
    }
  }

  /** WRITE: the value is stored verbatim (a string is written as UTF-8). */
  async write(path: string, value: Value, txId = 0): Promise<void> {
    await this.op(Op.WRITE, encodeWrite(path, value, HEADER_SIZE), txId);
  }

  async mkdir(path: string, txId = 0): Promise<void> {
    await this.op(Op.MKDIR, strings([path]), txId);
  }

  /** RM: removes the subtree. */
  async rm(path: string, txId = 0): Promise<void> {
    await this.op(Op.RM, strings([path]), txId);
  }

  /** DIRECTORY: the children's names. Falls back to DIRECTORY_PART when the list exceeds one reply (E2BIG). */
  async directory(path: string, txId = 0): Promise<string[]> {
    try {
      return decodeStrings(await this.op(Op.DIRECTORY, strings([path]), txId));
    } catch (err) {
      if (!isXsError(err, 'E2BIG')) throw err;
    }
    return this.directoryAll(path, txId);
  }

  /** One DIRECTORY_PART request. */
  async directoryPart(path: string, offset: number, txId = 0): Promise<DirectoryPart> {
    const payload = await this.op(Op.DIRECTORY_PART, strings([path, String(offset)]), txId);
    const nul = payload.indexOf(0);
    if (nul < 0) throw new XsConnectionError(`DIRECTORY_PART ${path}: reply without generation`);
    const generation = payload.toString('utf8', 0, nul);
    const rest = payload.subarray(nul + 1);
    // The list ends with an extra NUL (an empty name) when this chunk reaches its end.
    const end = rest.length === 0 || (rest.length >= 1 && rest[rest.length - 1] === 0 && (rest.length === 1 || rest[rest.length - 2] === 0));
    const names = decodeStrings(rest).filter((n, i, all) => !(n === '' && i === all.length - 1));
    return { generation, names, end };
  }

  /** The whole child list through DIRECTORY_PART, restarting if the node changes meanwhile. */
  async directoryAll(path: string, txId = 0): Promise<string[]> {
    for (let attempt = 0; attempt < 100; attempt++) {
      const names: string[] = [];
      let offset = 0;
      let gen: string | undefined;
      let restart = false;
      for (;;) {
        const part = await this.directoryPart(path, offset, txId);
        if (gen === undefined) gen = part.generation;
        else if (part.generation !== gen) {
          restart = true;
          break;
        }
        names.push(...part.names);
        for (const n of part.names) offset += Buffer.byteLength(n, 'utf8') + 1;
        if (part.end || part.names.length === 0) break;
      }
      if (!restart) return names;
    }
    throw new XsError('EAGAIN', Op.DIRECTORY_PART, path);
  }

  /** GET_PERMS: e.g. ["n0", "r5"]; entry 0 is the owner. */
  async getPerms(path: string, txId = 0): Promise<string[]> {
    return decodeStrings(await this.op(Op.GET_PERMS, strings([path]), txId));
  }

  async setPerms(path: string, perms: readonly string[], txId = 0): Promise<void> {
    await this.op(Op.SET_PERMS, strings([path, ...perms]), txId);
  }

  // ------------------------------------------------------------------ watches

  /**
   * WATCH. Resolves, once the daemon has accepted it, with a Watcher whose events
   * (starting with the initial one) can be iterated. Rejects with XsError (EEXIST, EINVAL...).
   */
  async watch(path: string, token: string, options: { depth?: number } = {}): Promise<Watcher> {
    const w = new Watcher(this, path, token);
    let set = this.watchersByToken.get(token);
    if (set === undefined) {
      set = new Set();
      this.watchersByToken.set(token, set);
    }
    set.add(w); // before sending: events may arrive before the reply is processed
    const args = options.depth === undefined ? [path, token] : [path, token, String(options.depth)];
    try {
      await this.op(Op.WATCH, strings(args));
    } catch (err) {
      w.detach();
      throw err;
    }
    return w;
  }

  /** UNWATCH; local Watchers for this path and token end. */
  async unwatch(path: string, token: string): Promise<void> {
    const set = this.watchersByToken.get(token);
    if (set !== undefined) for (const w of [...set]) if (w.path === path) w.detach();
    await this.op(Op.UNWATCH, strings([path, token]));
  }

  /** Every watch event this connection receives from now on, whatever its token. */
  watches(): EventStream {
    const q = new AsyncQueue<WatchEvent>();
    if (this.failure !== undefined) q.end(this.closing ? undefined : this.failure);
    else this.listeners.add(q);
    const listeners = this.listeners;
    return {
      [Symbol.asyncIterator]: () => ({
        next: () => q.next(),
        return: () => {
          listeners.delete(q);
          q.end();
          return Promise.resolve({ value: undefined, done: true as const });
        },
      }),
      nextEvent: async (timeoutMs?: number) => {
        const r = await q.next(timeoutMs);
        if (r.done) throw new XsConnectionError('event stream has ended');
        return r.value;
      },
      close: () => {
        listeners.delete(q);
        q.end();
      },
    };
  }

  /** RESET_WATCHES: drops all of this connection's watches and transactions. */
  async resetWatches(): Promise<void> {
    await this.op(Op.RESET_WATCHES, emptyFrame());
    for (const set of [...this.watchersByToken.values()]) for (const w of [...set]) w.detach();
  }

  /** @internal */
  forgetWatcher(w: Watcher): void {
    const set = this.watchersByToken.get(w.token);
    if (set === undefined) return;
    set.delete(w);
    if (set.size === 0) this.watchersByToken.delete(w.token);
  }

  // ------------------------------------------------------------------ transactions

  /** TRANSACTION_START: the new transaction id. */
  async transactionStart(txId = 0): Promise<number> {
    const text = decodeText(await this.op(Op.TRANSACTION_START, strings(['']), txId));
    const id = Number.parseInt(text, 10);
    if (!Number.isInteger(id) || String(id) !== text) {
      throw new XsConnectionError(`TRANSACTION_START: bad transaction id ${JSON.stringify(text)}`);
    }
    return id;
  }

  /** TRANSACTION_END: commit (T) or abort (F). A conflicting commit rejects with XsError EAGAIN. */
  async transactionEnd(txId: number, commit = true): Promise<void> {
    await this.op(Op.TRANSACTION_END, strings([commit ? 'T' : 'F']), txId);
  }

  /** Start a transaction and return its handle. */
  async begin(): Promise<Transaction> {
    return new Transaction(this, await this.transactionStart());
  }

  /**
   * Run `fn` in a transaction and commit it; on EAGAIN (from the commit or from
   * inside `fn`) start over. Any other error aborts the transaction and is rethrown.
   */
  async transaction<T>(fn: (tx: Transaction) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    const maxAttempts = options.maxAttempts ?? 100;
    for (let attempt = 1; ; attempt++) {
      const tx = await this.begin();
      let result: T;
      try {
        result = await fn(tx);
      } catch (err) {
        await tx.abort().catch(() => undefined);
        if (isXsError(err, 'EAGAIN') && attempt < maxAttempts) {
          await this.backoff(attempt);
          continue;
        }
        throw err;
      }
      try {
        await tx.commit();
        return result;
      } catch (err) {
        if (isXsError(err, 'EAGAIN') && attempt < maxAttempts) {
          await this.backoff(attempt);
          continue;
        }
        throw err;
      }
    }
  }

  private async backoff(attempt: number): Promise<void> {
    if (attempt < 3) return;
    await sleep(Math.random() * Math.min(50, 2 ** (attempt - 3)));
  }

  // ------------------------------------------------------------------ domains and control

  /** GET_DOMAIN_PATH: "/local/domain/<domid>". */
  async getDomainPath(domid: number | string): Promise<string> {
    return decodeText(await this.op(Op.GET_DOMAIN_PATH, strings([domidString(domid)])));
  }

  /** CONTROL: the reply text without its NUL ("OK" for commands that return nothing),
   *  decoded as UTF-8. */
  async control(command: string, ...args: string[]): Promise<string> {
    return decodeText(await this.op(Op.CONTROL, strings([command, ...args])));
  }

  /** CONTROL: the reply's bytes exactly, without the terminating NUL (a reply that carries
   *  node values, such as `history cat`, is bytes, not UTF-8). Arguments go as UTF-8. */
  async controlBytes(command: string, ...args: string[]): Promise<Buffer> {
    const payload = await this.op(Op.CONTROL, strings([command, ...args]));
    return payload.length > 0 && payload[payload.length - 1] === 0 ? payload.subarray(0, payload.length - 1) : payload;
  }

  async introduce(domid: number | string, gfn: number | string, evtchn: number | string): Promise<void> {
    await this.op(Op.INTRODUCE, strings([domidString(domid), String(gfn), String(evtchn)]));
  }

  async release(domid: number | string): Promise<void> {
    await this.op(Op.RELEASE, strings([domidString(domid)]));
  }

  async resume(domid: number | string): Promise<void> {
    await this.op(Op.RESUME, strings([domidString(domid)]));
  }

  async setTarget(domid: number | string, target: number | string): Promise<void> {
    await this.op(Op.SET_TARGET, strings([domidString(domid), domidString(target)]));
  }

  /** IS_DOMAIN_INTRODUCED: anything but "F" counts as true, as in libxenstore. */
  async isDomainIntroduced(domid: number | string): Promise<boolean> {
    return decodeText(await this.op(Op.IS_DOMAIN_INTRODUCED, strings([domidString(domid)]))) !== 'F';
  }

  /** GET_FEATURE: this connection's feature bits, or a domain's. */
  async getFeature(domid?: number | string): Promise<number> {
    const frame = domid === undefined ? emptyFrame() : strings([domidString(domid)]);
    const text = decodeText(await this.op(Op.GET_FEATURE, frame));
    return Number.parseInt(text, 10);
  }

  async setFeature(domid: number | string, value: number): Promise<void> {
    await this.op(Op.SET_FEATURE, strings([domidString(domid), String(value)]));
  }

  /** GET_QUOTA with 0, 1 (name) or 2 (domid, name) arguments: the reply text. */
  async getQuota(...args: string[]): Promise<string> {
    const frame = args.length === 0 ? emptyFrame() : strings(args);
    return decodeText(await this.op(Op.GET_QUOTA, frame));
  }

  /** SET_QUOTA: (name, value) or (domid, name, value). */
  async setQuota(...args: string[]): Promise<void> {
    await this.op(Op.SET_QUOTA, strings(args));
  }
}
