import { chmodSync, lstatSync, mkdirSync, renameSync, rmSync, unlinkSync, type Stats } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { SocketTransport } from './socketTransport.js';
import { peerIdentity } from './peercred.js';
import type { Acceptor, Peer } from './transport.js';

/**
 * The Unix-socket listener (C posix.c): every connection is dom0, privileged, and attributed
 * to the process behind it when the kernel tells (SO_PEERCRED, peercred.ts). The socket is
 * created mode 0600 in a 0755 run directory, replacing a stale one (the caller has made sure
 * that nobody answers on it: service/lifecycle.ts).
 *
 * The socket is bound under a temporary name and renamed into place (an atomic replace:
 * clients never meet a missing socket). The reason is close(): libuv unlinks the path it bound
 * when a listening pipe closes, whatever file is there by then; bound to the temporary name,
 * that unlink hits nothing, and close() removes the socket itself only if the file at the path
 * is still the one this server created (same device and inode). So stopping a daemon never
 * deletes another daemon's socket.
 */
export class UnixServer {
  private readonly server: Server;
  private readonly peers = new Set<Peer>();
  /** The socket file this server created (its identity, for close()). */
  private created: Stats | null = null;

  constructor(
    private readonly acceptor: Acceptor,
    readonly socketPath: string,
  ) {
    this.server = createServer({ allowHalfOpen: false }, (s) => this.accept(s));
  }

  private accept(socket: Socket): void {
    const conn = this.acceptor.connect(new SocketTransport(socket, false), 0, true, peerIdentity(socket));
    this.peers.add(conn);
    socket.on('data', (chunk: Buffer) => conn.onData(chunk));
    socket.on('error', () => conn.close());
    socket.on('close', () => {
      this.peers.delete(conn);
      conn.close();
    });
  }

  /** Listens, replacing a stale socket file; rejects with Node's error (EADDRINUSE when
   *  something not a socket is in the way, EACCES…). */
  listen(): Promise<void> {
    mkdirSync(dirname(this.socketPath), { recursive: true, mode: 0o755 });
    const existing = lstatOrNull(this.socketPath);
    if (existing !== null && !existing.isSocket()) {
      return Promise.reject(Object.assign(new Error(`${this.socketPath} exists and is not a socket`), { code: 'EEXIST' }));
    }
    const temp = `${this.socketPath}.${process.pid}.new`;
    rmSync(temp, { force: true });
    return new Promise((resolve, reject) => {
      const fail = (e: Error): void => {
        rmSync(temp, { force: true });
        reject(e);
      };
      this.server.once('error', fail);
      this.server.listen({ path: temp, backlog: 1024 }, () => {
        this.server.off('error', fail);
        try {
          chmodSync(temp, 0o600);
          renameSync(temp, this.socketPath);
          this.created = lstatSync(this.socketPath);
        } catch (e) {
          this.server.close();
          return fail(e as Error);
        }
        resolve();
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      for (const c of this.peers) c.close();
      this.server.close(() => resolve());
      this.removeOwnSocket();
    });
  }

  /** Unlinks the socket file if it is still the one listen() created. */
  private removeOwnSocket(): void {
    const mine = this.created;
    this.created = null;
    if (mine === null) return;
    const now = lstatOrNull(this.socketPath);
    if (now !== null && now.ino === mine.ino && now.dev === mine.dev) unlinkSync(this.socketPath);
  }
}

function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch {
    return null;
  }
}
