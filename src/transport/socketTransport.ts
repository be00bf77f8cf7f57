import type { Socket } from 'node:net';
import type { Peer, Transport } from './transport.js';

/**
 * A Unix-socket connection as a Transport. For guests (`tracked`), each write's completion
 * tells the connection that output drained (its back-pressure); dom0 sockets skip that.
 */
export class SocketTransport implements Transport {
  conn: Peer | null = null;
  private readonly flushed = (): void => {
    this.conn?.drained();
  };

  constructor(
    private readonly socket: Socket,
    private readonly tracked: boolean,
  ) {}

  write(data: Buffer): void {
    if (this.tracked) this.socket.write(data, this.flushed);
    else this.socket.write(data);
  }

  get pending(): number {
    return this.socket.writableLength;
  }

  close(): void {
    this.socket.destroy();
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }
}
