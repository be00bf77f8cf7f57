import { FEATURE_WATCHDEPTH, opName, type ErrorName } from '../wire/constants.js';
import { logger } from '../util/log.js';
import type { Caller, ProcessIdentity } from '../store/caller.js';
import type { Commit } from '../history/commit.js';
import { Pruner } from '../history/pruner.js';
import { Store } from '../history/store.js';
import { WatchIndex } from '../watch/watches.js';
import { Admission } from '../domain/admission.js';
import { DOM0 } from '../domain/cleanup.js';
import { Domains, type Domain } from '../domain/domains.js';
import { RecentWrites } from '../domain/fairness.js';
import { SpecialNodes } from '../domain/specials.js';
import { canSee } from '../domain/visibility.js';
import type { ControlContext, MirrorStats, OpenTransaction } from '../control/context.js';
import type { Acceptor, DomainBackend, Transport } from '../transport/transport.js';
import type { AccessLog } from './accesslog.js';
import { Connection, type RequestHandler } from './connection.js';
import { DEFAULT_PROTOCOL, type Protocol } from './protocol.js';
import { Publisher, type Edit } from './publish.js';
import type { Request, RequestContext } from './request.js';
import { dispatch } from './requests.js';
import type { Services } from './services.js';

export interface DaemonOptions {
  /** The protocol level (server/protocol.ts); default: the current C daemon's. */
  protocol?: Protocol;
  accessLog?: AccessLog | null;
  /** History retention tiers (src/history/retention.ts); default: its DEFAULT_RETENTION. */
  retention?: string;
  /** Continue this commit's history (a restart from an exported repository). */
  head?: Commit;
}

/**
 * The daemon: the wiring of the store, watches, domains and connections, and the request
 * loop. It owns no I/O: transports (transport/) hand it bytes through Connection, and a
 * DomainBackend serves the domains it introduces. Requests run through the request table
 * (requests.ts); every change of the store through the Publisher (publish.ts); quotas and
 * throttling live in domain/admission.ts.
 */
export class Daemon implements Services, ControlContext, RequestHandler, Acceptor {
  readonly protocol: Protocol;
  readonly store: Store;
  readonly watches = new WatchIndex();
  readonly domains: Domains<Connection>;
  readonly admission: Admission<Connection>;
  readonly specials: SpecialNodes;
  /** Writes of unprivileged domains, for the conflict blame (domain/fairness.ts). */
  readonly recent = new RecentWrites();
  readonly connections = new Set<Connection>();
  /** History retention, in small steps between batches of requests. */
  readonly pruner: Pruner;
  /** Serves introduced domains (guest sockets, rings), or null: domains have no connections. */
  backend: DomainBackend | null = null;
  /** The live git mirror (`--git-dir`), for its statistics. */
  mirror: MirrorStats | null = null;
  readonly control: ControlContext = this;
  private readonly publisher: Publisher;
  private readonly accessLog: AccessLog | null;
  private readonly dirty: Connection[] = [];
  private lastConnId = 0;
  /** The one Request and RequestContext, refilled for every request (no allocation). */
  private readonly request: Request = { type: 0, reqId: 0, txId: 0, buf: Buffer.alloc(0), start: 0, end: 0 };
  private readonly ctx: RequestContext;

  constructor(options: DaemonOptions = {}) {
    this.protocol = options.protocol ?? DEFAULT_PROTOCOL;
    this.domains = new Domains<Connection>({ serverFeatures: this.protocol.serverFeatures });
    this.admission = new Admission<Connection>(this.domains, this.protocol.watchQuotaE2big);
    this.specials = new SpecialNodes(this.protocol.releaseDomainForAll);
    this.accessLog = options.accessLog ?? null;
    this.store = new Store({ retention: options.retention, head: options.head });
    this.pruner = new Pruner(this.store.history);
    this.publisher = new Publisher(this.store, this.domains, this.watches, this.recent, this.specials);
    this.domains.recount(this.store.root);
    this.ctx = { xs: this, conn: null as unknown as Connection, tx: null };
  }

  connect(transport: Transport, domid: number, privileged: boolean, proc: ProcessIdentity | null = null): Connection {
    const c = new Connection(++this.lastConnId, domid, privileged, transport, this, (x) => this.dirty.push(x));
    c.proc = proc;
    this.connections.add(c);
    this.accessLog?.connected(c);
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
    this.accessLog?.disconnected(c);
    this.resetConnection(c);
    this.connections.delete(c);
    if (!c.privileged) this.domains.get(c.domid)?.conns.delete(c);
  }

