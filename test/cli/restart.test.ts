/**
 * Issue 16 §3: after a restart with --git-dir, log, show HEAD~N, diff, ls and bisect reach the
 * history the repository holds (the retained window is read back at start), with the same
 * ids, messages and answers as before the restart.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { startDaemon, TEST_PEER, type DaemonHandle } from '../helpers/daemon.js';
import { xsgit, xsgitJson } from '../helpers/cli.js';

const onlyXsgit = TEST_PEER === 'xsgit' ? describe : describe.skip;
const exec = promisify(execFile);

interface Entry {
  commit: string;
  time: string;
  parents: string[];
  summary: string;
  revert: { commit: string; path: string } | null;
}

async function mirrored(repo: string, d: DaemonHandle): Promise<void> {
  const head = (await xsgitJson<{ commit: string }>(d.env, ['show', 'HEAD'])).commit;
  const deadline = Date.now() + 10_000;
  for (;;) {
    const at = await exec('git', ['--git-dir', repo, 'rev-parse', 'refs/heads/main']).then((r) => r.stdout.trim(), () => '');
    if (at === head) return;
    if (Date.now() > deadline) throw new Error('the mirror did not catch up');
    await new Promise((r) => setTimeout(r, 50));
  }
}

onlyXsgit('a restart with --git-dir', { timeout: 90_000 }, () => {
  it('log, show HEAD~N, diff, ls and bisect answer as before the restart', async () => {
    const repo = join(mkdtempSync(join(tmpdir(), 'xsgit-restart-')), 'repo.git');
    const args = ['--git-dir', repo, '--mirror-lag', '50', '--history', 'all:40,1m:5'];
    const d1 = await startDaemon({ args });
    const c1 = await d1.connect();
    const q = (d: DaemonHandle, ...a: string[]) => xsgit(d.env, a);
    let before: { log: Entry[]; show5: string; showMerge: string; diff: string; ls: Buffer; good: string };
    try {
      await c1.write('/local/domain/4/state', '4');
      await c1.write('/local/domain/4/name', Buffer.from('café ✓'));
      const good = (await xsgitJson<{ commit: string }>(d1.env, ['show', 'HEAD'])).commit;
      for (let i = 0; i < 8; i++) await c1.write(`/local/domain/4/data/k${i}`, Buffer.from([0xff, i]));
      // A merge: two transactions that overlap in time.
      const c2 = await d1.connect();
      const t1 = await c1.transactionStart();
      const t2 = await c2.transactionStart();
      await c1.write('/m/left', 'l', t1);
      await c2.write('/m/right', 'r', t2);
      await c1.transactionEnd(t1);
      await c2.transactionEnd(t2);
      await c2.close();
      await c1.write('/local/domain/4/state', '6');
      expect((await xsgit(d1.env, ['revert-to', 'HEAD~6', '/local/domain/4/data'])).code).toBe(0);
      const log = await xsgitJson<Entry[]>(d1.env, ['log']);
      const merge = log.find((e) => e.parents.length === 2)!;
      before = {
        log,
        show5: (await q(d1, 'show', 'HEAD~5')).stdout,
        showMerge: (await q(d1, 'show', merge.commit)).stdout,
        diff: (await q(d1, 'diff', 'HEAD~9', 'HEAD')).stdout,
        ls: (await q(d1, 'ls', 'HEAD~4', '/local/domain/4')).out,
        good,
      };
      expect(before.showMerge).toMatch(/^Merge: [0-9a-f]{12} [0-9a-f]{12}$/m);
      await mirrored(repo, d1);
    } finally {
      await c1.close();
      await d1.stop();
    }

    const d2 = await startDaemon({ args });
    try {
      const log = await xsgitJson<Entry[]>(d2.env, ['log']);
      // Everything retained before comes back: the same ids, parents, summaries, revert notes;
      // times as git records them, in whole seconds (docs/decisions.md).
      const seconds = (l: Entry[]) => l.map((e) => ({ ...e, time: e.time.replace(/\.\d{3}Z$/, '.000Z') }));
      expect(log).toEqual(seconds(before.log));
      const gitLine = (await exec('git', ['--git-dir', repo, 'rev-list', '--first-parent', 'main'])).stdout.trim().split('\n');
      expect(log.map((e) => e.commit)).toEqual(gitLine.slice(0, log.length));
      expect(log[0].revert).toEqual({ commit: log[7].commit, path: '/local/domain/4/data' });
      expect((await q(d2, 'show', 'HEAD~5')).stdout).toBe(before.show5);
      expect((await q(d2, 'show', before.log.find((e) => e.parents.length === 2)!.commit)).stdout).toBe(before.showMerge);
      expect((await q(d2, 'diff', 'HEAD~9', 'HEAD')).stdout).toBe(before.diff);
      expect((await q(d2, 'ls', 'HEAD~4', '/local/domain/4')).out).toEqual(before.ls);
      const stats = await xsgitJson<{ retained: number; imported: number; commits: number; commit: string }>(d2.env, ['stats']);
      expect(stats.retained).toBeGreaterThanOrEqual(log.length);
      expect(stats.imported).toBe(stats.retained);
      expect(stats.commits).toBe(0);
      expect(stats.commit).toBe(log[0].commit);
      // Bisect across the restart: the good commit was made by the first daemon.
      const c = await d2.connect();
      await c.write('/local/domain/4/after', 'restart');
      await c.close();
      const found = await xsgitJson<{ commit: string; summary: string }>(d2.env, ['bisect', '--good', before.good, '--bad', 'HEAD', '--expect', '/local/domain/4/state=4']);
      expect(found.summary).toBe('write /local/domain/4/state');
      expect(found.commit).toBe(before.log.find((e) => e.summary === 'write /local/domain/4/state')!.commit);
    } finally {
      await d2.stop();
    }
  });
});
