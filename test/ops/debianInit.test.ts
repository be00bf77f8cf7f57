/**
 * Issue 16 §1, Debian's own mechanism: /etc/init.d/xen starts "$XENSTORED $XENSTORED_ARGS
 * --pid-file /run/xenstore.pid" through start-stop-daemon and choom in the foreground, waits
 * until `xenstore-read -s /` answers, then runs xen-init-dom0. The script exits early on a
 * host without Xen, so this runs its own xenstored_start() function (taken from the installed
 * script, unchanged but for the paths below) with XENSTORED=xsgit and
 * XENSTORED_ARGS="daemon --background …": the function must return 0 with the daemon serving,
 * its pid in the pid file, and dom0's entries written.
 *
 * Paths changed for the test: the pid file and run directory (temporary), ROOT (no
 * xen-init-dom0 there, so the script's fallback writes /local/domain/0/name itself), and
 * `choom -n -1000` becomes `-n 0` where the machine refuses -1000 (a container).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, TEST_PEER } from '../helpers/daemon.js';
import { XSGIT } from './cli.js';

const INIT = '/etc/init.d/xen';
const TOOLS = ['/sbin/start-stop-daemon', '/usr/bin/choom', '/usr/bin/xenstore-read', '/usr/bin/xenstore-write'];
const runnable = TEST_PEER === 'xsgit' && existsSync(INIT) && TOOLS.every(existsSync) ? describe : describe.skip;

function choomAllowed(): boolean {
  return spawnSync('/usr/bin/choom', ['-n', '-1000', '--', '/bin/true']).status === 0;
}

runnable("Debian's /etc/init.d/xen", () => {
  it('xenstored_start() starts xsgit --background as XENSTORED, waits for it and initialises dom0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xsgit-initd-'));
    const run = join(dir, 'run');
    const pidFile = join(dir, 'xenstore.pid');
    const log = join(dir, 'xsgit.log');
    const fn = readFileSync(INIT, 'utf8').match(/^xenstored_start\(\)\n\{[\s\S]*?\n\}\n/m)?.[0];
    expect(fn, 'xenstored_start() in /etc/init.d/xen').toBeDefined();
    const body = choomAllowed() ? fn! : fn!.replace('-n -1000', '-n 0');
    const script = `
set -u
log_progress_msg() { :; }
log_failure_msg() { echo "failure: $*" >&2; }
OXENSTORED=/nonexistent/oxenstored
CXENSTORED=/nonexistent/xenstored
XENSTORED_PIDFILE='${pidFile}'
XENSTORED_DIR='${run}'
ROOT='${dir}'
XENSTORED='${XSGIT}'
XENSTORED_ARGS='daemon --background --run-dir ${run} --log-file ${log}'
export XENSTORED_PATH='${join(run, 'socket')}'
${body}
xenstored_start
echo "status $?"
`;
    let pid = 0;
    try {
      const out = execFileSync('/bin/sh', ['-c', script], { encoding: 'utf8', cwd: REPO_ROOT, timeout: 60_000 });
      expect(out.trim().split('\n').at(-1)).toBe('status 0');
      pid = Number(readFileSync(pidFile, 'utf8').trim());
      expect(pid).toBeGreaterThan(0);
      process.kill(pid, 0); // the daemon runs
      const env = { ...process.env, XENSTORED_PATH: join(run, 'socket') };
      expect(execFileSync('/usr/bin/xenstore-read', ['/local/domain/0/name'], { env, encoding: 'utf8' }).trim()).toBe('Domain-0');
      expect(readFileSync(log, 'utf8')).toContain(`listening on ${join(run, 'socket')}, pid ${pid}`);
    } finally {
      if (pid > 0) process.kill(pid, 'SIGTERM');
    }
    for (let i = 0; i < 100 && existsSync(pidFile); i++) await new Promise((r) => setTimeout(r, 50));
    expect(existsSync(pidFile)).toBe(false);
    expect(existsSync(join(run, 'socket'))).toBe(false);
  });
});
