import type { Transport } from '../transport/transport.js';
import { RingIndexError, XENSTORE_ERROR_PROTO, XENSTORE_ERROR_RINGIDX, XENSTORE_PAYLOAD_MAX, type XenstoreRing } from './ring.js';

/** xs_wire.h `struct xsd_sockmsg`: type, req_id, tx_id, len (4 × uint32). */
const XSD_SOCKMSG_SIZE = 16;

/** What a RingTransport needs of the Connection it feeds (server/connection.ts). */
export interface RingPeer {
  onData(chunk: Buffer): void;
  drained(): void;
  close(): void;
}

/**
 * One connection's byte stream over a guest's ring page (reference §9), as a Transport:
 *
 * - input: `req[]` is read on service() (an event on the domain's port, or resume()) and
 *   handed to the connection; while paused, `req[]` is left alone so the guest's ring fills
 *   and the guest waits (flow control guest → daemon);
 * - output: write() copies into `rsp[]` as far as `rsp_cons` allows and queues the rest
 *   (`pending`); service() copies more once the guest has consumed, and then tells the
 *   connection drained() (flow control daemon → guest);
 * - the event channel is signalled (notify) once after each step that moved data, as the C
 *   daemon's writechn()/readchn() do.
 *
 * A broken guest (impossible indexes: XSA-38; a message length over 4096, checked here as
 * the input is read) gets `error` = XENSTORE_ERROR_RINGIDX / _PROTO and is ignored from
 * then on, as the C daemon's ignore_connection(): the page stays mapped and the domain
 * introduced until it is released (XSA-325). A transport is detached (its ring given to a
 * new connection, or unmapped) with detach(): it then never touches the page again.
 */
export class RingTransport implements Transport {
  conn: RingPeer | null = null;
  private readonly queue: Buffer[] = [];
  private queueHead = 0;
  /** Offset in queue[queueHead] already copied. */
  private headOff = 0;
  private queued = 0;
  private paused = false;
  private closed = false;
  private detached = false;
  /** Inside service(): notifications are deferred to its end. */
  private depth = 0;
  private mustNotify = false;
  private resumeScheduled = false;
  /** Input framing: header bytes so far, payload bytes still to come. */
  private readonly header = Buffer.alloc(XSD_SOCKMSG_SIZE);
  private headerFill = 0;
  private bodyLeft = 0;
  /** Why the ring was given up (XENSTORE_ERROR_*), 0 while it is served. */
  brokenWith = 0;

  /**
   * `ring`: the page; `notify`: signals the domain's event channel (xenevtchn_notify on the
   * local port); `onBroken`: told once when the guest broke the protocol (for logging).
   */
  constructor(
    private readonly ring: XenstoreRing,
    private readonly notify: () => void,
    private readonly onBroken: (code: number, why: string) => void = () => {},
  ) {}

  get pending(): number {
    return this.queued;
  }

  /** Queues bytes for the guest and copies what fits now. Never throws. */
  write(data: Buffer): void {
    if (this.closed || this.detached || data.length === 0) return;
    this.queue.push(data);
    this.queued += data.length;
    const before = this.queued;
    this.step(() => this.pushOut());
    // Output copied onto the ring counts as taken (the C daemon's `outstanding` ends when the
    // reply is on the ring): tell the connection, after the current request, as a socket's
    // write callback would.
    if (this.queued < before) this.scheduleDrained();
  }

  private drainScheduled = false;

  private scheduleDrained(): void {
    if (this.drainScheduled) return;
    this.drainScheduled = true;
    setImmediate(() => {
      this.drainScheduled = false;
      if (this.active) this.conn?.drained();
    });
  }

  /** The connection is done with this ring (release, reconnection, daemon shutdown, or a
   *  request the connection refused): stop using it. Never an error by itself: violations
   *  are found here, in service(), before the connection sees them. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.dropQueue();
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    // The connection may resume from inside its own onData(): read the ring on the next
    // turn of the event loop, not re-entrantly.
    if (!this.resumeScheduled) {
      this.resumeScheduled = true;
      setImmediate(() => {
        this.resumeScheduled = false;
        this.service();
      });
    }
  }

  /** Stops using the ring for good (release, reconnection, daemon shutdown); no more
   *  accesses to the page, no more notifications. */
  detach(): void {
    this.detached = true;
    this.closed = true;
    this.dropQueue();
  }

