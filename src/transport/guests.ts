import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { logger } from '../util/log.js';
import { SocketTransport } from './socketTransport.js';
import type { Acceptor, DomainBackend } from './transport.js';

/**
 * Guest connections without a hypervisor (`xsgit daemon --guest-sockets`): once domain N is
 * introduced, the daemon also listens on `<dir>/N/socket` (dir = RUNDIR/domains; the socket
 * mode 0600 in a 0700 directory), and every connection there *is* domain N: unprivileged,
 * relative paths under /local/domain/N, permissions and quotas applied, a request over 4096
 * bytes closing that connection only. RELEASE closes the domain's connections and removes
 * the socket. A ring-page backend would implement the same DomainBackend.
 */
export class GuestSockets implements DomainBackend {
  private readonly servers = new Map<number, Server>();

  constructor(
    private readonly acceptor: Acceptor,
    readonly dir: string,
  ) {}

  socketPath(domid: number): string {
    return join(this.dir, String(domid), 'socket');
  }

  introduce(domid: number): void {
    if (this.servers.has(domid)) return;
    const home = join(this.dir, String(domid));
    mkdirSync(home, { recursive: true, mode: 0o700 });
    chmodSync(home, 0o700);
    const path = this.socketPath(domid);
    rmSync(path, { force: true });
    const server = createServer({ allowHalfOpen: false }, (s) => this.accept(domid, s));
    server.on('error', (err) => logger.error(`guest socket of domain ${domid}: ${err.message}`));
    // For a Unix path, bind and listen happen synchronously: the socket exists on return.
    server.listen({ path, backlog: 64 });
    try {
      chmodSync(path, 0o600);
    } catch (err) {
      logger.error(`guest socket of domain ${domid}: ${(err as Error).message}`);
    }
    this.servers.set(domid, server);
  }

  private accept(domid: number, socket: Socket): void {
    const transport = new SocketTransport(socket, true);
    const conn = this.acceptor.connect(transport, domid, false);
    transport.conn = conn;
    socket.on('data', (chunk: Buffer) => conn.onData(chunk));
    socket.on('error', () => conn.close());
    socket.on('close', () => conn.close());
  }

  release(domid: number): void {
    const server = this.servers.get(domid);
    if (server === undefined) return;
    this.servers.delete(domid);
    server.close();
    rmSync(join(this.dir, String(domid)), { recursive: true, force: true });
  }

  async close(): Promise<void> {
    for (const domid of [...this.servers.keys()]) this.release(domid);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
