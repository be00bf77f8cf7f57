import { opName, type ErrorName } from '../wire/constants.js';
import { logger } from '../util/log.js';
import type { Change } from '../store/change.js';
import type { Commit } from '../history/commit.js';
import { DOM0, releaseFromTree } from '../domain/cleanup.js';
import { Domains, type Domain } from '../domain/domains.js';
import { RecentWrites } from '../domain/fairness.js';
import { Ledger } from '../domain/ledger.js';
import type { Node } from '../store/node.js';
import { silent, type DomainCheck } from '../store/ops.js';
import { isSpecial, parentOf } from '../store/path.js';
import { accessFor, ownerOf, PERM_READ, withoutDomain } from '../store/perms.js';
import { Store } from '../history/store.js';
import { lookup } from '../store/tree.js';
import { firstConflict } from '../txn/merge.js';
import type { Transaction } from '../txn/transaction.js';
import { WatchIndex } from '../watch/watches.js';
import type { AccessLog } from './accesslog.js';
import { Connection, type RequestHandler } from './connection.js';
import { dispatch } from './process.js';
import { Pruner } from '../history/pruner.js';
import type { DomainBackend, Transport } from '../transport/transport.js';

export interface DaemonOptions {
  /** Serve GET_FEATURE/SET_FEATURE (C ≥ 4.21) and GET_QUOTA/SET_QUOTA (C ≥ 4.22). Off:
   *  ENOSYS, exactly as Debian 12's 4.17. */
  features: boolean;
  accessLog: AccessLog | null;
  /** History retention tiers (src/history/retention.ts); default: its DEFAULT_RETENTION. */
  retention?: string;
  /** Continue this commit's history (a restart from an exported repository). */
  head?: Commit;
}

export const DEFAULT_OPTIONS: DaemonOptions = { features: true, accessLog: null };

/** Bytes a watch costs its domain in the memory quota, beyond its path and token. */
const WATCH_OVERHEAD = 64;
/** Bytes each node a transaction touched costs its domain in the memory quota. */
const TOUCH_OVERHEAD = 64;

/**
 * The daemon's state and its request loop: store, watches, domains, connections. It owns no
 * I/O: transports (the Unix socket server, guest sockets, later rings) hand it bytes through
 * Connection, and a DomainBackend serves the domains it introduces.
 */
export class Daemon implements RequestHandler {
  readonly store: Store;
  readonly watches = new WatchIndex();
  readonly domains = new Domains<Connection>();
  readonly connections = new Set<Connection>();
  /** The accounting of the request being handled (applied when it publishes). */
  readonly ledger = new Ledger(this.domains);
  /** Accounting that counts nothing (privileged transactions' branches). */
  readonly uncounted: DomainCheck = silent(this.domains);
  /** Writes of unprivileged domains, for the conflict blame (domain/fairness.ts). */
  readonly recent = new RecentWrites();
  /** Serves introduced domains (guest sockets), or null: domains have no connections. */
  backend: DomainBackend | null = null;
  /** The live git mirror (`--git-dir`), for its statistics. */
  mirror: { readonly batches: number; readonly objects: number; readonly lastLag: number } | null = null;
  /** Permission lists of the special watch paths (reference §4.5). */
  private readonly specialPerms = new Map<string, string>([
    ['@introduceDomain', 'n0\0'],
    ['@releaseDomain', 'n0\0'],
  ]);
  /** SET_FEATURE values of domains not yet introduced. */
  private readonly features = new Map<number, number>();
  private readonly dirty: Connection[] = [];
  private lastConnId = 0;
  /** History retention, in small steps between batches of requests. */
  readonly pruner: Pruner;
  /** The root when the current request started: events about a node are shown to whoever
   *  could read it, or its parent, before or after the change (reference §5.6). */
  private preRoot: Node;
  /** Request counter: a domain's memory sum (without output) is computed once per request. */
  private requestSeq = 0;
  private readonly memoCache = new Map<number, { seq: number; bytes: number }>();

  constructor(readonly options: DaemonOptions = DEFAULT_OPTIONS) {
    this.store = new Store({ retention: options.retention, head: options.head });
    this.pruner = new Pruner(this.store.history);
    this.preRoot = this.store.root;
    this.domains.recount(this.store.root);
  }

  connect(transport: Transport, domid: number, privileged: boolean): Connection {
    const c = new Connection(++this.lastConnId, domid, privileged, transport, this, (x) => this.dirty.push(x));
    this.connections.add(c);
    c.onClose = () => this.disconnect(c);
    if (!privileged) {
      const dom = this.domains.get(domid);
      if (dom === undefined) {
        // The domain went away while this connection was being made.
        c.close();
        return c;
      }
      c.target = dom.target;
      dom.conns.add(c);
    }
    return c;
  }

  private disconnect(c: Connection): void {
    this.resetConnection(c);
    this.connections.delete(c);
    if (!c.privileged) this.domains.get(c.domid)?.conns.delete(c);
  }

