import { closeSync, openSync, readFileSync } from 'node:fs';
import type { DomainBackend, Transport } from '../transport/transport.js';
import { logger } from '../util/log.js';
import { openXen, VIRQ_DOM_EXC, XenUnavailable, type XenLibs } from './libs.js';
import {
  XENSTORE_CONNECTED,
  XENSTORE_PAGE_SIZE,
  XENSTORE_RECONNECT,
  XENSTORE_SERVER_FEATURE_ERROR,
  XENSTORE_SERVER_FEATURE_RECONNECTION,
  XenstoreRing,
} from './ring.js';
import { RingTransport, type RingPeer } from './ringTransport.js';

/** dom0's ring and its port, as the C daemon finds them (xenstored_posix.c xenbus_map(),
 *  xenstored_domain.c dom0_init(): XENSTORED_KVA_DEV, XENSTORED_PORT_DEV). */
export const XSD_KVA = '/proc/xen/xsd_kva';
export const XSD_PORT = '/proc/xen/xsd_port';
/** Most ports handled in one burst before the event loop gets a turn (sockets, timers). */
const DRAIN_MAX = 64;

/**
 * What the backend needs of the daemon (wired in cli/daemon.ts; the backend never sees the
 * Daemon class):
 * - `connect(t, domid)`: a new unprivileged connection of `domid` over `t` (Daemon.connect
 *   with privileged = false); for dom0's own ring, `privileged` is true;
 * - `release(domid)`: the domain is dying or gone (VIRQ_DOM_EXC): clean it up as RELEASE
 *   does (Daemon.releaseDomain; it calls this backend's release() back);
 * - `shutdown(domid)`: the domain shut down (not yet dying): fire `@releaseDomain` once, as
 *   the C daemon's domain_cleanup() does for `dominfo.shutdown`.
 */
export interface XenDaemonHooks {
  connect(t: Transport, domid: number, privileged: boolean): RingPeer;
  release(domid: number): void;
  shutdown?(domid: number): void;
}

export interface XenBackendOptions {
  /** Advertise XENSTORE_SERVER_FEATURE_RECONNECTION | _ERROR in `server_features` and serve
   *  reconnection requests (`connection` = XENSTORE_RECONNECT) by ourselves; false: like the
   *  C daemon 4.17 (no bits; a reconnection completes at the next INTRODUCE). */
  features: boolean;
  /** Serve dom0's own ring (/proc/xen/xsd_kva, /proc/xen/xsd_port). Default true. */
  dom0?: boolean;
  /** The Xen libraries (tests may pass their own); default openXen(). */
  libs?: XenLibs;
}

/** One served domain: its page, its local port, its current connection. */
interface Served {
  domid: number;
  ring: XenstoreRing;
  addr: bigint;
  how: 'grant' | 'foreign' | 'mmap';
  /** Local port bound to the guest's (interdomain), 0 if none. */
  port: number;
  remotePort: number;
  transport: RingTransport | null;
  /** @releaseDomain already fired for its shutdown. */
  shutdownSeen: boolean;
}

/**
 * The Xen DomainBackend (`xsgit daemon --xen`): what the C daemon 4.17 does in
 * xenstored_domain.c, through Xen's libraries (libs.ts):
 *
 * - INTRODUCE (new_domain/introduce_domain): map the guest's page by grant reference 1
 *   (GNTTAB_RESERVED_XENSTORE), else the foreign frame; bind an interdomain channel to the
 *   guest's port; reset the indexes (domain_conn_reset); serve it. A re-INTRODUCE re-binds
 *   the port, resets the ring and gives the domain a fresh connection;
 * - dom0's own ring: /proc/xen/xsd_kva mmapped, the port from /proc/xen/xsd_port;
 * - VIRQ_DOM_EXC: on each firing every served domain's state is read (xc_domain_getinfolist):
 *   dying or gone → hooks.release (as RELEASE); shut down → hooks.shutdown, once;
 * - RELEASE: unbind the port, unmap the page.
 *
 * Events: `xenevtchn_pending` runs on a koffi worker thread (it blocks there as a read of
 * /dev/xen/evtchn does); each port it returns is unmasked and dispatched through a Map
 * port → domain (O(1), where the C daemon scans every domain on every wake-up), then the
 * wait is re-armed. No timer, no polling loop.
 */
