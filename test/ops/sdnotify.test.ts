/**
 * Issue 16 §1: readiness for systemd's Type=notify. The daemon sends READY=1 (with MAINPID
 * and a STATUS line) to $NOTIFY_SOCKET once its socket is served, through libsystemd's
 * sd_notify; a Python datagram socket plays systemd's part.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TEST_PEER } from '../helpers/daemon.js';
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

runnable('sd_notify', () => {
  it('sends READY=1 with MAINPID once the socket is served', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xsgit-notify-'));
    const notify = join(dir, 'notify');
    const rx = spawn(python, ['-c', RECEIVER, notify], { stdio: ['ignore', 'pipe', 'inherit'] });
    let got = '';
    rx.stdout.setEncoding('utf8').on('data', (d: string) => (got += d));
    const received = new Promise<void>((r) => rx.once('close', () => r()));
    while (!got.includes('bound')) await new Promise((r) => setTimeout(r, 20));
    const d = startCli(['daemon', '--run-dir', join(dir, 'run')], { env: cleanEnv({ NOTIFY_SOCKET: notify }) });
    try {
      await received;
      await d.waitFor('listening on');
      const msg = got.slice(got.indexOf('\n') + 1);
      expect(msg.split('\n')).toEqual(['READY=1', `MAINPID=${d.child.pid}`, `STATUS=listening on ${join(dir, 'run', 'socket')}`]);
      expect(existsSync(join(dir, 'run', 'socket'))).toBe(true);
    } finally {
      rx.kill();
      expect(await d.stop()).toBe(0);
    }
  });
});
