/**
 * The xenstore ring page, server side: Xen's `struct xenstore_domain_interface`
 * (xen/include/public/io/xs_wire.h; reference §9), over any 4 KiB ArrayBuffer — a guest's
 * page mapped through libxengnttab (koffi.view), or a plain (Shared)ArrayBuffer in tests.
 *
 * Layout (byte offsets): `req[1024]` at 0 (guest → server), `rsp[1024]` at 1024 (server →
 * guest), then the uint32 fields `req_cons` 2048, `req_prod` 2052, `rsp_cons` 2056,
 * `rsp_prod` 2060, `server_features` 2064, `connection` 2068, `error` 2072, `evtchn_port`
 * 2076. Indexes are free-running uint32; the byte at stream offset x is at `x & 1023`; what
 * is in flight (`prod - cons` mod 2^32) is never over 1024, or the peer is broken.
 *
 * Every index and field is read and written as ONE aligned 32-bit access (Atomics on an
 * Int32Array): a byte-wise store (Buffer.writeUInt32LE) lets the guest see a torn index.
 * Atomics are sequentially consistent, which also gives the ordering the C daemon gets from
 * xen_mb()/xen_rmb() (`domain.c` writechn/readchn): the producer index is loaded before the
 * data is read, and the consumer/producer index stored after the data is copied.
 */

/** Bytes of each ring (xs_wire.h `XENSTORE_RING_SIZE`). */
export const XENSTORE_RING_SIZE = 1024;
/** Largest payload of one message (xs_wire.h `XENSTORE_PAYLOAD_MAX`). */
export const XENSTORE_PAYLOAD_MAX = 4096;
/** Size of the shared page. */
export const XENSTORE_PAGE_SIZE = 4096;

/** `server_features` bits (xs_wire.h). */
export const XENSTORE_SERVER_FEATURE_RECONNECTION = 1;
export const XENSTORE_SERVER_FEATURE_ERROR = 2;

/** `connection` values (xs_wire.h). */
export const XENSTORE_CONNECTED = 0;
export const XENSTORE_RECONNECT = 1;

/** `error` values (xs_wire.h). */
export const XENSTORE_ERROR_NONE = 0;
export const XENSTORE_ERROR_COMM = 1;
export const XENSTORE_ERROR_RINGIDX = 2;
export const XENSTORE_ERROR_PROTO = 3;

/** Byte offsets of the fields in `struct xenstore_domain_interface`. */
export const XS_REQ = 0;
export const XS_RSP = 1024;
const FIELDS = 2048;

/** Int32 slots (from offset 2048) of the fields. */
const REQ_CONS = 0;
const REQ_PROD = 1;
const RSP_CONS = 2;
const RSP_PROD = 3;
const SERVER_FEATURES = 4;
const CONNECTION = 5;
const ERROR = 6;
const EVTCHN_PORT = 7;

const MASK = XENSTORE_RING_SIZE - 1;

/** A ring whose indexes make no sense (`prod - cons` over XENSTORE_RING_SIZE): the C
 *  daemon's `check_indexes()` failure (xenstored_domain.c), answered with
 *  `error = XENSTORE_ERROR_RINGIDX` and the ring ignored for good. */
export class RingIndexError extends Error {
  constructor(
    readonly which: 'req' | 'rsp',
    readonly cons: number,
    readonly prod: number,
  ) {
    super(`${which} ring indexes out of range: cons ${cons}, prod ${prod}`);
  }
}

/**
 * The server's view of one `struct xenstore_domain_interface`. Pure logic over memory: it
 * never notifies (the caller signals the event channel when read()/write() moved data) and
 * never throws except RingIndexError for impossible indexes (XSA-38: indexes are read once,
 * checked, and every access is masked, so nothing outside the page is ever touched).
 */
export class XenstoreRing {
  private readonly bytes: Uint8Array;
  private readonly idx: Int32Array;

