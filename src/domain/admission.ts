import type { ErrorName } from '../wire/constants.js';
import { logger } from '../util/log.js';
import type { Domain, DomainConnection, Domains } from './domains.js';

/** Bytes a watch costs its domain in the memory quota, beyond its path and token. */
const WATCH_OVERHEAD = 64;
/** Bytes each node a transaction touched costs its domain in the memory quota. */
const TOUCH_OVERHEAD = 64;

/** What admission needs to know of a guest connection (server/connection.ts). */
export interface AdmittedConnection extends DomainConnection {
  readonly privileged: boolean;
  readonly domid: number;
  /** Its watches (path and token sizes count in `memory`). */
  readonly watches: ReadonlyMap<string, { readonly path: string; readonly token: string }>;
  /** Its open transactions: the bytes their changes carry, the nodes they touched. */
  readonly txs: ReadonlyMap<number, { readonly bytes: number; readonly view: { readonly touches: { readonly size: number } } }>;
  /** Replies queued but not yet taken by the peer. */
  outstanding(): number;
  /** Output bytes queued, not yet taken by the peer. */
  backlog(): number;
  /** Input is held until resumeInput() (throttled or over a quota). */
  readonly holding: boolean;
  resumeInput(): void;
  /** Events not queued because the domain's memory was full. */
  droppedEvents: number;
}

/** What a domain uses of its quotas (CONTROL quota <domid>). */
export interface Usage {
  nodes: number;
  watches: number;
  transactions: number;
  outstanding: number;
  memory: number;
}

/**
 * The quotas that are not the operations' own (reference §7; C domain.c, oxenstored
 * quota.ml): admission of watches, transactions and memory, input throttling (outstanding
 * replies, queued output, conflict blame) and the usage report. The operations' own quotas
 * (nodes, node-size, path-max…) are checked by store/ops.ts through the domain table.
 */
export class Admission<C extends AdmittedConnection> {
  /** Request counter: a domain's memory sum (without output) is computed once per request. */
  private requestSeq = 0;
  private readonly memoCache = new Map<number, { seq: number; bytes: number }>();

  /** `watchQuotaE2big`: the watch quota as C 4.17–4.21 apply it (E2BIG once a domain is past
   *  it, so quota + 1 watches fit); else as C 4.22 (ENOSPC at the quota). */
  constructor(
    private readonly domains: Domains<C>,
    private readonly watchQuotaE2big = false,
  ) {}

  /** A new request starts: memory sums of the last one are stale. */
  nextRequest(): void {
    this.requestSeq++;
  }

  /** Admission of one more watch: the domain's `watches` quota (all its connections). */
  admitWatch(c: C): ErrorName | null {
    if (!this.watchQuotaE2big) return this.admitOne(c, 'watches', watchCount);
    if (c.privileged) return null;
    const dom = this.domains.get(c.domid);
    const most = dom?.quota.get('watches') ?? 0;
    if (dom === undefined || most === 0) return null;
    let n = 0;
    for (const x of dom.conns) n += x.watches.size;
    return n > most ? 'E2BIG' : null;
  }

  /** Admission of one more open transaction: the domain's `transactions` quota. */
  admitTransaction(c: C): ErrorName | null {
    return this.admitOne(c, 'transactions', txCount);
  }

  private admitOne(c: C, quota: 'watches' | 'transactions', count: (x: C) => number): ErrorName | null {
    if (c.privileged) return null;
    const dom = this.domains.get(c.domid);
    if (dom === undefined) return null;
    const most = dom.quota.get(quota);
    if (most === 0) return null;
    let n = 0;
    for (const x of dom.conns) n += count(x);
    return n >= most ? 'ENOSPC' : null;
  }

  /** Admission of a request that may add `bytes` to its domain's memory: ENOMEM past the
   *  hard `memory` quota; a log warning (once) past `soft-memory`. */
  admitMemory(c: C, bytes: number): ErrorName | null {
    const dom = this.domains.get(c.domid);
    if (dom === undefined) return null;
    const used = this.memoryOf(dom);
    const soft = dom.quota.get('soft-memory');
    if (soft > 0 && used > soft) {
      if (!dom.softWarned) logger.warn(`domain ${dom.domid} uses ${used} bytes, over its soft-memory quota ${soft}`);
      dom.softWarned = true;
    } else dom.softWarned = false;
    const hard = dom.quota.get('memory');
    return hard > 0 && used + bytes > hard ? 'ENOMEM' : null;
  }

