/**
 * Issue 16 §1: the CLI finds the daemon by libxenstore's rule ($XENSTORED_PATH, else
 * $XENSTORED_RUNDIR/socket, else /var/run/xenstored/socket), then xsgit's local ./run/socket
 * (what `npm start` serves); `--socket PATH` wins; when nothing answers, it says what it tried.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultSocketPath, socketCandidates } from '../../src/client/paths.js';
import { TEST_PEER } from '../helpers/daemon.js';
import { cleanEnv, startCli, xsgit } from './cli.js';

const onlyXsgit = TEST_PEER === 'xsgit' ? describe : describe.skip;
/** On a host whose own xenstored serves the system socket, "nothing answers" cannot be shown. */
const SYSTEM_SOCKET = existsSync('/var/run/xenstored/socket');

describe('socket rule (src/client/paths.ts)', () => {
  it("is libxenstore's, then ./run/socket", () => {
    expect(socketCandidates({ XENSTORED_PATH: '/x/y', XENSTORED_RUNDIR: '/r' }, '/w')).toEqual([{ path: '/x/y', source: '$XENSTORED_PATH' }]);
    expect(socketCandidates({ XENSTORED_RUNDIR: '/r' }, '/w')).toEqual([{ path: '/r/socket', source: '$XENSTORED_RUNDIR' }]);
    expect(socketCandidates({ XENSTORED_PATH: '', XENSTORED_RUNDIR: '' }, '/w').map((c) => c.path)).toEqual(['/var/run/xenstored/socket', '/w/run/socket']);
    expect(defaultSocketPath({})).toBe('/var/run/xenstored/socket');
  });
});

onlyXsgit('socket rule through the CLI', () => {
  it('finds the daemon of `npm start` (./run/socket) from its directory, with no variable set', async () => {
    if (SYSTEM_SOCKET) return;
    const dir = mkdtempSync(join(tmpdir(), 'xsgit-sock-'));
    const d = startCli(['daemon'], { cwd: dir }); // the default run directory: ./run
    try {
      await d.waitFor('listening on');
      expect(d.out()).toBe(`export XENSTORED_PATH=${join(dir, 'run', 'socket')}\n`);
      const r = await xsgit(['stats'], { cwd: dir });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/commits/);
    } finally {
      expect(await d.stop()).toBe(0);
    }
  });

  it('takes --socket before or after the command, over XENSTORED_PATH, and XENSTORED_RUNDIR', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xsgit-sock-'));
    const socket = join(dir, 'run', 'socket');
    const d = startCli(['daemon', '--run-dir', join(dir, 'run')]);
    try {
      await d.waitFor('listening on');
      const wrong = cleanEnv({ XENSTORED_PATH: join(dir, 'nothing-here') });
      for (const args of [['--socket', socket, 'stats'], ['stats', '--socket', socket]]) {
        const r = await xsgit(args, { env: wrong });
        expect(r.code, r.stderr).toBe(0);
      }
      const r = await xsgit(['stats'], { env: cleanEnv({ XENSTORED_RUNDIR: join(dir, 'run') }) });
      expect(r.code, r.stderr).toBe(0);
      const bad = await xsgit(['daemon', '--socket', socket]);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain('--run-dir');
    } finally {
      expect(await d.stop()).toBe(0);
    }
  });

  it('says what it tried when nothing answers (exit 1)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xsgit-sock-'));
    const explicit = await xsgit(['log'], { env: cleanEnv({ XENSTORED_PATH: join(dir, 'gone') }) });
    expect(explicit.code).toBe(1);
    expect(explicit.stderr).toBe(`xsgit: no xenstored answers; tried ${join(dir, 'gone')} ($XENSTORED_PATH): ENOENT (no such socket). Set XENSTORED_PATH (or --socket) to the daemon's socket\n`);
    if (SYSTEM_SOCKET) return;
    // A stale socket in ./run: the local default is tried after libxenstore's.
    const stale = startCli(['daemon'], { cwd: dir });
    await stale.waitFor('listening on');
    stale.child.kill('SIGKILL');
    await stale.exited;
    const r = await xsgit(['show'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("tried /var/run/xenstored/socket (libxenstore's default): ENOENT (no such socket)");
    expect(r.stderr).toContain(`${join(dir, 'run', 'socket')} (xsgit's local default, npm start): ECONNREFUSED (a stale socket: no daemon listens)`);
  });
});
