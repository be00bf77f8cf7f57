import { HEADER_SIZE, Op, PAYLOAD_MAX } from '../wire/constants.js';
import { OutBuffer } from '../wire/outbuf.js';
import { homePath } from '../store/path.js';
import type { Caller, ProcessIdentity } from '../store/caller.js';
import type { Transaction } from '../txn/transaction.js';
import type { Watch, Watcher } from '../watch/watch.js';
import type { Peer, Transport } from '../transport/transport.js';

/** The most input a connection holds while mayRead() says wait. */
const HELD_MAX = 1 << 20;

/** What a connection hands its complete requests to (the daemon's dispatcher). */
export interface RequestHandler {
  handle(conn: Connection, type: number, reqId: number, txId: number, buf: Buffer, start: number, end: number): void;
  /** Called once a batch of input has been handled: flush the replies of every connection. */
  settle(): void;
  /** Whether an unprivileged connection may have its next request handled now (quotas,
   *  throttling); when not, it holds its input until resumeInput(). */
  mayRead?(conn: Connection): boolean;
  /** Whether an unprivileged connection may receive an event for the absolute `path` (watch
   *  permissions, output bounds); `bytes` is the event's size. */
  admitEvent?(conn: Connection, path: string, bytes: number): boolean;
  /** The connection's transport took output: held input (of it, or of its domain) may go on. */
  drained?(conn: Connection): void;
}

/**
 * One client connection: its identity (domid, privilege), its framing state, its output
 * buffer, its watches and its open transactions (oxenstored's connection.ml in one class).
 */
export class Connection implements Caller, Watcher, Peer {
  readonly out = new OutBuffer();
  /** Watches by `path\0token`. */
  readonly watches = new Map<string, Watch>();
  readonly txs = new Map<number, Transaction>();
  target = -1;
  readonly home: string;
  /** The process behind a dom0 socket (SO_PEERCRED at accept), shared by its commits. */
  proc: ProcessIdentity | null = null;
  /** In the daemon's list of connections with output to flush. */
  dirty = false;
  closed = false;
  private lastTx = 0;
  /** A request split across reads: its bytes so far. */
  private partial: Buffer | null = null;
  private partialLen = 0;
  /** Input not handled yet because mayRead() said no; the transport is paused meanwhile. */
  private held: Buffer | null = null;
  /** Bytes handed to the transport so far. */
  private sent = 0;
  /** For unprivileged connections: the output offset at which each reply ends (a queue from
   *  replyHead), to count replies the peer has not taken yet (the `outstanding` quota). */
  private readonly replyEnds: number[] = [];
  private replyHead = 0;
  /** Watch events not queued because the domain's output was over its bound. */
  droppedEvents = 0;

  constructor(
    readonly id: number,
    readonly domid: number,
    readonly privileged: boolean,
    private readonly transport: Transport,
    private readonly handler: RequestHandler,
    private readonly markDirty: (c: Connection) => void,
  ) {
    this.home = homePath(domid);
  }

  /** Parses every complete request of a chunk in place; keeps a trailing partial one. An
   *  unprivileged connection asks mayRead() before each request and, when told to wait,
   *  holds the rest of the chunk and pauses its transport. */
  onData(chunk: Buffer): void {
    if (this.closed) return;
    const gated = !this.privileged && this.handler.mayRead !== undefined;
    if (this.held !== null) {
      // A paused transport delivers at most what it had already read; a peer that keeps
      // sending past that is broken (or the transport ignores pause): drop it.
      if (this.held.length + chunk.length > HELD_MAX) return this.violation();
      this.held = Buffer.concat([this.held, chunk]);
      return;
    }
    if (gated && !this.handler.mayRead!(this)) return this.hold(chunk, 0);
    let pos = 0;
    const n = chunk.length;
    if (this.partialLen > 0) {
      pos = this.fillPartial(chunk);
      if (pos < 0) return;
    }
    while (!this.closed && n - pos >= HEADER_SIZE) {
      const len = chunk.readUInt32LE(pos + 12);
      if (len > PAYLOAD_MAX) return this.violation();
      if (n - pos - HEADER_SIZE < len) break;
      if (gated && !this.handler.mayRead!(this)) {
        this.hold(chunk, pos);
        this.handler.settle();
        return;
      }
      const start = pos + HEADER_SIZE;
      this.handler.handle(this, chunk.readUInt32LE(pos), chunk.readUInt32LE(pos + 4), chunk.readUInt32LE(pos + 8), chunk, start, start + len);
      pos = start + len;
    }
    if (pos < n && !this.closed) {
      if (this.partial === null) this.partial = Buffer.allocUnsafe(HEADER_SIZE + PAYLOAD_MAX);
      chunk.copy(this.partial, 0, pos, n);
      this.partialLen = n - pos;
    }
    this.handler.settle();
  }

