import { lstatSync } from 'node:fs';
import { connect } from 'node:net';
import { peerCredentials } from '../transport/peercred.js';

/**
 * Is a daemon serving `socketPath` already? A second `xsgit daemon` on the same run directory
 * must not take the socket over (issue 16: it unlinked the live socket, and stopping the first
 * then deleted the second's). A socket file that refuses connections is stale (its daemon
 * died) and may be replaced; one that accepts is live.
 *
 * Resolves null when the path is free or stale, else the pid of the daemon that answered
 * (SO_PEERCRED of the probe connection: the pid that called listen(2)), or 0 when the kernel
 * does not say. Rejects when the path cannot be checked (EACCES…).
 */
export async function liveDaemon(socketPath: string, timeoutMs = 2000): Promise<number | null> {
  try {
    if (!lstatSync(socketPath).isSocket()) return null; // not a socket: listen() reports it
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  return new Promise((resolve, reject) => {
    const s = connect({ path: socketPath });
    const timer = setTimeout(() => {
      // Accepted by the kernel but never answered: a daemon is there, hung or busy.
      s.destroy();
      resolve(0);
    }, timeoutMs);
    s.once('connect', () => {
      clearTimeout(timer);
      const pid = peerCredentials(s)?.pid ?? 0;
      s.destroy();
      resolve(pid);
    });
    s.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      s.destroy();
      if (e.code === 'ECONNREFUSED' || e.code === 'ENOENT') resolve(null);
      else if (e.code === 'EAGAIN') resolve(0); // its backlog is full: it is there
      else reject(e);
    });
  });
}
