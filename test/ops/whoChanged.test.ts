/**
 * Issue 16 §4, "who changed it": every change made through dom0's socket names the process
 * behind the connection (SO_PEERCRED pid and uid, /proc/PID/comm) in its commit's trailers, in
 * the mirror's git commits, and the access log (mode 0600) has a line per connect and
 * disconnect naming it.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Client } from '../../src/client/index.js';
import { parseCommitMessage } from '../../src/history/commitMessage.js';
import { TEST_PEER } from '../helpers/daemon.js';
import { PYTHON, runPython, xs } from '../helpers/tools.js';
import { cleanEnv, startCli, xsgit } from './cli.js';

const onlyXsgit = TEST_PEER === 'xsgit' ? describe : describe.skip;
const HAVE_XS = existsSync('/usr/bin/xenstore-write');
const uid = process.getuid?.() ?? 0;

onlyXsgit('who changed it', () => {
  it('names the process in the trailers, the mirror and the access log', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xsgit-who-'));
    const socket = join(dir, 'run', 'socket');
    const log = join(dir, 'access.log');
    const git = join(dir, 'repo');
    const d = startCli(['daemon', '--run-dir', join(dir, 'run'), '--access-log', log, '--git-dir', git, '--mirror-lag', '50']);
    try {
      await d.waitFor('listening on');
      // This test process, through the client library.
      const c = await Client.connect({ path: socket });
      await c.write('/who/lib', 'x');
      // A guest's RELEASE: the daemon removes its nodes as dom0, in the name of the asker.
      await c.introduce(7, 1, 1);
      await c.write('/local/domain/7/name', 'guest7');
      await c.setPerms('/local/domain/7', ['n7']);
      await c.release(7);
      await c.transaction(async (t) => {
        await t.write('/who/tx/a', '1');
        await t.write('/who/tx/b', '2');
      });
      await c.close();
      const env = cleanEnv({ XENSTORED_PATH: socket });
      const show = async (rev: string): Promise<string> => {
        const r = await xsgit(['show', rev], { env });
        expect(r.code, r.stderr).toBe(0);
        return r.stdout;
      };
      const myComm = readFileSync('/proc/self/comm', 'utf8').trim();
      const tx = await show('HEAD');
      expect(tx).toContain(`Xenstore-Pid: ${process.pid}\n`);
      expect(tx).toContain(`Xenstore-Uid: ${uid}\n`);
      expect(tx).toContain(`Xenstore-Comm: ${myComm.replace(/ /g, '\\x20')}\n`);
      expect(tx).toMatch(/Xenstore-Tx: \d+-\d+\n/);
      expect(await show('HEAD~1')).toContain(`Xenstore-Pid: ${process.pid}\n`);
      const release = await show('HEAD~1');
      expect(release).toContain('rm /local/domain/7');
      expect(release).toContain(`Xenstore-Pid: ${process.pid}\n`);

      if (HAVE_XS) {
        const w = await xs(socket, 'write', ['/who/tool', 'v']);
        expect(w.code, w.stderr).toBe(0);
        const s = await show('HEAD');
        expect(s).toContain('write /who/tool');
        expect(s).toMatch(/Xenstore-Pid: [1-9]\d*\n/);
        expect(s).toContain('Xenstore-Comm: xenstore-write\n');
        expect(readFileSync(log, 'utf8')).toMatch(/ CONNECT conn \d+ dom 0 pid \d+ uid \d+ comm xenstore-write\n/);
      }
      if (existsSync(PYTHON)) {
        const p = await runPython(socket, "import pyxs\nwith pyxs.Client(unix_socket_path=__import__('os').environ['XENSTORED_PATH']) as c:\n    c.write(b'/who/py', b'p')\n");
        if (p.code === 0) expect(await show('HEAD')).toMatch(/Xenstore-Comm: python3(\.\d+)?\n/);
      }

      // The live mirror's commits carry the same trailers (git reads them as trailers).
      await new Promise((r) => setTimeout(r, 400));
      const body = execFileSync('git', ['--git-dir', git, 'log', '-1', '--format=%B', 'main', '--', 'who/lib/.value'], { encoding: 'utf8' });
      const parsed = parseCommitMessage(body);
      expect(parsed.by).toEqual({ pid: process.pid, uid, comm: myComm });
      const trailers = execFileSync('git', ['--git-dir', git, 'log', '-1', '--format=%(trailers:key=Xenstore-Pid,valueonly)', 'main', '--', 'who/lib/.value'], { encoding: 'utf8' });
      expect(trailers.trim()).toBe(String(process.pid));
    } finally {
      expect(await d.stop()).toBe(0);
    }
    const lines = readFileSync(log, 'utf8').split('\n');
    expect(statSync(log).mode & 0o777).toBe(0o600);
    const connect = lines.find((l) => l.includes(` CONNECT `) && l.includes(` pid ${process.pid} `));
    expect(connect).toMatch(new RegExp(` CONNECT conn (\\d+) dom 0 pid ${process.pid} uid ${uid} comm `));
    const conn = / conn (\d+) /.exec(connect!)![1];
    expect(lines.some((l) => new RegExp(` DISCONNECT conn ${conn} dom 0$`).test(l))).toBe(true);
  });

  it('the CLI itself is named xsgit (revert-to, tag … are attributed to it)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xsgit-who-'));
    const log = join(dir, 'access.log');
    const d = startCli(['daemon', '--run-dir', join(dir, 'run'), '--access-log', log]);
    try {
      await d.waitFor('listening on');
      const r = await xsgit(['stats'], { env: cleanEnv({ XENSTORED_PATH: join(dir, 'run', 'socket') }) });
      expect(r.code, r.stderr).toBe(0);
    } finally {
      await d.stop();
    }
    expect(readFileSync(log, 'utf8')).toMatch(/ CONNECT conn \d+ dom 0 pid \d+ uid \d+ comm xsgit\n/);
  });
});