export class XenBackend implements DomainBackend {
  readonly xen: XenLibs;
  private readonly byDomid = new Map<number, Served>();
  private readonly byPort = new Map<number, Served>();
  private virqPort = -1;
  /** A loopback channel (our own unbound port bound to itself) to wake the waiting worker
   *  at close(). */
  private wakeLocal = -1;
  private wakePort = -1;
  private closing = false;
  private stopped: (() => void) | null = null;
  private waiting = false;
  /** Counters, for tests and `--log-level debug`. */
  readonly stats = { events: 0, spurious: 0, virq: 0 };

  constructor(
    private readonly hooks: XenDaemonHooks,
    private readonly options: XenBackendOptions,
  ) {
    this.xen = options.libs ?? openXen();
    const x = this.xen;
    this.virqPort = x.bindVirq(VIRQ_DOM_EXC);
    if (this.virqPort < 0) throw new XenUnavailable(`xenevtchn_bind_virq(VIRQ_DOM_EXC) failed (errno ${x.errno()}): is another xenstored running?`);
    this.wakeLocal = x.bindUnboundPort(0);
    this.wakePort = this.wakeLocal >= 0 ? x.bindInterdomain(0, this.wakeLocal) : -1;
    if (this.wakePort < 0) logger.warn(`xen: no loopback event channel (errno ${x.errno()}); close() will not wake the event wait`);
    this.arm();
  }

  /** Serves dom0's own ring (dom0_init). Call once the daemon can accept connections. A
   *  dom0 without xenfs (no /proc/xen/xsd_kva) or whose ring cannot be mapped or bound gets a
   *  warning, not a failure: guests and the Unix socket are served all the same. */
  startDom0(): void {
    if (this.options.dom0 === false) return;
    let addr = 0n;
    try {
      const fd = openSync(XSD_KVA, 'r+');
      try {
        addr = this.xen.mmapFd(fd);
      } finally {
        closeSync(fd);
      }
      const remote = Number(readFileSync(XSD_PORT, 'utf8').trim());
      const ring = new XenstoreRing(this.xen.view(addr, XENSTORE_PAGE_SIZE));
      const s: Served = { domid: 0, ring, addr, how: 'mmap', port: 0, remotePort: remote, transport: null, shutdownSeen: false };
      this.bind(s);
      this.byDomid.set(0, s);
      // dom0's kernel set its ring up before we started: no index reset (the C daemon does
      // not reset it either; dom0 is not INTRODUCEd).
      this.connectRing(s, true);
      logger.info(`xen: serving dom0's ring (port ${remote} -> local ${s.port})`);
    } catch (err) {
      if (addr !== 0n) this.xen.unmapGuestPage(addr, 'mmap');
      logger.warn(`xen: dom0's ring not served (${XSD_KVA}, ${XSD_PORT}): ${(err as Error).message}`);
    }
  }

