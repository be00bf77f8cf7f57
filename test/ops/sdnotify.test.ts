/**
 * Issue 16 §1: readiness for systemd's Type=notify. The daemon sends READY=1 (with MAINPID
 * and a STATUS line) to $NOTIFY_SOCKET once its socket is served, through libsystemd's
 * sd_notify; a Python datagram socket plays systemd's part.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, TEST_PEER } from '../helpers/daemon.js';
import { PYTHON } from '../helpers/tools.js';
import { cleanEnv, startCli } from './cli.js';

const LIBSYSTEMD = ['/usr/lib/x86_64-linux-gnu/libsystemd.so.0', '/usr/lib/aarch64-linux-gnu/libsystemd.so.0', '/lib/x86_64-linux-gnu/libsystemd.so.0', '/usr/lib64/libsystemd.so.0'].some(existsSync);
const python = existsSync(PYTHON) ? PYTHON : 'python3';
const runnable = TEST_PEER === 'xsgit' && LIBSYSTEMD ? describe : describe.skip;

/** Binds a Unix datagram socket at `path` and prints the first message received. */
const RECEIVER = `
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("bound", flush=True)
s.settimeout(30)
sys.stdout.write(s.recv(4096).decode())
`;

/** Plays systemd: a datagram socket at DIR/notify; `message` resolves with what arrives. */
async function notifySocket(dir: string): Promise<{ path: string; message: Promise<string>; close(): void }> {
  const path = join(dir, 'notify');
  const rx = spawn(python, ['-c', RECEIVER, path], { stdio: ['ignore', 'pipe', 'inherit'] });
  let got = '';
  rx.stdout.setEncoding('utf8').on('data', (d: string) => (got += d));
  const message = new Promise<string>((r) => rx.once('close', () => r(got.slice(got.indexOf('\n') + 1))));
  while (!got.includes('bound')) await new Promise((r) => setTimeout(r, 20));
  return { path, message, close: () => rx.kill() };
}

runnable('sd_notify', () => {
  it('sends READY=1 with MAINPID once the socket is served', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xsgit-notify-'));
    const rx = await notifySocket(dir);
    const d = startCli(['daemon', '--run-dir', join(dir, 'run')], { env: cleanEnv({ NOTIFY_SOCKET: rx.path }) });
    try {
      const msg = await rx.message;
      await d.waitFor('listening on');
      expect(msg.split('\n')).toEqual(['READY=1', `MAINPID=${d.child.pid}`, `STATUS=listening on ${join(dir, 'run', 'socket')}`]);
      expect(existsSync(join(dir, 'run', 'socket'))).toBe(true);
    } finally {
      rx.close();
      expect(await d.stop()).toBe(0);
    }
  });

  it("the command line of dist-files/systemd/xsgit.service starts, serves and is ready (paths made temporary)", async () => {
    const unit = readFileSync(join(REPO_ROOT, 'dist-files', 'systemd', 'xsgit.service'), 'utf8');
    const exec = /^ExecStart=\/usr\/bin\/env xsgit (.*)$/m.exec(unit);
    expect(unit).toMatch(/^Environment=UV_THREADPOOL_SIZE=5$/m);
    expect(exec, 'ExecStart=/usr/bin/env xsgit …').not.toBeNull();
    const dir = mkdtempSync(join(tmpdir(), 'xsgit-unit-'));
    // --xen needs a hypervisor (docs/xen.md); without one the rest of the line is checked.
    const xen = existsSync('/dev/xen/evtchn') ? '--xen' : '';
    const args = exec![1]
      .replace('--xen', xen)
      .replaceAll('/run/xenstored', join(dir, 'run'))
      .replaceAll('/run/xenstore.pid', join(dir, 'xenstore.pid'))
      .replaceAll('/var/lib/xsgit', join(dir, 'state'))
      .split(' ')
      .filter((a) => a !== '');
    expect(args.join(' ')).not.toMatch(/ \/(run|var)\//);
    const rx = await notifySocket(dir);
    const d = startCli(args, { env: cleanEnv({ NOTIFY_SOCKET: rx.path }) });
    try {
      expect((await rx.message).split('\n')[0]).toBe('READY=1');
      expect(readFileSync(join(dir, 'xenstore.pid'), 'utf8').trim()).toBe(String(d.child.pid));
      expect(existsSync(join(dir, 'run', 'socket'))).toBe(true);
    } finally {
      rx.close();
      expect(await d.stop()).toBe(0);
    }
    expect(existsSync(join(dir, 'state', 'HEAD'))).toBe(true); // the history's repository
  });
});
