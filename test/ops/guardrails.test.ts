/**
 * Issue 16 §2, the daemon's guard rails, through the real CLI and socket: a second daemon on
 * a served run directory is refused and leaves the first untouched; a daemon never deletes a
 * socket or pid file that is not its own; SIGHUP reopens the access log; bad paths are refused
 * before listening.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Client } from '../../src/client/index.js';
import { TEST_PEER } from '../helpers/daemon.js';
import { startCli, xsgit } from './cli.js';

const onlyXsgit = TEST_PEER === 'xsgit' ? describe : describe.skip;

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'xsgit-ops-'));
}

async function answers(socket: string, key: string, value: string): Promise<void> {
  const c = await Client.connect({ path: socket, connectTimeoutMs: 2000 });
  try {
    await c.write(key, value);
    expect((await c.read(key)).toString()).toBe(value);
  } finally {
    await c.close();
  }
}

onlyXsgit('daemon guard rails', () => {
  it('refuses a second daemon on a served run directory, exit 1, the first untouched', async () => {
    const dir = tmp();
    const socket = join(dir, 'socket');
    const first = startCli(['daemon', '--run-dir', dir]);
    try {
      await first.waitFor('listening on');
      await answers(socket, '/ops/first', '1');
      const inode = statSync(socket).ino;
      const second = await xsgit(['daemon', '--run-dir', dir]);
      expect(second.code).toBe(1);
      expect(second.stderr).toContain(`another daemon (pid ${first.child.pid}) serves ${socket}`);
      expect(second.stdout).not.toContain('export XENSTORED_PATH');
      expect(statSync(socket).ino).toBe(inode);
      expect(readFileSync(join(dir, 'pid'), 'utf8').trim()).toBe(String(first.child.pid));
      const c = await Client.connect({ path: socket });
      expect((await c.read('/ops/first')).toString()).toBe('1');
      await c.close();
    } finally {
      expect(await first.stop()).toBe(0);
    }
    expect(existsSync(socket)).toBe(false);
  });

  it('stopping a daemon never deletes a socket or pid file it does not own', async () => {
    const dir = tmp();
    const socket = join(dir, 'socket');
    const first = startCli(['daemon', '--run-dir', dir]);
    await first.waitFor('listening on');
    // Someone moves the first daemon's socket away and starts another daemon in its place.
    renameSync(socket, join(dir, 'socket.moved'));
    const second = startCli(['daemon', '--run-dir', dir]);
    try {
      await second.waitFor('listening on');
      expect(await first.stop()).toBe(0);
      expect(existsSync(socket)).toBe(true);
      expect(readFileSync(join(dir, 'pid'), 'utf8').trim()).toBe(String(second.child.pid));
      await answers(socket, '/ops/second', '2');
    } finally {
      expect(await second.stop()).toBe(0);
    }
    expect(existsSync(socket)).toBe(false);
  });

  it('replaces a stale socket (nobody listening) left by a killed daemon', async () => {
    const dir = tmp();
    const first = startCli(['daemon', '--run-dir', dir]);
    await first.waitFor('listening on');
    first.child.kill('SIGKILL');
    await first.exited;
    expect(existsSync(join(dir, 'socket'))).toBe(true);
    const next = startCli(['daemon', '--run-dir', dir]);
    try {
      await next.waitFor('listening on');
      await answers(join(dir, 'socket'), '/ops/next', '3');
    } finally {
      expect(await next.stop()).toBe(0);
    }
  });

  it('SIGHUP reopens the access log (logrotate) and the daemon goes on; the log is mode 0600', async () => {
    const dir = tmp();
    const log = join(dir, 'access.log');
    writeFileSync(log, '', { mode: 0o644 });
    const d = startCli(['daemon', '--run-dir', join(dir, 'run'), '--access-log', log]);
    try {
      await d.waitFor('listening on');
      expect(statSync(log).mode & 0o777).toBe(0o600);
      await answers(join(dir, 'run', 'socket'), '/ops/before', 'b');
      renameSync(log, `${log}.1`);
      d.child.kill('SIGHUP');
      await d.waitFor(`SIGHUP: reopened ${log}`);
      await answers(join(dir, 'run', 'socket'), '/ops/after', 'a');
      await new Promise((r) => setTimeout(r, 100));
      expect(readFileSync(`${log}.1`, 'utf8')).toContain('/ops/before b');
      expect(readFileSync(log, 'utf8')).toContain('/ops/after a');
      expect(readFileSync(log, 'utf8')).not.toContain('/ops/before');
      expect(statSync(log).mode & 0o777).toBe(0o600);
    } finally {
      expect(await d.stop()).toBe(0);
    }
  });

  it.each([
    ['--access-log', (dir: string) => join(dir, 'missing', 'access.log'), /--access-log .*missing\/access\.log: ENOENT/],
    ['--access-log', (dir: string) => dir, /--access-log .*: EISDIR/],
    ['--pid-file', (dir: string) => join(dir, 'missing', 'x.pid'), /--pid-file .*missing\/x\.pid: ENOENT/],
    ['--pid-file', (dir: string) => dir, /--pid-file .*: EISDIR/],
    ['--log-file', (dir: string) => join(dir, 'missing', 'xsgit.log'), /--log-file .*missing\/xsgit\.log: ENOENT/],
  ])('refuses a bad %s path before listening (exit 1, nothing served, nothing left)', async (flag, path, message) => {
    const dir = tmp();
    const run = join(dir, 'run');
    const r = await xsgit(['daemon', '--run-dir', run, flag, path(dir)]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toContain('listening');
    expect(r.stdout).toBe('');
    expect(existsSync(join(run, 'socket'))).toBe(false);
    expect(existsSync(join(run, 'pid'))).toBe(false);
  });

  it('refuses a run directory it cannot create, and a non-socket in the socket place', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'file'), '');
    const r = await xsgit(['daemon', '--run-dir', join(dir, 'file', 'run')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/run directory .*file\/run: (ENOTDIR|EEXIST)/);
    mkdirSync(join(dir, 'run'));
    writeFileSync(join(dir, 'run', 'socket'), 'not a socket');
    const r2 = await xsgit(['daemon', '--run-dir', join(dir, 'run')]);
    expect(r2.code).toBe(1);
    expect(r2.stderr).toContain('exists and is not a socket');
    expect(readFileSync(join(dir, 'run', 'socket'), 'utf8')).toBe('not a socket');
    expect(existsSync(join(dir, 'run', 'pid'))).toBe(false);
  });
});

onlyXsgit('daemon --background and --log-file', () => {
  it('returns once serving; a failing start reports the log and its status; SIGHUP reopens --log-file', async () => {
    const dir = tmp();
    const run = join(dir, 'run');
    const log = join(dir, 'xsgit.log');
    const r = await xsgit(['daemon', '--background', '--run-dir', run, '--log-file', log, '--pid-file', join(dir, 'x.pid')]);
    expect(r.code, r.stderr).toBe(0);
    const pid = Number(readFileSync(join(dir, 'x.pid'), 'utf8'));
    expect(r.stdout).toBe(`xsgit daemon: pid ${pid} serving (log: ${log})\n`);
    try {
      await answers(join(run, 'socket'), '/ops/bg', 'x');
      const again = await xsgit(['daemon', '--background', '--run-dir', run, '--log-file', join(dir, 'second.log')]);
      expect(again.code).toBe(1);
      expect(again.stderr).toContain(`another daemon (pid ${pid}) serves ${join(run, 'socket')}`);
      renameSync(log, `${log}.1`);
      process.kill(pid, 'SIGHUP');
      const reopened = (): boolean => existsSync(log) && readFileSync(log, 'utf8').includes(`SIGHUP: reopened ${log}`);
      for (let i = 0; i < 200 && !reopened(); i++) await new Promise((res) => setTimeout(res, 20));
      expect(readFileSync(log, 'utf8')).toContain(`SIGHUP: reopened ${log}`);
      expect(readFileSync(`${log}.1`, 'utf8')).toContain('listening on');
    } finally {
      process.kill(pid, 'SIGTERM');
    }
    for (let i = 0; i < 100 && existsSync(join(dir, 'x.pid')); i++) await new Promise((res) => setTimeout(res, 50));
    expect(readFileSync(log, 'utf8')).toContain('SIGTERM: stopping');
    const bare = await xsgit(['daemon', '--background', '--run-dir', run]);
    expect(bare.code).toBe(1);
    expect(bare.stderr).toContain('--background needs --log-file');
  });
});
