import { chmodSync, mkdirSync, rmSync, unlinkSync, writeFileSync, existsSync, lstatSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { SocketTransport } from './socketTransport.js';
import type { Acceptor, Peer } from './transport.js';

/**
 * The Unix-socket listener (C posix.c): every connection is dom0, privileged. The socket is
 * created mode 0600 in a 0755 run directory, after removing a stale one.
 */
export class UnixServer {
  private readonly server: Server;
  private readonly peers = new Set<Peer>();

  constructor(
    private readonly acceptor: Acceptor,
    readonly socketPath: string,
  ) {
    this.server = createServer({ allowHalfOpen: false }, (s) => this.accept(s));
  }

  private accept(socket: Socket): void {
    const conn = this.acceptor.connect(new SocketTransport(socket, false), 0, true);
    this.peers.add(conn);
    socket.on('data', (chunk: Buffer) => conn.onData(chunk));
    socket.on('error', () => conn.close());
    socket.on('close', () => {
      this.peers.delete(conn);
      conn.close();
    });
  }

  listen(): Promise<void> {
    const dir = this.socketPath.slice(0, this.socketPath.lastIndexOf('/')) || '/';
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    if (existsSync(this.socketPath) && lstatSync(this.socketPath).isSocket()) unlinkSync(this.socketPath);
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ path: this.socketPath, backlog: 1024 }, () => {
        chmodSync(this.socketPath, 0o600);
        resolve();
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      for (const c of this.peers) c.close();
      this.server.close(() => resolve());
      rmSync(this.socketPath, { force: true });
    });
  }
}

export function writePidFile(file: string): void {
  writeFileSync(file, `${process.pid}\n`);
}