  get active(): boolean {
    return !this.closed && !this.detached;
  }

  /**
   * An event on the domain's port (or resume): copy pending output the guest made room for,
   * read the request ring while not paused, signal the guest if anything moved. Cheap when
   * nothing changed (a spurious event): four index loads.
   */
  service(): void {
    if (!this.active) return;
    this.step(() => {
      if (this.queued > 0) {
        const before = this.queued;
        this.pushOut();
        if (this.queued < before && this.active) this.conn?.drained();
      }
      // At most one ring's worth per round, so one guest cannot hold the loop: the guest is
      // signalled and refills, which is another event.
      if (!this.paused && this.active) {
        const chunk = this.ring.read();
        if (chunk !== null) {
          this.mustNotify = true;
          if (!this.frame(chunk)) {
            this.broken(XENSTORE_ERROR_PROTO, 'a message longer than XENSTORE_PAYLOAD_MAX (4096 bytes)');
            return;
          }
          this.conn?.onData(chunk);
        }
      }
    });
  }

  /** Runs `f` with notifications deferred; notifies once at the end if data moved; turns a
   *  RingIndexError into the ring being marked broken. */
  private step(f: () => void): void {
    this.depth++;
    try {
      f();
    } catch (err) {
      if (!(err instanceof RingIndexError)) throw err;
      this.broken(XENSTORE_ERROR_RINGIDX, err.message);
    } finally {
      this.depth--;
    }
    if (this.depth === 0 && this.mustNotify && !this.detached) {
      this.mustNotify = false;
      this.notify();
    }
  }

  /** Follows the message framing of the input (16-byte xsd_sockmsg headers, then `len`
   *  bytes) to refuse a length over XENSTORE_PAYLOAD_MAX before the connection sees it, as
   *  the C daemon's read path does (ignore_connection(conn, XENSTORE_ERROR_PROTO)). */
  private frame(chunk: Buffer): boolean {
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      if (this.bodyLeft > 0) {
        const k = Math.min(this.bodyLeft, n - i);
        this.bodyLeft -= k;
        i += k;
        continue;
      }
      this.header[this.headerFill++] = chunk[i++];
      if (this.headerFill === XSD_SOCKMSG_SIZE) {
        this.headerFill = 0;
        const len = this.header.readUInt32LE(12);
        if (len > XENSTORE_PAYLOAD_MAX) return false;
        this.bodyLeft = len;
      }
    }
    return true;
  }

  private pushOut(): void {
    while (this.queued > 0) {
      const buf = this.queue[this.queueHead];
      const n = this.ring.write(buf, this.headOff);
      if (n === 0) break;
      this.mustNotify = true;
      this.headOff += n;
      this.queued -= n;
      if (this.headOff === buf.length) {
        this.queueHead++;
        this.headOff = 0;
        if (this.queueHead > 64 && this.queueHead * 2 > this.queue.length) {
          this.queue.splice(0, this.queueHead);
          this.queueHead = 0;
        }
      }
    }
    if (this.queued === 0) {
      this.queue.length = 0;
      this.queueHead = 0;
    }
  }

  private dropQueue(): void {
    this.queue.length = 0;
    this.queueHead = 0;
    this.headOff = 0;
    this.queued = 0;
  }

  /** Gives up on the ring: `error` = code, then the connection closes (its watches and
   *  transactions go, as ignore_connection() deletes them). */
  private broken(code: number, why: string): void {
    if (this.detached || this.brokenWith !== 0) return;
    this.brokenWith = code;
    this.ring.error = code;
    this.detached = true;
    this.dropQueue();
    this.onBroken(code, why);
    const c = this.conn;
    this.closed = true;
    c?.close();
  }
}
