/**
 * Where clients find the daemon's socket: libxenstore's rule (tools/libs/store/xs.c,
 * xs_daemon_socket(): $XENSTORED_PATH, else $XENSTORED_RUNDIR/socket, else
 * /var/run/xenstored/socket), with xsgit's local default (`npm start` serves ./run/socket)
 * tried last, and only when neither variable names a socket.
 */

import { join, resolve } from 'node:path';

type Env = Readonly<Record<string, string | undefined>>;

/** The daemon's default run directory: local, relative to the working directory, so no root is needed. */
export const DEFAULT_RUN_DIR = 'run';

/** libxenstore's compiled-in run directory (XEN_RUN_STORED), where the host's xenstored is. */
export const SYSTEM_RUN_DIR = '/var/run/xenstored';

/** The socket inside a run directory. */
export function socketPathForRunDir(runDir: string): string {
  return join(runDir, 'socket');
}

function named(env: Env, name: string): string | undefined {
  const v = env[name];
  return v !== undefined && v !== '' ? v : undefined;
}

/** The daemon's run directory named by the environment: $XENSTORED_RUNDIR, else DEFAULT_RUN_DIR. */
export function defaultRunDir(env: Env = process.env): string {
  return named(env, 'XENSTORED_RUNDIR') ?? DEFAULT_RUN_DIR;
}

/** libxenstore's socket: $XENSTORED_PATH, else $XENSTORED_RUNDIR/socket, else
 *  /var/run/xenstored/socket. Empty variables count as unset (as getenv() == NULL there). */
export function defaultSocketPath(env: Env = process.env): string {
  return socketCandidates(env)[0].path;
}

/** A socket a client may try, and why (for the message when none answers). */
export interface SocketCandidate {
  readonly path: string;
  /** Where the path comes from: `$XENSTORED_PATH`, `$XENSTORED_RUNDIR`, `libxenstore's default`… */
  readonly source: string;
}

/**
 * The sockets to try, in order: only the one the environment names when it names one (an
 * explicit choice is never second-guessed), else libxenstore's default and then xsgit's
 * local default, ./run/socket resolved against `cwd` (the directory `npm start` ran in).
 */
export function socketCandidates(env: Env = process.env, cwd: string = process.cwd()): SocketCandidate[] {
  const path = named(env, 'XENSTORED_PATH');
  if (path !== undefined) return [{ path, source: '$XENSTORED_PATH' }];
  const dir = named(env, 'XENSTORED_RUNDIR');
  if (dir !== undefined) return [{ path: socketPathForRunDir(dir), source: '$XENSTORED_RUNDIR' }];
  return [
    { path: socketPathForRunDir(SYSTEM_RUN_DIR), source: "libxenstore's default" },
    { path: resolve(cwd, socketPathForRunDir(DEFAULT_RUN_DIR)), source: "xsgit's local default, npm start" },
  ];
}