  /** `memory`: at least 4096 bytes (the page); `offset`: where the page starts in it. */
  constructor(memory: ArrayBufferLike, offset = 0) {
    if (memory.byteLength - offset < XENSTORE_PAGE_SIZE) throw new RangeError('a xenstore ring page is 4096 bytes');
    this.bytes = new Uint8Array(memory, offset, XENSTORE_PAGE_SIZE);
    this.idx = new Int32Array(memory, offset + FIELDS, 8);
  }

  private load(slot: number): number {
    return Atomics.load(this.idx, slot) >>> 0;
  }

  private store(slot: number, v: number): void {
    Atomics.store(this.idx, slot, v | 0);
  }

  /** Bytes the guest has written on `req[]` and the server not consumed yet (0..1024).
   *  Throws RingIndexError when `req_prod - req_cons` (mod 2^32) exceeds the ring. */
  requestBytes(): number {
    const cons = this.load(REQ_CONS);
    const prod = this.load(REQ_PROD);
    const n = (prod - cons) >>> 0;
    if (n > XENSTORE_RING_SIZE) throw new RingIndexError('req', cons, prod);
    return n;
  }

  /**
   * Consumes up to `max` bytes of `req[]` (everything available by default) and returns a
   * copy of them (wrapping at the ring's end), or null when the ring is empty; advances
   * `req_cons`. Like the C daemon's readchn(): indexes read once, bytes copied, then cons.
   * Throws RingIndexError (nothing consumed) for impossible indexes.
   */
  read(max = XENSTORE_RING_SIZE): Buffer | null {
    const cons = this.load(REQ_CONS);
    const prod = this.load(REQ_PROD);
    const avail = (prod - cons) >>> 0;
    if (avail > XENSTORE_RING_SIZE) throw new RingIndexError('req', cons, prod);
    const n = Math.min(avail, max);
    if (n === 0) return null;
    const out = Buffer.allocUnsafe(n);
    const start = cons & MASK;
    const first = Math.min(n, XENSTORE_RING_SIZE - start);
    out.set(this.bytes.subarray(XS_REQ + start, XS_REQ + start + first), 0);
    if (first < n) out.set(this.bytes.subarray(XS_REQ, XS_REQ + n - first), first);
    this.store(REQ_CONS, cons + n);
    return out;
  }

  /** Free bytes on `rsp[]` (0..1024). Throws RingIndexError for impossible indexes (a guest
   *  that writes `rsp_cons` beyond `rsp_prod`, or one writing the response ring). */
  responseRoom(): number {
    const cons = this.load(RSP_CONS);
    const prod = this.load(RSP_PROD);
    const used = (prod - cons) >>> 0;
    if (used > XENSTORE_RING_SIZE) throw new RingIndexError('rsp', cons, prod);
    return XENSTORE_RING_SIZE - used;
  }

  /**
   * Copies as much of `data[from..]` onto `rsp[]` as there is room for (wrapping at the
   * end), then advances `rsp_prod`; returns the number of bytes copied (0 when full). Like
   * the C daemon's writechn(). Throws RingIndexError (nothing written) for bad indexes.
   */
  write(data: Uint8Array, from = 0): number {
    const cons = this.load(RSP_CONS);
    const prod = this.load(RSP_PROD);
    const used = (prod - cons) >>> 0;
    if (used > XENSTORE_RING_SIZE) throw new RingIndexError('rsp', cons, prod);
    const n = Math.min(XENSTORE_RING_SIZE - used, data.length - from);
    if (n <= 0) return 0;
    const start = prod & MASK;
    const first = Math.min(n, XENSTORE_RING_SIZE - start);
    this.bytes.set(data.subarray(from, from + first), XS_RSP + start);
    if (first < n) this.bytes.set(data.subarray(from + first, from + n), XS_RSP);
    this.store(RSP_PROD, prod + n);
    return n;
  }