  /**
   * INTRODUCE of `domid` with frame `gfn` (decimal) and the guest's port `evtchn`. Fresh:
   * map, bind, reset, serve. Not fresh (the daemon has already dropped the domain's watches
   * and transactions): re-bind the port, reset the ring, serve with a new connection.
   * Throws (the INTRODUCE then fails) when the page cannot be mapped or the port bound.
   */
  introduce(domid: number, gfn: string, evtchn: number, _fresh: boolean): void {
    let s = this.byDomid.get(domid);
    if (s === undefined) {
      const gfnNum = /^\d+$/.test(gfn) ? BigInt(gfn) : 0n;
      const { addr, how } = this.xen.mapGuestPage(domid, gfnNum);
      const ring = new XenstoreRing(this.xen.view(addr, XENSTORE_PAGE_SIZE));
      s = { domid, ring, addr, how, port: 0, remotePort: evtchn, transport: null, shutdownSeen: false };
      // dom0less guests: Xen fills evtchn_port, used instead of the INTRODUCE port.
      if (ring.evtchnPort !== 0) s.remotePort = ring.evtchnPort;
      try {
        this.bind(s);
      } catch (err) {
        this.xen.unmapGuestPage(addr, how);
        throw err;
      }
      this.byDomid.set(domid, s);
    } else {
      // Re-INTRODUCE (or an INTRODUCE after a failed one): a fresh connection on a reset ring.
      this.detachRing(s);
      this.unbind(s);
      s.remotePort = s.ring.evtchnPort !== 0 ? s.ring.evtchnPort : evtchn;
      this.bind(s);
    }
    this.resetRing(s);
    this.connectRing(s, false);
    // A reconnecting guest waits for XENSTORE_CONNECTED (later C daemons do this here too).
    if (s.ring.connection === XENSTORE_RECONNECT) s.ring.connection = XENSTORE_CONNECTED;
    this.xen.notify(s.port);
  }

  /** RELEASE (the daemon has closed the domain's connections): unbind and unmap. */
  release(domid: number): void {
    const s = this.byDomid.get(domid);
    if (s === undefined || domid === 0) return;
    this.detachRing(s);
    this.unbind(s);
    this.byDomid.delete(domid);
    this.xen.unmapGuestPage(s.addr, s.how);
  }

  /** Daemon shutdown: stop serving every ring, wake and stop the event wait, close the
   *  library handles. */
  close(): Promise<void> {
    if (this.closing) return Promise.resolve();
    this.closing = true;
    for (const s of this.byDomid.values()) this.detachRing(s);
    return new Promise((resolve) => {
      const finish = (): void => {
        for (const s of [...this.byDomid.values()]) {
          this.unbind(s);
          this.xen.unmapGuestPage(s.addr, s.how);
        }
        this.byDomid.clear();
        this.xen.close();
        resolve();
      };
      if (!this.waiting || this.wakeLocal < 0) {
        // Nothing can wake the worker: leave the handles open (the process is exiting).
        if (this.waiting) resolve();
        else finish();
        return;
      }
      this.stopped = finish;
      this.xen.notify(this.wakeLocal);
    });
  }

  /** Domains served, for tests. */
  get domains(): number[] {
    return [...this.byDomid.keys()];
  }

  // ------------------------------------------------------------------ internals

  private bind(s: Served): void {
    const port = this.xen.bindInterdomain(s.domid, s.remotePort);
    if (port < 0) throw new Error(`xenevtchn_bind_interdomain(domain ${s.domid}, port ${s.remotePort}) failed (errno ${this.xen.errno()})`);
    s.port = port;
    this.byPort.set(port, s);
  }

  private unbind(s: Served): void {
    if (s.port <= 0) return;
    this.byPort.delete(s.port);
    this.xen.unbind(s.port);
    s.port = 0;
  }

  /** domain_conn_reset(): indexes to 0, server_features advertised, error cleared. */
  private resetRing(s: Served): void {
    s.ring.reset();
    s.ring.error = 0;
    if (this.options.features) s.ring.serverFeatures = XENSTORE_SERVER_FEATURE_RECONNECTION | XENSTORE_SERVER_FEATURE_ERROR;
  }

  private connectRing(s: Served, privileged: boolean): void {
    const t = new RingTransport(
      s.ring,
      () => {
        if (s.port > 0) this.xen.notify(s.port);
      },
      (code, why) => logger.warn(`xen: domain ${s.domid}: ring ignored (error ${code}): ${why}`),
    );
    s.transport = t;
    t.conn = this.hooks.connect(t, s.domid, privileged);
  }

