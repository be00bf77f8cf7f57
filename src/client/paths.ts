/** Where clients find the daemon's socket (xenstore-common.h rules, with xsgit's local default). */

import { join } from 'node:path';

/** The daemon's default run directory: local, relative to the working directory, so no root is needed. */
export const DEFAULT_RUN_DIR = 'run';

/** The socket inside a run directory. */
export function socketPathForRunDir(runDir: string): string {
  return join(runDir, 'socket');
}

/** The run directory named by the environment: $XENSTORED_RUNDIR, else DEFAULT_RUN_DIR. */
export function defaultRunDir(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const dir = env['XENSTORED_RUNDIR'];
  return dir !== undefined && dir !== '' ? dir : DEFAULT_RUN_DIR;
}

/**
 * The socket a client should use: $XENSTORED_PATH, else $XENSTORED_RUNDIR/socket,
 * else ./run/socket. Empty variables count as unset.
 */
export function defaultSocketPath(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const p = env['XENSTORED_PATH'];
  if (p !== undefined && p !== '') return p;
  return socketPathForRunDir(defaultRunDir(env));
}
