import { opName, type ErrorName } from '../wire/constants.js';
import { logger } from '../util/log.js';
import { Domains } from '../domain/domains.js';
import { ownerOf } from '../store/perms.js';
import { Store } from '../store/store.js';
import { WatchIndex } from '../watch/watches.js';
import type { AccessLog } from './accesslog.js';
import { Connection, type RequestHandler } from './connection.js';
import { dispatch } from './process.js';
import './historyControl.js';
import type { Transport } from './transport.js';

export interface DaemonOptions {
  /** Serve GET_FEATURE/SET_FEATURE (C ≥ 4.21). Off: ENOSYS, exactly as Debian 12's 4.17. */
  features: boolean;
  accessLog: AccessLog | null;
}

export const DEFAULT_OPTIONS: DaemonOptions = { features: true, accessLog: null };

/**
 * The daemon's state and its request loop: store, watches, domains, connections. It owns no
 * I/O: transports (the Unix socket server, later rings) hand it bytes through Connection.
 */
export class Daemon implements RequestHandler {
  readonly store = new Store();
  readonly watches = new WatchIndex();
  readonly domains = new Domains();
  readonly connections = new Set<Connection>();
  /** Permission lists of the special watch paths (reference §4.5). */
  private readonly specialPerms = new Map<string, string>([
    ['@introduceDomain', 'n0\0'],
    ['@releaseDomain', 'n0\0'],
  ]);
  /** SET_FEATURE values of domains not yet introduced. */
  private readonly features = new Map<number, number>();
  private readonly dirty: Connection[] = [];
  private lastConnId = 0;

  constructor(readonly options: DaemonOptions = DEFAULT_OPTIONS) {}

  connect(transport: Transport, domid: number, privileged: boolean): Connection {
    const c = new Connection(++this.lastConnId, domid, privileged, transport, this, (x) => this.dirty.push(x));
    this.connections.add(c);
    c.onClose = () => this.disconnect(c);
    return c;
  }

  private disconnect(c: Connection): void {
    this.resetConnection(c);
    this.connections.delete(c);
  }

  handle(c: Connection, type: number, req: number, txId: number, buf: Buffer, s: number, e: number): void {
    const log = this.options.accessLog;
    const mark = c.out.len;
    if (log !== null) log.request(c, type, req, txId, buf, s, e);
    try {
      dispatch(this, c, type, req, txId, buf, s, e);
    } catch (err) {
      // A bug must cost one request, never the daemon: answer EIO and go on.
      logger.error(`${opName(type)} from conn ${c.id}: ${(err as Error).stack ?? String(err)}`);
      this.watches.discard();
      c.out.len = mark;
      c.out.error(req, txId, 'EIO');
    }
    if (log !== null) log.replies(c, c.out.buf, mark, c.out.len);
    c.touched();
  }

  settle(): void {
    const d = this.dirty;
    for (let i = 0; i < d.length; i++) d[i].flush();
    d.length = 0;
  }

  /** Drops a connection's watches and open transactions (RESET_WATCHES, close). */
  resetConnection(c: Connection): void {
    for (const w of c.watches.values()) this.watches.remove(w);
    c.watches.clear();
    c.txs.clear();
  }

  /** Admission of one more watch (per-domain quotas hook in here). */
  admitWatch(_c: Connection): ErrorName | null {
    return null;
  }

  introduceDomain(domid: number): void {
    const { fresh } = this.domains.introduce(domid);
    if (fresh) {
      this.watches.special('@introduceDomain');
      this.watches.flush();
    }
  }

  releaseDomain(domid: number): void {
    this.domains.release(domid);
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
    if (!c.privileged && ownerOf(old) !== c.domid) return 'EACCES';
    this.specialPerms.set(path, perms);
    return null;
  }
}