  /** Sets the four indexes to 0 (the C daemon's domain_conn_reset(), at INTRODUCE and on a
   *  reconnection): any half-written message in either direction is forgotten. */
  reset(): void {
    this.store(REQ_CONS, 0);
    this.store(REQ_PROD, 0);
    this.store(RSP_CONS, 0);
    this.store(RSP_PROD, 0);
  }

  /** `server_features`: set by the server only (XENSTORE_SERVER_FEATURE_*). */
  get serverFeatures(): number {
    return this.load(SERVER_FEATURES);
  }

  set serverFeatures(v: number) {
    this.store(SERVER_FEATURES, v);
  }

  /** `connection`: the guest sets XENSTORE_RECONNECT, the server XENSTORE_CONNECTED. */
  get connection(): number {
    return this.load(CONNECTION);
  }

  set connection(v: number) {
    this.store(CONNECTION, v);
  }

  /** `error`: XENSTORE_ERROR_*, written by the server when it gives up on the ring. */
  get error(): number {
    return this.load(ERROR);
  }

  set error(v: number) {
    this.store(ERROR, v);
  }

  /** `evtchn_port` (newer xs_wire.h: filled in by Xen for dom0less guests); 0 if unused. */
  get evtchnPort(): number {
    return this.load(EVTCHN_PORT);
  }

  /** The four indexes, for diagnostics: [req_cons, req_prod, rsp_cons, rsp_prod]. */
  indexes(): [number, number, number, number] {
    return [this.load(REQ_CONS), this.load(REQ_PROD), this.load(RSP_CONS), this.load(RSP_PROD)];
  }
}

/**
 * The guest's half of the same protocol, for tests and benchmarks (what Linux's xenbus
 * frontend does in xb_write/xb_read): writes requests on `req[]`, reads `rsp[]`.
 */
export class GuestRing {
  private readonly bytes: Uint8Array;
  private readonly idx: Int32Array;

  constructor(memory: ArrayBufferLike, offset = 0) {
    this.bytes = new Uint8Array(memory, offset, XENSTORE_PAGE_SIZE);
    this.idx = new Int32Array(memory, offset + FIELDS, 8);
  }

  /** Copies as much of `data[from..]` as fits on `req[]`; returns the bytes written. */
  write(data: Uint8Array, from = 0): number {
    const cons = Atomics.load(this.idx, REQ_CONS) >>> 0;
    const prod = Atomics.load(this.idx, REQ_PROD) >>> 0;
    const n = Math.min(XENSTORE_RING_SIZE - ((prod - cons) >>> 0), data.length - from);
    if (n <= 0) return 0;
    for (let i = 0; i < n; i++) this.bytes[XS_REQ + ((prod + i) & MASK)] = data[from + i];
    Atomics.store(this.idx, REQ_PROD, (prod + n) | 0);
    return n;
  }

  /** Takes everything on `rsp[]` (null if empty). */
  read(): Buffer | null {
    const cons = Atomics.load(this.idx, RSP_CONS) >>> 0;
    const prod = Atomics.load(this.idx, RSP_PROD) >>> 0;
    const n = (prod - cons) >>> 0;
    if (n === 0 || n > XENSTORE_RING_SIZE) return null;
    const out = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) out[i] = this.bytes[XS_RSP + ((cons + i) & MASK)];
    Atomics.store(this.idx, RSP_CONS, (cons + n) | 0);
    return out;
  }

  /** Sets one raw index (tests forging XSA-38 style values): 0 req_cons … 3 rsp_prod. */
  setIndex(slot: 0 | 1 | 2 | 3, v: number): void {
    Atomics.store(this.idx, slot, v | 0);
  }

  get error(): number {
    return Atomics.load(this.idx, ERROR) >>> 0;
  }

  get connection(): number {
    return Atomics.load(this.idx, CONNECTION) >>> 0;
  }

  set connection(v: number) {
    Atomics.store(this.idx, CONNECTION, v | 0);
  }

  get serverFeatures(): number {
    return Atomics.load(this.idx, SERVER_FEATURES) >>> 0;
  }
}