  handle(c: Connection, type: number, req: number, txId: number, buf: Buffer, s: number, e: number): void {
    const log = this.options.accessLog;
    const mark = c.out.len;
    if (log !== null) log.request(c, type, req, txId, buf, s, e);
    this.preRoot = this.store.root;
    this.requestSeq++;
    try {
      dispatch(this, c, type, req, txId, buf, s, e);
    } catch (err) {
      // A bug must cost one request, never the daemon: answer EIO and go on.
      logger.error(`${opName(type)} from conn ${c.id}: ${(err as Error).stack ?? String(err)}`);
      this.watches.discard();
      this.ledger.reset();
      c.out.len = mark;
      c.out.error(req, txId, 'EIO');
    }
    if (log !== null) log.replies(c, c.out.buf, mark, c.out.len);
    c.replied();
    c.touched();
  }

  settle(): void {
    const d = this.dirty;
    for (let i = 0; i < d.length; i++) d[i].flush();
    d.length = 0;
    this.pruner.schedule();
  }

  /** Drops a connection's watches and open transactions (RESET_WATCHES, close). */
  resetConnection(c: Connection): void {
    for (const w of c.watches.values()) this.watches.remove(w);
    c.watches.clear();
    c.txs.clear();
  }

  // ------------------------------------------------------------------ quotas

  /** Admission of one more watch: the domain's `watches` quota (all its connections). */
  admitWatch(c: Connection): ErrorName | null {
    if (c.privileged) return null;
    const dom = this.domains.get(c.domid);
    if (dom === undefined) return null;
    const most = dom.quota.get('watches');
    if (most === 0) return null;
    let n = 0;
    for (const x of dom.conns) n += x.watches.size;
    return n >= most ? 'ENOSPC' : null;
  }

  /** Admission of one more open transaction: the domain's `transactions` quota. */
  admitTransaction(c: Connection): ErrorName | null {
    if (c.privileged) return null;
    const dom = this.domains.get(c.domid);
    if (dom === undefined) return null;
    const most = dom.quota.get('transactions');
    if (most === 0) return null;
    let n = 0;
    for (const x of dom.conns) n += x.txs.size;
    return n >= most ? 'ENOSPC' : null;
  }

