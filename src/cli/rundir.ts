import { resolve } from 'node:path';

/** The default run directory: `$XSGIT_RUN_DIR`, else `./run` — local, so no root is needed.
 *  `--run-dir /var/run/xenstored` gives the system path that libxenstore uses by default. */
export function defaultRunDir(): string {
  return resolve(process.env.XSGIT_RUN_DIR ?? 'run');
}
