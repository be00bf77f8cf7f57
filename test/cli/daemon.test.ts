/** `xsgit daemon`: run directory, socket mode, pid file, stale socket, access log, signals. */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Client } from '../../src/client/index.js';
import { REPO_ROOT, startDaemon, TEST_PEER } from '../helpers/daemon.js';

const onlyXsgit = TEST_PEER === 'xsgit' ? describe : describe.skip;

onlyXsgit('xsgit daemon', () => {
  it('prints the export line, makes the socket 0600 and writes the pid file', async () => {
    const d = await startDaemon();
    try {
      expect(d.stdout()).toContain(`export XENSTORED_PATH=${d.socket}\n`);
      expect(statSync(d.socket).mode & 0o777).toBe(0o600);
      expect(statSync(d.socket).isSocket()).toBe(true);
      expect(readFileSync(join(d.dir, 'pid'), 'utf8').trim()).toBe(String(d.pid));
    } finally {
      const r = await d.stop();
      expect(r.code).toBe(0);
    }
    expect(existsSync(d.socket)).toBe(false);
    expect(existsSync(join(d.dir, 'pid'))).toBe(false);
  });

  it('honours --pid-file and replaces a stale socket left by a dead daemon', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xsgit-cli-'));
    // A socket file nobody listens on any more.
    await new Promise<void>((res) => {
      const s = createServer().listen(join(dir, 'socket'), () => {
        s.close(() => res());
      });
    });
    writeFileSync(join(dir, 'marker'), '');
    const pidFile = join(dir, 'xenstored.pid');
    const child = spawn(process.execPath, [join(REPO_ROOT, 'bin/xsgit.js'), 'daemon', '--run-dir', dir, '--pid-file', pidFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    const line = await new Promise<string>((res, rej) => {
      let out = '';
      child.stdout.on('data', (b: Buffer) => {
        out += b.toString();
        if (out.includes('\n')) res(out);
      });
      child.once('exit', (code) => rej(new Error(`daemon exited ${code}`)));
    });
    expect(line).toBe(`export XENSTORED_PATH=${join(dir, 'socket')}\n`);
    expect(readFileSync(pidFile, 'utf8').trim()).toBe(String(child.pid));
    const c = await Client.connect({ path: join(dir, 'socket') });
    await c.write('/cli/x', 'y');
    expect((await c.read('/cli/x')).toString()).toBe('y');
    await c.close();
    const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(existsSync(pidFile)).toBe(false);
  });

  it('writes one access-log line per request and per reply or event', async () => {
    const log = join(mkdtempSync(join(tmpdir(), 'xsgit-log-')), 'access.log');
    const d = await startDaemon({ args: ['--access-log', log] });
    const c = await Client.connect({ path: d.socket });
    await c.write('/log/k', 'v');
    await expect(c.read('/log/missing')).rejects.toMatchObject({ code: 'ENOENT' });
    await c.close();
    await d.stop();
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    expect(lines.some((l) => / IN {2}conn \d+ dom 0 WRITE req \d+ tx 0 \(\/log\/k v\)$/.test(l))).toBe(true);
    expect(lines.some((l) => / OUT conn \d+ dom 0 WRITE req \d+ tx 0 \(OK \)$/.test(l))).toBe(true);
    expect(lines.some((l) => / OUT conn \d+ dom 0 ERROR req \d+ tx 0 \(ENOENT \)$/.test(l))).toBe(true);
  });

  it('reads options from --config, with command-line flags winning', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xsgit-cfg-'));
    const file = join(dir, 'xsgit.json');
    writeFileSync(file, JSON.stringify({ history: 'all:7,1h:2', quota: { nodes: 33 }, logLevel: 'debug' }));
    const d = await startDaemon({ args: ['--config', file, '--log-level', 'warn'] });
    const c = await Client.connect({ path: d.socket });
    try {
      const stats = JSON.parse(await c.control('history', 'stats', '--json')) as { tiers: { tier: string; capacity: number }[] };
      expect(stats.tiers).toEqual([
        { tier: 'all', rows: 1, capacity: 7 },
        { tier: '1h', rows: 0, capacity: 2 },
      ]);
      expect(await c.control('quota')).toMatch(/^nodes\s+:\s+33 /m);
    } finally {
      await c.close();
      await d.stop();
    }
    writeFileSync(file, JSON.stringify({ nosuch: 1 }));
    await expect(startDaemon({ args: ['--config', file], timeoutMs: 3000 })).rejects.toThrow();
  });
});