  /** Admission of a request that may add `bytes` to its domain's memory: ENOMEM past the
   *  hard `memory` quota; a log warning (once) past `soft-memory`. */
  admitMemory(c: Connection, bytes: number): ErrorName | null {
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

  /** A domain's memory: its nodes, watches, transactions and queued output (reference §7). */
  memoryOf(dom: Domain<Connection>): number {
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
    return memo.bytes + this.backlogOf(dom);
  }

  private backlogOf(dom: Domain<Connection>): number {
    let n = 0;
    for (const c of dom.conns) n += c.backlog();
    return n;
  }

  /** Whether a guest connection's next request may be handled now: not while the domain is
   *  throttled (fairness), while `outstanding` replies wait for the peer, or while the
   *  domain's queued output alone fills its `memory` quota. */
  mayRead(c: Connection): boolean {
    const dom = this.domains.get(c.domid);
    if (dom === undefined) return true;
    if (dom.throttledUntil !== 0) {
      const wait = dom.throttledUntil - performance.now();
      if (wait > 0) {
        this.wakeLater(dom, wait);
        return false;
      }
      dom.throttledUntil = 0;
    }
    const most = dom.quota.get('outstanding');
    if (most > 0 && c.outstanding() >= most) return false;
    const hard = dom.quota.get('memory');
    return hard === 0 || this.backlogOf(dom) < hard;
  }

  /** A guest connection's transport took output: its domain's held input may go on. */
  drained(c: Connection): void {
    const dom = this.domains.get(c.domid);
    if (dom === undefined) return c.resumeInput();
    for (const x of dom.conns) if (x.holding) x.resumeInput();
  }

  private wakeLater(dom: Domain<Connection>, ms: number): void {
    if (dom.throttleTimer !== null) return;
    dom.throttleTimer = setTimeout(() => {
      dom.throttleTimer = null;
      for (const x of dom.conns) if (x.holding) x.resumeInput();
    }, Math.ceil(ms));
    dom.throttleTimer.unref();
  }

  /** Quotas changed (SET_QUOTA, CONTROL quota set): held input may go on. */
  quotasChanged(): void {
    for (const dom of this.domains.list()) for (const x of dom.conns) if (x.holding) x.resumeInput();
  }

  /** Whether a guest connection gets the event for `path`: only when it may read the node
   *  or its parent, before or after the change (reference §5.6; the special nodes: their own
   *  perms, §4.5); and only while its domain's memory has room for it (reference §5.7). */
  admitEvent(c: Connection, path: string, bytes: number): boolean {
    if (!this.canSee(c, path)) return false;
    const dom = this.domains.get(c.domid);
    if (dom === undefined) return true;
    const hard = dom.quota.get('memory');
    if (hard > 0 && this.memoryOf(dom) + bytes > hard) {
      c.droppedEvents++;
      return false;
    }
    return true;
  }

  private canSee(c: Connection, path: string): boolean {
    if (isSpecial(path)) {
      const perms = this.specialPerms.get(path);
      return perms !== undefined && this.readable(c, perms);
    }
    const post = this.store.root;
    if (this.readableIn(c, post, path)) return true;
    return this.preRoot !== post && this.readableIn(c, this.preRoot, path);
  }

  private readableIn(c: Connection, root: Node, path: string): boolean {
    const n = lookup(root, path);
    if (n !== undefined && this.readable(c, n.perms)) return true;
    if (path === '/') return false;
    const p = lookup(root, parentOf(path));
    return p !== undefined && this.readable(c, p.perms);
  }

  private readable(c: Connection, perms: string): boolean {
    return (accessFor(perms, c.domid, c.target, this.domains) & PERM_READ) !== 0;
  }

  // ------------------------------------------------------------------ fairness

  /** A transaction of `c` failed with EAGAIN: blame the domain whose write caused it. */
  blame(c: Connection, tx: Transaction): void {
    const path = firstConflict(tx.view, this.store.root);
    if (path === null) return;
    const culprit = this.recent.culprit(tx.since, path, c.domid);
    if (culprit < 0) return;
    const dom = this.domains.get(culprit);
    if (dom === undefined) return;
    const now = performance.now();
    const wait = dom.credit.blame(now);
    if (wait > 0) dom.throttledUntil = Math.max(dom.throttledUntil, now + wait);
  }

  /** A change by `c` was published: remember who wrote what (for the conflict blame). */
  wrote(c: Connection, changes: readonly Change[]): void {
    if (!c.privileged) this.recent.record(c.domid, changes);
  }

  // ------------------------------------------------------------------ domains

  /** INTRODUCE: a new domain (fires @introduceDomain), or a re-introduced one (its
   *  connections lose their watches and transactions). */
  introduceDomain(domid: number, gfn = '0', evtchn = 1): void {
    const { domain, fresh } = this.domains.introduce(domid);
    if (!fresh) for (const c of domain.conns) this.resetConnection(c);
    if (domid !== 0) this.backend?.introduce(domid, gfn, evtchn, fresh);
    if (fresh) {
      this.watches.special('@introduceDomain');
      this.watches.flush();
    }
  }

  /** SET_TARGET: `dom` acts with the rights of `target` (-1: none), on all its connections. */
  setTarget(dom: Domain<Connection>, target: number): void {
    dom.target = target;
    for (const c of dom.conns) c.target = target;
  }

  /**
   * RELEASE: the domain's watches and transactions go first (it gets no events), then its
   * connections and its backend; then, as ONE commit by dom0, every node it owns is deleted
   * and every ACL entry naming it removed (firing the usual events for others); then
   * `@releaseDomain` fires. A reused domid starts from nothing.
   */
  releaseDomain(domid: number): void {
    const dom = this.domains.get(domid);
    if (dom === undefined) return;
    for (const c of dom.conns) this.resetConnection(c);
    for (const c of [...dom.conns]) c.close();
    this.backend?.release(domid);
    for (const other of this.domains.list()) if (other.target === domid) this.setTarget(other, -1);
    const head = this.store.begin();
    const log: Change[] = [];
    const ledger = this.ledger;
    ledger.reset();
    releaseFromTree(head, head.root, domid, ledger, this.watches, log);
    this.store.publish(head, DOM0.domid, log, null);
    ledger.commit();
    for (const [name, perms] of this.specialPerms) {
      const stripped = withoutDomain(perms, domid);
      if (stripped !== null) this.specialPerms.set(name, stripped);
    }
    this.domains.release(domid);
    this.memoCache.delete(domid);
    this.features.delete(domid);
    this.watches.special('@releaseDomain');
    this.watches.flush();
  }

  domainFeatures(domid: number): number | undefined {
    return this.features.get(domid) ?? (this.domains.isLive(domid) ? 0 : undefined);
  }

  setDomainFeatures(domid: number, value: number): ErrorName | null {
    if (this.domains.isLive(domid)) return 'EBUSY';
    this.features.set(domid, value);
    return null;
  }

  setSpecialPerms(c: Connection, path: string, perms: string): ErrorName | null {
    const old = this.specialPerms.get(path);
    if (old === undefined) return 'EINVAL';
    if (!c.privileged && ownerOf(old) !== c.domid && ownerOf(old) !== c.target) return 'EACCES';
    this.specialPerms.set(path, perms);
    return null;
  }

  /** A special node's permission list (GET_PERMS of `@introduceDomain`, `@releaseDomain`). */
  specialPermsOf(path: string): string | undefined {
    return this.specialPerms.get(path);
  }

  /** What a domain uses of its quotas (CONTROL quota <domid>). */
  usageOf(dom: Domain<Connection>): { nodes: number; watches: number; transactions: number; outstanding: number; memory: number } {
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
