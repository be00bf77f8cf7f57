import koffi from 'koffi';
import { logger } from '../util/log.js';

/**
 * Readiness for systemd (`Type=notify`): once the daemon serves its socket, it sends
 * `READY=1` to the socket named by $NOTIFY_SOCKET, as the C xenstored does (its main() calls
 * sd_notify(1, "READY=1") after setting up its sockets). Without $NOTIFY_SOCKET (not started
 * by systemd, or by a unit of another type) nothing happens.
 *
 * The message is sent by libsystemd's own sd_notify(3), called through koffi (the FFI library
 * xsgit already uses for SO_PEERCRED): the reference implementation of the protocol (path and
 * abstract socket names, credentials), present wherever systemd runs (libsystemd0), and sent
 * from the daemon's own pid, so the unit needs no `NotifyAccess=all`. Node cannot send a Unix
 * datagram itself; `systemd-notify --ready` as a child would need `NotifyAccess=all` and its
 * sender may exit before systemd attributes the message (docs/operations.md).
 *
 * $NOTIFY_SOCKET is removed from the environment afterwards (sd_notify's `unset_environment`),
 * so that programs the daemon runs (bisect --run) do not notify in its name.
 */

type SdNotify = (unsetEnvironment: number, state: string) => number;

/** Sends `state` (newline-separated KEY=VALUE assignments, sd_notify(3)); returns whether it
 *  was sent. Failures are logged, never thrown: readiness is the service manager's business,
 *  and a daemon that serves its socket must not die for it. */
export function sdNotify(state: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const target = env['NOTIFY_SOCKET'];
  if (target === undefined || target === '') return false;
  let notify: SdNotify;
  try {
    notify = koffi.load('libsystemd.so.0').func('int sd_notify(int unset_environment, const char *state)') as SdNotify;
  } catch (e) {
    logger.error(`cannot tell systemd (NOTIFY_SOCKET=${target}): libsystemd.so.0: ${(e as Error).message}`);
    return false;
  }
  const r = notify(0, state);
  delete env['NOTIFY_SOCKET'];
  if (r < 0) logger.error(`sd_notify to ${target}: error ${-r}`);
  return r > 0;
}

/** READY=1 with the daemon's pid and a status line (`systemctl status` shows it). */
export function notifyReady(status: string): boolean {
  return sdNotify(`READY=1\nMAINPID=${process.pid}\nSTATUS=${status.replace(/\n/g, ' ')}`);
}
