/** The git export: one-off (`xsgit export`), the live mirror (`--git-dir`), a restart that
 *  continues the same history, and `--restore-from`; checked with the real git. */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { Client } from '../../src/client/index.js';
import { REPO_ROOT, startDaemon, TEST_PEER } from '../helpers/daemon.js';

const run = promisify(execFile);
const onlyXsgit = TEST_PEER === 'xsgit' ? describe : describe.skip;

async function git(dir: string, ...args: string[]): Promise<string> {
  const { stdout } = await run('git', ['--git-dir', dir, ...args], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: tmpdir() } });
  return stdout;
}

function freshDir(): string {
  return join(mkdtempSync(join(tmpdir(), 'xsgit-export-')), 'repo.git');
}

/** Waits until the mirror has exported `id` as main's head. */
async function mirrored(dir: string, id: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      if ((await git(dir, 'rev-parse', 'refs/heads/main')).trim() === id) return;
    } catch {
      // not created yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`mirror did not reach ${id}`);
}

async function headId(c: Client): Promise<string> {
  return (JSON.parse(await c.control('history', 'log', '-n', '1', '--json')) as { commit: string }[])[0].commit;
}

onlyXsgit('git export', () => {
  it('xsgit export writes a repository that git fsck, log and cat-file accept, incrementally', async () => {
    const d = await startDaemon();
    const c = await Client.connect({ path: d.socket });
    try {
      await c.write('/local/domain/3/name', 'guest3');
      await c.write('/local/domain/3/memory/target', '524288');
      await c.transaction(async (t) => {
        await t.write('/local/domain/3/name', 'renamed');
        await t.setPerms('/local/domain/3', ['n3', 'r0']);
      });
      await c.write('/bin', Buffer.from('a\0b\xff', 'latin1'));
      const dir = freshDir();
      const cli = (args: string[]) => run(process.execPath, [`${REPO_ROOT}/bin/xsgit.js`, ...args], { env: d.env });
      const first = await cli(['export', '--git-dir', dir]);
      expect(first.stdout).toMatch(/^exported \d+ objects \(5 commits\)/);
      await git(dir, 'fsck', '--strict');
      expect((await git(dir, 'rev-list', '--count', 'main')).trim()).toBe('5');
      expect((await git(dir, 'rev-parse', 'main')).trim()).toBe(await headId(c));
      expect(await git(dir, 'cat-file', '-p', 'main:local/domain/3/name/.value')).toBe('renamed');
      expect(await git(dir, 'cat-file', '-p', 'main:local/domain/3/.perms')).toBe('n3\nr0\n');
      expect(await git(dir, 'cat-file', '-p', 'main~1:local/domain/3/name/.value')).toBe('renamed');
      expect(await git(dir, 'cat-file', '-p', 'main~2:local/domain/3/name/.value')).toBe('guest3');
      const { stdout: raw } = await run('git', ['--git-dir', dir, 'cat-file', 'blob', 'main:bin/.value'], { encoding: 'buffer' });
      expect(Buffer.compare(raw, Buffer.from('a\0b\xff', 'latin1'))).toBe(0);
      expect(await git(dir, 'log', '--format=%s', '--', 'local/domain/3/name/.value')).toBe('transaction (dom0): 1 write, 1 set_perms under /local/domain/3\nwrite /local/domain/3/name\n');
      // Second export: only what is new.
      await c.write('/local/domain/3/name', 'again');
      const second = await cli(['export', '--git-dir', dir]);
      const objects = Number(/exported (\d+) objects/.exec(second.stdout)![1]);
      expect(objects).toBeGreaterThan(0);
      expect(objects).toBeLessThan(12); // commit + the trees on the path + one blob
      await git(dir, 'fsck', '--strict');
      expect((await git(dir, 'rev-list', '--count', 'main')).trim()).toBe('6');
    } finally {
      await c.close();
      await d.stop();
    }
  });

  it('the live mirror follows within its lag; disjoint transactions show as a merge; a restart continues the same history', async () => {
    const dir = freshDir();
    const d = await startDaemon({ args: ['--git-dir', dir, '--mirror-lag', '100'] });
    const a = await Client.connect({ path: d.socket });
    const b = await Client.connect({ path: d.socket });
    let head: string;
    try {
      await a.write('/vm/1/name', 'one');
      const t1 = await a.transactionStart();
      const t2 = await b.transactionStart();
      await a.write('/local/domain/1/state', 'up', t1);
      await b.write('/local/domain/2/state', 'up', t2);
      await a.transactionEnd(t1);
      await b.transactionEnd(t2);
      head = await headId(a);
      await mirrored(dir, head);
      await git(dir, 'fsck', '--strict');
      const graph = await git(dir, 'log', '--graph', '--format=%s', 'main');
      expect(graph).toMatch(/merge transaction \d+-\d+ \(dom0\)/);
      expect((await git(dir, 'rev-list', '--merges', '--count', 'main')).trim()).toBe('1');
    } finally {
      await a.close();
      await b.close();
      await d.stop();
    }
    // Restart on the same repository: the store comes back, the history goes on.
    const d2 = await startDaemon({ args: ['--git-dir', dir, '--mirror-lag', '100'] });
    const c = await Client.connect({ path: d2.socket });
    try {
      expect((await c.read('/local/domain/2/state')).toString()).toBe('up');
      expect((await c.read('/vm/1/name')).toString()).toBe('one');
      await c.write('/vm/1/name', 'two');
      const next = await headId(c);
      await mirrored(dir, next);
      expect((await git(dir, 'rev-parse', 'main~1')).trim()).toBe(head);
      expect((await git(dir, 'rev-list', '--max-parents=0', '--count', 'main')).trim()).toBe('1');
      await git(dir, 'fsck', '--strict');
    } finally {
      await c.close();
      await d2.stop();
    }
  });

  it('--restore-from DIR:REF sets the store to the tree of an exported commit, exactly, as one new commit', async () => {
    const dir = freshDir();
    const d = await startDaemon({ args: ['--git-dir', dir, '--mirror-lag', '50'] });
    const c = await Client.connect({ path: d.socket });
    let tagged: string;
    try {
      await c.write('/r/a', 'a1');
      await c.write('/r/b', 'bin\0ary');
      await c.setPerms('/r/b', ['n5', 'r0']);
      tagged = await c.control('history', 'tag', 'known-good');
      await c.write('/r/a', 'broken');
      await c.rm('/r/b');
      await mirrored(dir, await headId(c));
    } finally {
      await c.close();
      await d.stop();
    }
    const r = await startDaemon({ args: ['--restore-from', `${dir}:refs/tags/known-good`] });
    const c2 = await Client.connect({ path: r.socket });
    try {
      expect((await c2.read('/r/a')).toString()).toBe('a1');
      expect((await c2.read('/r/b')).toString('latin1')).toBe('bin\0ary');
      expect(await c2.getPerms('/r/b')).toEqual(['n5', 'r0']);
      const [head] = JSON.parse(await c2.control('history', 'log', '-n', '1', '--json')) as { summary: string; domid: number }[];
      expect(head.summary).toContain(tagged.slice(0, 12));
      expect(head.domid).toBe(0);
      expect(await c2.control('check')).toBe('OK');
    } finally {
      await c2.close();
      await r.stop();
    }
  });

  it('--restore-from with --git-dir: the restore is a commit on top of that history, and the repository stays whole', async () => {
    const source = freshDir();
    const d = await startDaemon({ args: ['--git-dir', source, '--mirror-lag', '50'] });
    const c = await Client.connect({ path: d.socket });
    try {
      await c.write('/rs/v', 'from-source');
      await mirrored(source, await headId(c));
    } finally {
      await c.close();
      await d.stop();
    }
    const target = freshDir();
    const t1 = await startDaemon({ args: ['--git-dir', target, '--mirror-lag', '50'] });
    const c1 = await Client.connect({ path: t1.socket });
    let before: string;
    try {
      await c1.write('/rs/other', 'target-history');
      before = await headId(c1);
      await mirrored(target, before);
    } finally {
      await c1.close();
      await t1.stop();
    }
    const t2 = await startDaemon({ args: ['--git-dir', target, '--mirror-lag', '50', '--restore-from', source] });
    const c2 = await Client.connect({ path: t2.socket });
    try {
      expect((await c2.read('/rs/v')).toString()).toBe('from-source');
      expect(await c2.exists('/rs/other')).toBe(false);
      await c2.write('/rs/after', '1');
      await mirrored(target, await headId(c2));
    } finally {
      await c2.close();
      await t2.stop();
    }
    await git(target, 'fsck', '--strict');
    // main only moved forward: the history before the restore is still its ancestor.
    await git(target, 'merge-base', '--is-ancestor', before, 'refs/heads/main');
    expect(await git(target, 'log', '--format=%s', '-n', '2', 'main')).toMatch(/revert \/ to [0-9a-f]{12}/);
  });

  it('a restart in the middle continues the tier chains and keeps the tags', async () => {
    const dir = freshDir();
    const args = ['--git-dir', dir, '--mirror-lag', '100', '--history', 'all:50,1s:20'];
    const d = await startDaemon({ args });
    const c = await Client.connect({ path: d.socket });
    let tierBefore: string;
    try {
      await c.write('/t/pinned', 'kept');
      await c.control('history', 'tag', 'keep-me');
      for (let i = 0; i < 25; i++) {
        await c.write('/t/v', String(i));
        await new Promise((r) => setTimeout(r, 100));
      }
      await mirrored(dir, await headId(c));
      tierBefore = (await git(dir, 'rev-parse', 'history/1s')).trim();
    } finally {
      await c.close();
      await d.stop();
    }
    const d2 = await startDaemon({ args });
    const c2 = await Client.connect({ path: d2.socket });
    try {
      expect(await c2.control('history', 'cat', 'keep-me', '/t/pinned')).toBe('kept');
      for (let i = 0; i < 25; i++) {
        await c2.write('/t/v', `again${i}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      await mirrored(dir, await headId(c2));
    } finally {
      await c2.close();
      await d2.stop();
    }
    const tierAfter = (await git(dir, 'rev-parse', 'history/1s')).trim();
    expect(tierAfter).not.toBe(tierBefore);
    // The new rows continue the old chain: the row seen before the restart is an ancestor.
    await git(dir, 'merge-base', '--is-ancestor', tierBefore, tierAfter);
    expect((await git(dir, 'cat-file', '-p', 'keep-me:t/pinned/.value'))).toBe('kept');
    await git(dir, 'fsck', '--strict');
  });

  it('--git-retention: the repository keeps what memory keeps, and git still accepts it', async () => {
    const dir = freshDir();
    const d = await startDaemon({ args: ['--git-dir', dir, '--git-retention', '--mirror-lag', '50', '--history', 'all:20'] });
    const c = await Client.connect({ path: d.socket });
    try {
      for (let i = 0; i < 150; i++) await c.write(`/gr/k${i % 5}`, String(i));
      await mirrored(dir, await headId(c));
    } finally {
      await c.close();
      await d.stop();
    }
    const count = Number((await git(dir, 'rev-list', '--count', 'main')).trim());
    expect(count).toBeGreaterThanOrEqual(20);
    expect(count).toBeLessThanOrEqual(20 + 16 + 1);
    await git(dir, 'fsck', '--strict');
    expect(await git(dir, 'cat-file', '-p', 'main:gr/k4/.value')).toBe('149');
    // What retention dropped is gone from disk too: far fewer objects than 150 commits need.
    const objects = (await git(dir, 'count-objects', '-v')).split('\n').map((l) => l.split(': '));
    const inPack = Number(objects.find(([k]) => k === 'in-pack')?.[1] ?? '0') + Number(objects.find(([k]) => k === 'count')?.[1] ?? '0');
    expect(inPack).toBeLessThan(150 * 4);
  });
});