  /** Takes the ring from its connection for good (the connection's close() is then not a
   *  protocol violation) and closes that connection. */
  private detachRing(s: Served): void {
    const t = s.transport;
    if (t === null) return;
    s.transport = null;
    t.detach();
    t.conn?.close();
  }

  /**
   * Waits for the next port on a worker thread; when it comes, handles it and then every
   * port already waiting (poll(2) with timeout 0 on the evtchn fd, then a synchronous
   * xenevtchn_pending, which cannot block: no worker is waiting meanwhile), at most
   * DRAIN_MAX, before waiting again. A burst of notifications thus costs one thread hand-off,
   * not one each; nothing is ever polled on a timer.
   */
  private arm(): void {
    if (this.closing) return;
    this.waiting = true;
    this.xen.pendingAsync((err, port) => {
      this.waiting = false;
      if (this.closing) {
        this.stopped?.();
        return;
      }
      if (err !== null && err !== undefined) {
        logger.error(`xen: xenevtchn_pending: ${String(err)}`);
        setTimeout(() => this.arm(), 100);
        return;
      }
      if (port < 0) {
        // EINTR and the like: try again (a persistent failure is logged, rate-limited by
        // the delay).
        logger.warn(`xen: xenevtchn_pending failed (errno ${this.xen.errno()})`);
        setTimeout(() => this.arm(), 100);
        return;
      }
      this.fired(port);
      for (let n = 0; n < DRAIN_MAX && !this.closing && this.xen.readable(); n++) {
        const more = this.xen.pending();
        if (more < 0) break;
        this.fired(more);
      }
      if (this.closing) this.stopped?.();
      else this.arm();
    });
  }

  /** A port came out of xenevtchn_pending (masked): unmask it, then dispatch. */
  private fired(port: number): void {
    this.xen.unmask(port);
    try {
      this.dispatch(port);
    } catch (e) {
      logger.error(`xen: event on port ${port}: ${(e as Error).stack ?? String(e)}`);
    }
  }

  /** One fired port: O(1) to its domain. */
  private dispatch(port: number): void {
    this.stats.events++;
    if (port === this.virqPort) {
      this.stats.virq++;
      this.checkDomains();
      return;
    }
    const s = this.byPort.get(port);
    if (s === undefined) {
      // A port unbound after it fired, or the wake port.
      this.stats.spurious++;
      return;
    }
    if (s.ring.connection === XENSTORE_RECONNECT && this.options.features && s.transport !== null) {
      this.reconnect(s);
      return;
    }
    s.transport?.service();
  }

  /**
   * The guest asked to reconnect (`connection` = XENSTORE_RECONNECT, reference §9): its
   * connection goes (watches, transactions, queued output and partial input with it), the
   * ring is reset, a new connection serves it, `connection` = XENSTORE_CONNECTED, signal.
   */
  private reconnect(s: Served): void {
    this.detachRing(s);
    s.ring.reset();
    s.ring.error = 0;
    this.connectRing(s, s.domid === 0);
    s.ring.connection = XENSTORE_CONNECTED;
    this.xen.notify(s.port);
  }

  /** VIRQ_DOM_EXC fired: the C daemon's domain_cleanup(). */
  private checkDomains(): void {
    for (const s of [...this.byDomid.values()]) {
      if (s.domid === 0) continue;
      const info = this.xen.getDomainInfo(s.domid);
      if (info !== null && !info.dying) {
        if (info.shutdown && !s.shutdownSeen) {
          s.shutdownSeen = true;
          this.hooks.shutdown?.(s.domid);
        }
        continue;
      }
      logger.info(`xen: domain ${s.domid} ${info === null ? 'is gone' : 'is dying'}: releasing it`);
      this.hooks.release(s.domid);
      // In case the daemon did not call release() back (it did not know the domain).
      if (this.byDomid.has(s.domid)) this.release(s.domid);
    }
  }
}
