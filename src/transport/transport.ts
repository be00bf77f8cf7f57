import type { ProcessIdentity } from '../store/caller.js';

/**
 * A byte stream to one client. The core (Connection, Daemon) sees nothing else of a client,
 * so any carrier of the xenstore byte stream plugs in here:
 *
 * - a Unix socket: unix.ts (dom0's socket; privileged) and guests.ts (one socket per guest
 *   domain; every connection on it is that domain, unprivileged);
 * - later, a guest's shared ring page (reference §9): write() copies into `rsp[]` as far as
 *   `rsp_cons` allows, queues the rest (that is `pending`) and signals the event channel;
 *   input is `req[]` read on each event and handed to Connection.onData(); pause() means
 *   "stop consuming `req[]`" (leave `req_cons` alone, so the guest's ring fills and it
 *   waits); close() of a ring marks it ignored (`error` = 3, XENSTORE_ERROR_PROTO) rather than
 *   unmapping it, so that the domain stays until it is released (XSA-325).
 *
 * The owner of a transport calls, on the Connection that daemon.connect() returned:
 * - onData(chunk) for every piece of input, in order (requests may be split anywhere);
 * - drained() whenever output it had pending was taken by the peer (so that a connection
 *   that stopped reading because of its backlog can go on);
 * - close() when the peer went away.
 */
export interface Transport {
  /** Queues bytes for the peer; never blocks, never fails (errors surface as a close). */
  write(data: Buffer): void;
  /** Bytes written but not yet taken by the peer (back-pressure). */
  readonly pending: number;
  close(): void;
  /** Stop delivering input until resume() (the connection's back-pressure or throttle). */
  pause(): void;
  resume(): void;
}

/** The daemon's side of one transport: what its owner calls (server/connection.ts). */
export interface Peer {
  /** Input, in order; requests may be split anywhere. */
  onData(chunk: Buffer): void;
  /** Output the transport had pending was (partly) taken by the peer. */
  drained(): void;
  /** The peer went away (or the daemon closes the connection). */
  close(): void;
}

/** Where transports bring their clients: the daemon (server/daemon.ts). */
export interface Acceptor {
  /** A new client of `domid` on `transport`; privileged for dom0's Unix socket, which also
   *  tells the process behind it when the kernel does (transport/peercred.ts). The
   *  returned peer may already be closed (its domain went away meanwhile). */
  connect(transport: Transport, domid: number, privileged: boolean, proc?: ProcessIdentity | null): Peer;
}

/**
 * Connects introduced domains to the daemon: guest sockets (guests.ts); a ring page and
 * event channel backend (the real Xen one: grant mapping, VIRQ_DOM_EXC). The daemon calls it
 * on INTRODUCE and RELEASE; it creates its connections itself with
 * `acceptor.connect(transport, domid, false)`.
 */
export interface DomainBackend {
  /** INTRODUCE: start serving the domain (fresh), or re-bind it (not fresh: the daemon has
   *  already reset the domain's connections). Connections must be possible once it returns. */
  introduce(domid: number, gfn: string, evtchn: number, fresh: boolean): void;
  /** RELEASE: the daemon has closed the domain's connections; stop serving it. */
  release(domid: number): void;
  /** Daemon shutdown. */
  close(): Promise<void>;
}