  handle(c: Connection, type: number, reqId: number, txId: number, buf: Buffer, start: number, end: number): void {
    const log = this.accessLog;
    const mark = c.out.len;
    if (log !== null) log.request(c, type, reqId, txId, buf, start, end);
    this.publisher.preRoot = this.store.root;
    this.admission.nextRequest();
    this.specials.nextRequest();
    const r = this.request;
    r.type = type;
    r.reqId = reqId;
    r.txId = txId;
    r.buf = buf;
    r.start = start;
    r.end = end;
    this.ctx.conn = c;
    try {
      dispatch(this.ctx, r);
    } catch (err) {
      // A bug must cost one request, never the daemon: answer EIO and go on.
      logger.error(`${opName(type)} from conn ${c.id}: ${(err as Error).stack ?? String(err)}`);
      this.watches.discard();
      c.out.len = mark;
      c.out.error(reqId, txId, 'EIO');
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

  mayRead(c: Connection): boolean {
    return this.admission.mayRead(c);
  }

  drained(c: Connection): void {
    this.admission.drained(c);
  }

  /** Whether a guest connection gets the event for `path`: it may see the node (reference
   *  §5.6) and its domain's memory has room for the event (§5.7). */
  admitEvent(c: Connection, path: string, bytes: number): boolean {
    return canSee(c, path, this.store.root, this.publisher.preRoot, this.specials, this.domains) && this.admission.admitEvent(c, bytes);
  }

  publish(who: Caller, edit: Edit): ErrorName | null {
    return this.publisher.publish(who, edit);
  }

  /** Drops a connection's watches and open transactions (RESET_WATCHES, close). */
  resetConnection(c: Connection): void {
    for (const w of c.watches.values()) this.watches.remove(w);
    c.watches.clear();
    c.txs.clear();
  }

  // ------------------------------------------------------------------ domains

  /** INTRODUCE: a new domain (fires @introduceDomain), or a re-introduced one (its
   *  connections lose their watches and transactions). */
  introduceDomain(domid: number, gfn = '0', evtchn = 1): void {
    const { domain, fresh } = this.domains.introduce(domid);
    if (!fresh) for (const c of domain.conns) this.resetConnection(c);
    if (domid !== 0) this.backend?.introduce(domid, gfn, evtchn, fresh);
    if (fresh) {
      this.watches.special('@introduceDomain', this.specialDomid(domid));
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
   * `@releaseDomain` fires. A reused domid starts from nothing. `proc`: the process whose
   * RELEASE request this is, for the commit's trailers.
   */
  releaseDomain(domid: number, proc: ProcessIdentity | null = null): void {
    const dom = this.domains.get(domid);
    if (dom === undefined) return;
    for (const c of dom.conns) this.resetConnection(c);
    for (const c of [...dom.conns]) c.close();
    this.backend?.release(domid);
    for (const other of this.domains.list()) if (other.target === domid) this.setTarget(other, -1);
    // The daemon does the cleanup (as dom0); the commit names the process that asked for it.
    this.publisher.publish(proc === null ? DOM0 : { ...DOM0, proc }, { op: 'release', domid });
    this.specials.forget(domid);
    this.domains.release(domid);
    this.admission.forget(domid);
    this.watches.special('@releaseDomain', this.specialDomid(domid));
    this.watches.flush();
  }

  /** A domain shut down (not dead yet: VIRQ_DOM_EXC, C check_domain): `@releaseDomain`
   *  fires, nothing is removed. */
  domainShutdown(domid: number): void {
    this.watches.special('@releaseDomain', this.specialDomid(domid));
    this.watches.flush();
  }

  /** The domid special watch events carry where watches have depths (C 4.22), else null. */
  private specialDomid(domid: number): number | null {
    return (this.protocol.serverFeatures & FEATURE_WATCHDEPTH) !== 0 ? domid : null;
  }

  // ------------------------------------------------------------------ CONTROL

  openTransactions(): OpenTransaction[] {
    const out: OpenTransaction[] = [];
    for (const c of this.connections) {
      for (const t of c.txs.values()) out.push({ conn: c.id, txid: t.id, domid: c.domid, start: t.start, opened: t.opened });
    }
    return out;
  }

  mirrorStats(): MirrorStats | null {
    return this.mirror;
  }

  revertTo(target: Commit, path: string): ErrorName | null {
    return this.publisher.publish(DOM0, { op: 'revert', target, path });
  }
}