  /** Completes the pending partial request from `chunk`; returns the bytes used, or -1 when
   *  the chunk was all consumed (or the connection closed). */
  private fillPartial(chunk: Buffer): number {
    const p = this.partial!;
    let used = 0;
    if (this.partialLen < HEADER_SIZE) {
      used = Math.min(HEADER_SIZE - this.partialLen, chunk.length);
      chunk.copy(p, this.partialLen, 0, used);
      this.partialLen += used;
      if (this.partialLen < HEADER_SIZE) return -1;
    }
    const len = p.readUInt32LE(12);
    if (len > PAYLOAD_MAX) {
      this.violation();
      return -1;
    }
    const want = HEADER_SIZE + len - this.partialLen;
    const take = Math.min(want, chunk.length - used);
    chunk.copy(p, this.partialLen, used, used + take);
    this.partialLen += take;
    used += take;
    if (take < want) return -1;
    this.partialLen = 0;
    this.handler.handle(this, p.readUInt32LE(0), p.readUInt32LE(4), p.readUInt32LE(8), p, HEADER_SIZE, HEADER_SIZE + len);
    if (used === chunk.length) {
      this.handler.settle();
      return -1;
    }
    return used;
  }

  /** Keeps unhandled input (a copy: the transport may reuse its buffer) and pauses. */
  private hold(chunk: Buffer, pos: number): void {
    this.held = Buffer.from(chunk.subarray(pos));
    this.transport.pause();
  }

  /** Handles held input if mayRead() now allows it (after a drain, a throttle's end). */
  resumeInput(): void {
    if (this.closed || this.held === null) return;
    if (this.handler.mayRead !== undefined && !this.handler.mayRead(this)) return;
    const h = this.held;
    this.held = null;
    this.transport.resume();
    this.onData(h);
  }

  /** Whether input waits (held) for mayRead(). */
  get holding(): boolean {
    return this.held !== null;
  }

  /** The transport's pending output was (partly) taken by the peer. */
  drained(): void {
    if (this.handler.drained !== undefined) this.handler.drained(this);
    else this.resumeInput();
  }

  /** Notes the end of a reply just queued (unprivileged connections: `outstanding`). */
  replied(): void {
    if (!this.privileged) this.replyEnds.push(this.sent + this.out.len);
  }

  /** Replies queued but not yet taken by the peer. */
  outstanding(): number {
    const taken = this.sent - this.transport.pending;
    const ends = this.replyEnds;
    while (this.replyHead < ends.length && ends[this.replyHead] <= taken) this.replyHead++;
    if (this.replyHead > 64 && this.replyHead * 2 > ends.length) {
      ends.splice(0, this.replyHead);
      this.replyHead = 0;
    }
    return ends.length - this.replyHead;
  }

  /** Output bytes queued here and in the transport, not yet taken by the peer. */
  backlog(): number {
    return this.out.len + this.transport.pending;
  }

  /** A request longer than the protocol allows: the C daemon drops such a connection. */
  private violation(): void {
    this.close();
  }

  /** Output was queued: flush it with the rest of this batch. */
  touched(): void {
    if (!this.dirty) {
      this.dirty = true;
      this.markDirty(this);
    }
  }

  /** Queues one watch event; `path` (the absolute changed path) is absent for the initial
   *  event of a WATCH, which is always sent. */
  deliver(epath: string, token: string, path?: string): void {
    if (this.closed) return;
    if (path !== undefined && !this.privileged && this.handler.admitEvent !== undefined) {
      if (!this.handler.admitEvent(this, path, HEADER_SIZE + epath.length + token.length + 2)) return;
    }
    const out = this.out;
    out.begin(Op.WATCH_EVENT, 0, 0);
    out.putString0(epath);
    out.putString0(token);
    // Events over the payload limit are dropped, as the C daemon does.
    if (out.payloadSize() > PAYLOAD_MAX) out.cancel();
    else out.end();
    this.touched();
  }

  flush(): void {
    this.dirty = false;
    if (this.out.len > 0 && !this.closed) {
      this.sent += this.out.len;
      this.transport.write(this.out.take());
    }
  }

  /** The next transaction id: per connection, from 1, skipping 0 and ids in use. */
  nextTxId(): number {
    do this.lastTx = (this.lastTx + 1) >>> 0;
    while (this.lastTx === 0 || this.txs.has(this.lastTx));
    return this.lastTx;
  }

  onClose?: () => void;

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.held = null;
    this.transport.close();
    this.onClose?.();
  }
}
