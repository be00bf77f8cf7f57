/**
 * Issue 16 §2, the history CLI's guard rails, through the real CLI, socket and git: tags move
 * only with --force, names git would refuse or that shadow a branch are refused, tags are
 * listed and deleted (in the mirror too); revert-to takes a path scope and a dry run, and its
 * commit says what it reverted to.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '../../src/client/index.js';
import { tagNameProblem } from '../../src/history/tagName.js';
import { startDaemon, TEST_PEER, type DaemonHandle } from '../helpers/daemon.js';
import { xsgit, xsgitJson } from '../helpers/cli.js';

const onlyXsgit = TEST_PEER === 'xsgit' ? describe : describe.skip;
const exec = promisify(execFile);

async function git(dir: string, ...args: string[]): Promise<string> {
  return (await exec('git', ['--git-dir', dir, ...args])).stdout;
}

async function gitAccepts(name: string): Promise<boolean> {
  try {
    await exec('git', ['check-ref-format', `refs/tags/${name}`]);
    return true;
  } catch {
    return false;
  }
}

async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('tag names', () => {
  const names = [
    'good', 'release/1.2', 'snapshot-5-abc', 'v1.0', 'a_b', 'UPPER', 'x.y.z', 'café', 'main', 'HEAD', 'ORIG_HEAD', 'history/1m', 'tx/3-4',
    'refs/tags/x', 'deadbeef', 'abcd', '0123456789abcdef0123456789abcdef01234567', '-x', 'a..b', 'a b', 'x.lock', '.hidden', 'a/.b', 'a/', '/a',
    'a//b', 'x@{1}', '@', '@5m', 'a~1', 'a^', 'a:b', 'a?', 'a*', 'a[b', 'a\\b', 'end.', 'tab\there', '',
  ];
  it('every name xsgit accepts is one git accepts as refs/tags/NAME, and none shadows a revision', async () => {
    for (const n of names) {
      const problem = tagNameProblem(n);
      if (problem === null) expect(await gitAccepts(n), n).toBe(true);
    }
    for (const n of ['main', 'HEAD', 'ORIG_HEAD', 'history/1m', 'tx/3-4', 'refs/tags/x', 'deadbeef', 'abcd', '@5m', '-x']) expect(tagNameProblem(n), n).not.toBeNull();
    for (const n of ['good', 'release/1.2', 'snapshot-5-abc', 'v1.0', 'UPPER']) expect(tagNameProblem(n), n).toBeNull();
  });
});

onlyXsgit('guard rails of the history CLI', { timeout: 60_000 }, () => {
  let d: DaemonHandle;
  let c: Client;
  let repo: string;
  const run = (...args: string[]) => xsgit(d.env, args);
  const head = async () => (await xsgitJson<{ commit: string }>(d.env, ['show', 'HEAD'])).commit;

  beforeAll(async () => {
    repo = join(mkdtempSync(join(tmpdir(), 'xsgit-rails-')), 'repo.git');
    d = await startDaemon({ args: ['--git-dir', repo, '--mirror-lag', '50'] });
    c = await d.connect();
  });
  afterAll(async () => {
    await c?.close();
    await d?.stop();
  });

  it('tag refuses to move an existing tag without --force, and says where it is', async () => {
    await c.write('/tg/k', '1');
    const first = await head();
    expect((await run('tag', 'known-good')).stdout).toBe(`${first}\n`);
    expect((await run('tag', 'known-good')).code).toBe(0); // the same commit again: nothing moves
    await c.write('/tg/k', '2');
    const second = await head();
    const refused = await run('tag', 'known-good');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`NAME "known-good": the tag exists, at ${first}; --force moves it`);
    expect((await xsgitJson<{ commit: string }>(d.env, ['show', 'known-good'])).commit).toBe(first);
    expect(await xsgitJson(d.env, ['tag', 'known-good', '--force'])).toEqual({ tag: 'known-good', commit: second, moved: first });
  });

  it('tag refuses main, HEAD, branch names and names git rejects; the mirror keeps its branch', async () => {
    const main = await head();
    for (const name of ['main', 'HEAD', 'history/1m', 'tx/1-1', 'a..b', 'x.lock', 'deadbeef']) {
      const r = await run('tag', name);
      expect(r.code, name).toBe(1);
      expect(r.stderr, name).toContain(`NAME "${name}"`);
    }
    const dash = await run('tag', '--', '-x');
    expect(dash.code).toBe(1);
    await until('the mirror', async () => (await git(repo, 'rev-parse', 'refs/heads/main').catch(() => '')).trim() === main);
    expect(await git(repo, 'for-each-ref', '--format=%(refname)', 'refs/tags/main', 'refs/tags/HEAD')).toBe('');
  });

  it('tags lists, untag deletes, and the mirror follows', async () => {
    await c.write('/tg/list', 'x');
    const id = await head();
    expect((await run('tag', 'release/1', id)).code).toBe(0);
    expect((await run('tags')).stdout).toContain(`release/1 ${id} write /tg/list\n`);
    await until('refs/tags/release/1', async () => (await git(repo, 'for-each-ref', '--format=%(objectname)', 'refs/tags/release/1')).trim() === id);
    expect((await run('untag', 'release/1')).code).toBe(0);
    expect((await run('tags')).stdout).not.toContain('release/1');
    const again = await run('untag', 'release/1');
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('NAME "release/1": no such tag');
    await c.write('/tg/after', 'y'); // the mirror's next batch
    await until('the tag to leave the mirror', async () => (await git(repo, 'for-each-ref', 'refs/tags/release/1')) === '');
  });

  it('revert-to REV PATH --dry-run lists what would change and changes nothing; the revert stays within PATH', async () => {
    await c.write('/local/domain/5/name', 'five');
    await c.write('/local/domain/5/memory', '1024');
    await c.write('/local/domain/2/name', 'two');
    const good = await head();
    await c.write('/local/domain/5/memory', '9999');
    await c.write('/local/domain/5/broken/a', 'junk');
    await c.rm('/local/domain/2'); // destroyed on purpose: a revert of guest 5 must not bring it back
    const before = await head();
    const dry = await run('revert-to', good, '/local/domain/5', '--dry-run');
    expect(dry.code).toBe(0);
    expect(dry.stdout).toBe('- /local/domain/5/broken = "" (n0)\n- /local/domain/5/broken/a = "junk" (n0)\n~ /local/domain/5/memory = "9999" (n0) -> "1024" (n0)\n');
    expect(await head()).toBe(before);
    const done = await run('revert-to', good, '/local/domain/5');
    expect(done.code).toBe(0);
    const [made, ...lines] = done.stdout.trimEnd().split('\n');
    expect(made).toMatch(/^[0-9a-f]{40}$/);
    expect(lines.join('\n') + '\n').toBe(dry.stdout);
    expect((await c.read('/local/domain/5/memory')).toString()).toBe('1024');
    await expect(c.read('/local/domain/5/broken')).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(c.read('/local/domain/2/name')).rejects.toMatchObject({ code: 'ENOENT' });
    // The commit says what it is, in xsgit and in git.
    const [entry] = await xsgitJson<{ commit: string; summary: string; revert: unknown }[]>(d.env, ['log', '-n', '1']);
    expect(entry).toMatchObject({ commit: made, summary: `revert /local/domain/5 to ${good.slice(0, 12)}`, revert: { commit: good, path: '/local/domain/5' } });
    await until('the mirror', async () => (await git(repo, 'rev-parse', 'refs/heads/main').catch(() => '')).trim() === made);
    expect((await git(repo, 'log', '-1', '--format=%s', made)).trim()).toBe(`revert /local/domain/5 to ${good.slice(0, 12)}`);
    expect(await git(repo, 'log', '-1', '--format=%(trailers:key=Xenstore-Revert-To,valueonly)', made)).toBe(`${good}\n\n`);
    const again = await run('revert-to', good, '/local/domain/5');
    expect(again.stdout).toBe(`nothing to revert: /local/domain/5 is already as at ${good.slice(0, 12)}\n`);
    expect(await head()).toBe(made);
  });

  it('revert-to refuses a path that exists neither now nor then, naming it', async () => {
    const r = await run('revert-to', 'HEAD~1', 'local/domain/5');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('PATH "local/domain/5" (relative, so /local/domain/0/local/domain/5');
    expect(r.stderr).toContain('exists neither now nor at REV HEAD~1');
  });
});
