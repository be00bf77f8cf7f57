import { closeSync, fchmodSync, openSync } from 'node:fs';
import koffi from 'koffi';

/**
 * The daemon's own log (`--log-file`): its standard output and error (the `export` line, the
 * logger, and Node's own last words on a crash) are redirected to FILE, appended, mode 0640.
 * On SIGHUP the path is opened again and put in place of both descriptors (dup2(2)), so that
 * logrotate can move the file away, as with the C daemon's log files. Node has no dup2: it is
 * called through koffi (see transport/peercred.ts for why koffi).
 *
 * Redirect before anything is written to process.stdout/stderr: Node then sees files on
 * descriptors 1 and 2 and writes them synchronously (a line is on disk when the call returns).
 */

type Dup2 = (from: number, to: number) => number;
let dup2: Dup2 | null = null;

/** Opens `path` (errors are Node's: ENOENT, EACCES, EISDIR…) and makes it fds 1 and 2. */
export function redirectOutput(path: string): void {
  dup2 ??= koffi.load(null).func('int dup2(int oldfd, int newfd)') as Dup2;
  const fd = openSync(path, 'a', 0o640);
  try {
    fchmodSync(fd, 0o640);
    for (const target of [1, 2]) {
      if (dup2(fd, target) < 0) throw new Error(`dup2 onto ${target}: errno ${koffi.errno()}`);
    }
  } finally {
    closeSync(fd);
  }
}
