import { spawn } from 'node:child_process';
import { closeSync, openSync, readSync, fstatSync } from 'node:fs';

/**
 * `xsgit daemon --background`: what a classic daemon's fork does, for init systems that start
 * the daemon and wait for the command to return (Debian's /etc/init.d/xen runs
 * `start-stop-daemon --start … $XENSTORED $XENSTORED_ARGS --pid-file /run/xenstore.pid` in the
 * foreground, as C xenstored and oxenstored fork by themselves).
 *
 * Node cannot fork, so the same command is started again as a detached child (a new session,
 * no controlling terminal, standard input closed, standard output and error on the log file)
 * with an IPC channel. The child runs in the foreground as usual and, once it serves its
 * socket (Lifecycle.ready()), says so on the channel and closes it. The parent then exits 0;
 * if the child exits first, the parent prints what the child wrote to the log and exits with
 * the child's status (1 when it has none). So the command returns when, and only when, the
 * daemon is ready, and the pid file holds the daemon's own pid.
 */
/** Set in the environment of the daemon that runInBackground() starts. */
export const CHILD = 'XSGIT_BACKGROUND_CHILD';

export async function runInBackground(argv: readonly string[], logFile: string): Promise<number> {
  let out: number;
  try {
    out = openSync(logFile, 'a', 0o640);
  } catch (e) {
    throw new Error(`--log-file ${logFile}: ${(e as Error).message}`);
  }
  const from = fstatSync(out).size;
  const child = spawn(process.execPath, [...process.execArgv, ...argv], {
    detached: true,
    // The child must not go to the background again (a --config file may say background).
    env: { ...process.env, [CHILD]: '1' },
    stdio: ['ignore', out, out, 'ipc'],
  });
  closeSync(out);
  const outcome = await new Promise<{ ready: boolean; code: number | null }>((resolve) => {
    child.once('message', (m: unknown) => {
      if (typeof m === 'object' && m !== null && (m as { ready?: unknown }).ready === true) resolve({ ready: true, code: 0 });
    });
    child.once('exit', (code) => resolve({ ready: false, code }));
    child.once('error', () => resolve({ ready: false, code: 1 }));
  });
  if (outcome.ready) {
    child.disconnect();
    child.unref();
    process.stdout.write(`xsgit daemon: pid ${child.pid} serving (log: ${logFile})\n`);
    return 0;
  }
  process.stderr.write(`xsgit daemon: the daemon exited (status ${outcome.code ?? 'none'}) before serving; its log (${logFile}) says:\n${tail(logFile, from)}`);
  return outcome.code === null || outcome.code === 0 ? 1 : outcome.code;
}

/** What the file holds from byte `from` on (at most 64 KiB). */
function tail(path: string, from: number): string {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(64 * 1024);
    const n = readSync(fd, buf, 0, buf.length, from);
    return buf.subarray(0, n).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** In the daemon started by runInBackground(): tells the parent it serves, and drops the
 *  channel (a no-op for a daemon started otherwise). */
export function tellParentReady(): void {
  if (process.send === undefined || !process.connected) return;
  process.send({ ready: true }, undefined, {}, () => process.disconnect());
}