  /** Whether an event of `bytes` still fits the domain's `memory` quota (reference §5.7);
   *  counts the event as dropped when not. */
  admitEvent(c: C, bytes: number): boolean {
    const dom = this.domains.get(c.domid);
    if (dom === undefined) return true;
    const hard = dom.quota.get('memory');
    if (hard > 0 && this.memoryOf(dom) + bytes > hard) {
      c.droppedEvents++;
      return false;
    }
    return true;
  }

  /** A domain's memory, bytes: its nodes, watches, transactions and queued output. */
  memoryOf(dom: Domain<C>): number {
    let memo = this.memoCache.get(dom.domid);
    if (memo === undefined || memo.seq !== this.requestSeq) {
      let bytes = this.domains.ownedBytes(dom.domid);
      for (const c of dom.conns) {
        for (const w of c.watches.values()) bytes += w.path.length + w.token.length + WATCH_OVERHEAD;
        for (const tx of c.txs.values()) bytes += tx.bytes + TOUCH_OVERHEAD * tx.view.touches.size;
      }
      memo = { seq: this.requestSeq, bytes };
      this.memoCache.set(dom.domid, memo);
    }
    return memo.bytes + backlogOf(dom);
  }

  /** Whether a guest connection's next request may be handled now: not while the domain is
   *  throttled (fairness), while `outstanding` replies wait for the peer, or while the
   *  domain's queued output alone fills its `memory` quota. */
  mayRead(c: C): boolean {
    const dom = this.domains.get(c.domid);
    if (dom === undefined) return true;
    if (dom.throttledUntil !== 0) {
      const wait = dom.throttledUntil - performance.now();
      if (wait > 0) {
        wakeLater(dom, wait);
        return false;
      }
      dom.throttledUntil = 0;
    }
    const most = dom.quota.get('outstanding');
    if (most > 0 && c.outstanding() >= most) return false;
    const hard = dom.quota.get('memory');
    return hard === 0 || backlogOf(dom) < hard;
  }

  /** A guest connection's transport took output: its domain's held input may go on. */
  drained(c: C): void {
    const dom = this.domains.get(c.domid);
    if (dom === undefined) return c.resumeInput();
    resumeHeld(dom);
  }

  /** Quotas changed (SET_QUOTA, CONTROL quota set): held input may go on. */
  quotasChanged(): void {
    for (const dom of this.domains.list()) resumeHeld(dom);
  }

  /** The domain left: forget its memory sum. */
  forget(domid: number): void {
    this.memoCache.delete(domid);
  }

  /** What a domain uses of its quotas. */
  usageOf(dom: Domain<C>): Usage {
    let watches = 0;
    let transactions = 0;
    let outstanding = 0;
    for (const c of dom.conns) {
      watches += c.watches.size;
      transactions += c.txs.size;
      outstanding += c.outstanding();
    }
    return { nodes: this.domains.owned(dom.domid), watches, transactions, outstanding, memory: this.memoryOf(dom) };
  }
}

const watchCount = (c: AdmittedConnection): number => c.watches.size;
const txCount = (c: AdmittedConnection): number => c.txs.size;

function backlogOf<C extends AdmittedConnection>(dom: Domain<C>): number {
  let n = 0;
  for (const c of dom.conns) n += c.backlog();
  return n;
}

function resumeHeld<C extends AdmittedConnection>(dom: Domain<C>): void {
  for (const x of dom.conns) if (x.holding) x.resumeInput();
}

/** Resumes the domain's held input once its throttle ends (one timer per domain). */
function wakeLater<C extends AdmittedConnection>(dom: Domain<C>, ms: number): void {
  if (dom.throttleTimer !== null) return;
  dom.throttleTimer = setTimeout(() => {
    dom.throttleTimer = null;
    resumeHeld(dom);
  }, Math.ceil(ms));
  dom.throttleTimer.unref();
}
