/**
 * Issue 16 §3 "Answers that can be trusted", through the real CLI, socket and clients:
 * exact bytes (cat, show, diff, ls, --json), every node of an added or removed subtree, `ls`
 * as xenstore-ls -p printed it then, errors that name the argument, one set of JSON keys.
 */
import { describe, expect, it } from 'vitest';
import { sharedClient, TEST_PEER } from '../helpers/daemon.js';
import { xsgit, xsgitJson } from '../helpers/cli.js';
import { ok, xs } from '../helpers/tools.js';

const onlyXsgit = TEST_PEER === 'xsgit' ? describe : describe.skip;

interface NodeJson {
  value: string;
  base64: string;
  perms: string;
}
interface DiffJson {
  kind: string;
  path: string;
  before?: NodeJson;
  after?: NodeJson;
}
interface CommitJson {
  commit: string;
  parents: string[];
  summary: string;
}

onlyXsgit('xsgit answers', { timeout: 60_000 }, () => {
  const t = sharedClient();
  const run = (...args: string[]) => xsgit(t.daemon.env, args);
  const json = <T>(...args: string[]) => xsgitJson<T>(t.daemon.env, args);
  const head = async () => (await json<CommitJson>('show', 'HEAD')).commit;

  it('cat gives the exact bytes of non-ASCII and binary values; --json escapes as xenstore-read and adds base64', async () => {
    ok(await xs(t.daemon.env, 'write', ['/bytes/utf8', 'café ✓']));
    const binary = Buffer.from([0xff, 0x00, 0x80, 0x41, 0xfe]);
    await t.c.write('/bytes/bin', binary);
    expect((await run('cat', 'HEAD', '/bytes/utf8')).out).toEqual(Buffer.from('café ✓', 'utf8'));
    expect((await run('cat', 'HEAD', '/bytes/bin')).out).toEqual(binary);
    const c = await json<NodeJson & { commit: string; path: string; children: string[] }>('cat', 'HEAD', '/bytes/bin');
    expect(Buffer.from(c.base64, 'base64')).toEqual(binary);
    expect(c).toMatchObject({ path: '/bytes/bin', value: '\\xff\\000\\x80A\\xfe', perms: 'n0', children: [] });
    // The escaped form is xenstore-read's own.
    const read = ok(await xs(t.daemon.env, 'read', ['/bytes/utf8']));
    expect((await json<NodeJson>('cat', 'HEAD', '/bytes/utf8')).value + '\n').toBe(read);
  });

  it('a value longer than one reply comes back whole, even one that looks like a page marker', async () => {
    const tail = Buffer.from('\n... 7 more bytes: ask again with --offset 12\n');
    const big = Buffer.concat([Buffer.from(Array.from({ length: 3990 }, (_, i) => (i * 7 + 3) & 0xff)), tail]);
    await t.c.write('/bytes/big', big);
    expect((await run('cat', 'HEAD', '/bytes/big')).out).toEqual(big);
    expect(Buffer.from((await json<NodeJson>('cat', 'HEAD', '/bytes/big')).base64, 'base64')).toEqual(big);
  });

  it('show and diff list every node an added subtree brings, with value and perms', async () => {
    await t.c.write('/local/domain/5/name', 'guest5');
    const before = await head();
    ok(await xs(t.daemon.env, 'write', ['/local/domain/5/data/k1', 'v1']));
    const show = (await run('show')).stdout;
    expect(show).toContain('+ /local/domain/5/data = "" (n0)\n+ /local/domain/5/data/k1 = "v1" (n0)\n');
    const diff = (await run('diff', before, 'HEAD')).stdout;
    expect(diff).toBe('+ /local/domain/5/data = "" (n0)\n+ /local/domain/5/data/k1 = "v1" (n0)\n');
    const d = await json<{ from: string; to: string; path: string; diff: DiffJson[] }>('diff', before, 'HEAD');
    expect(d.from).toBe(before);
    expect(d.diff.map((x) => [x.kind, x.path, x.after?.value])).toEqual([
      ['added', '/local/domain/5/data', ''],
      ['added', '/local/domain/5/data/k1', 'v1'],
    ]);
  });

  it('show lists every node of a destroyed guest, with what it held', async () => {
    await t.c.write('/local/domain/2/name', 'doomed');
    await t.c.write('/local/domain/2/device/vif/0/state', '4');
    await t.c.setPerms('/local/domain/2/name', ['n2', 'r0']);
    await t.c.rm('/local/domain/2');
    const show = (await run('show')).stdout;
    expect(show).toContain(
      [
        '- /local/domain/2 = "" (n0)',
        '- /local/domain/2/device = "" (n0)',
        '- /local/domain/2/device/vif = "" (n0)',
        '- /local/domain/2/device/vif/0 = "" (n0)',
        '- /local/domain/2/device/vif/0/state = "4" (n0)',
        '- /local/domain/2/name = "doomed" (n2,r0)',
      ].join('\n') + '\n',
    );
    const j = await json<{ diff: DiffJson[] }>('show', 'HEAD');
    expect(j.diff.length).toBe(6);
    expect(j.diff.every((x) => x.kind === 'removed' && x.before !== undefined)).toBe(true);
  });

  it('a change shows both states, value and perms', async () => {
    await t.c.write('/chg/k', 'old');
    await t.c.write('/chg/k', Buffer.from([0xe9]));
    expect((await run('show')).stdout).toContain('~ /chg/k = "old" (n0) -> "\\xe9" (n0)\n');
    await t.c.setPerms('/chg/k', ['n0', 'r3']);
    expect((await run('show')).stdout).toContain('~ /chg/k = "\\xe9" (n0) -> "\\xe9" (n0,r3)\n');
  });

  it('ls REV PATH prints what xenstore-ls -p printed then, byte for byte', async () => {
    await t.c.write('/lsx/a', Buffer.from('café ✓', 'utf8'));
    await t.c.write('/lsx/b/c/d', 'x'.repeat(200));
    await t.c.write('/lsx/ctl', Buffer.from([0x5c, 0x00, 0x07, 0x08, 0x09, 0x0a, 0x0d, 0x1b, 0x7f, 0xff]));
    await t.c.write(`/lsx/${'n'.repeat(90)}`, 'long name');
    await t.c.write('/lsx/b/e', 'y'.repeat(51));
    await t.c.setPerms('/lsx/b', ['n3', 'r0', 'w5']);
    const then = await head();
    const wasLs = (await xs(t.daemon.env, 'ls', ['-p', '/lsx'])).stdoutBytes;
    const wasRoot = (await xs(t.daemon.env, 'ls', ['-p', '/'])).stdoutBytes;
    await t.c.write('/lsx/a', 'changed');
    await t.c.rm('/lsx/b');
    expect((await run('ls', then, '/lsx')).out).toEqual(wasLs);
    expect((await run('ls', then)).out).toEqual(wasRoot);
    expect((await run('ls', 'HEAD', '/lsx')).out).toEqual((await xs(t.daemon.env, 'ls', ['-p', '/lsx'])).stdoutBytes);
    const j = await json<{ commit: string; path: string; nodes: ({ path: string } & NodeJson)[] }>('ls', then, '/lsx');
    expect(j.commit).toBe(then);
    expect(j.nodes.find((n) => n.path === '/lsx/a')).toMatchObject({ base64: Buffer.from('café ✓').toString('base64'), perms: 'n0' });
  });

  it('errors name the argument and why: unknown revision, missing path, malformed time', async () => {
    await t.c.write('/err/k', 'v');
    const rev = await run('cat', 'no-such-tag', '/err/k');
    expect(rev.code).toBe(1);
    expect(rev.stderr).toMatch(/^xsgit: REV "no-such-tag": no such tag or branch/);
    const path = await run('cat', 'HEAD', '/err/none');
    expect(path.code).toBe(1);
    expect(path.stderr).toMatch(/^xsgit: PATH \/err\/none: does not exist at HEAD/);
    const time = await run('log', '--since', 'last tuesday-ish');
    expect(time.code).toBe(1);
    expect(time.stderr).toContain('--since "last tuesday-ish": not a time');
    const at = await run('show', '@not-a-time');
    expect(at.stderr).toContain('REV "@not-a-time": not a time');
    const deep = await run('show', 'HEAD~100000');
    expect(deep.stderr).toMatch(/REV "HEAD~100000": the history holds only \d+ commits before HEAD/);
    const bad = await run('diff', 'HEAD', 'nope');
    expect(bad.stderr).toContain('B "nope"');
    const badPath = await run('cat', 'HEAD', '/a//b');
    expect(badPath.stderr).toContain('PATH "/a//b": not a xenstore path');
  });

  it('a path without its leading slash is resolved as the clients resolve it, never silently empty', async () => {
    await t.c.write('/local/domain/0/rel/k', 'mine');
    await t.c.write('/local/domain/7/state', 'up');
    expect((await run('cat', 'HEAD', 'rel/k')).stdout).toBe('mine');
    expect((await run('log', 'rel/k', '-n', '1')).stdout).toMatch(/ write \/local\/domain\/0\/rel\/k\n$/);
    const missing = await run('log', 'local/domain/7/state');
    expect(missing.code).toBe(1);
    expect(missing.stdout).toBe('');
    expect(missing.stderr).toContain('relative, so /local/domain/0/local/domain/7/state');
    const cat = await run('cat', 'HEAD', 'local/domain/7/state');
    expect(cat.code).toBe(1);
    expect(cat.stderr).toContain("starts at dom0's home /local/domain/0");
  });

  it('--json on every command, the commit always under "commit", errors as JSON too', async () => {
    await t.c.write('/js/k', 'v');
    const id = await head();
    const log = await json<CommitJson[]>('log', '/js/k');
    expect(log[0]).toMatchObject({ commit: id, summary: 'write /js/k', revert: null });
    expect(Object.keys(log[0]).sort()).toEqual(['changes', 'commit', 'domid', 'parents', 'revert', 'summary', 'time', 'tx']);
    expect((await json<CommitJson>('show', id)).commit).toBe(id);
    expect((await json<{ commit: string }>('stats')).commit).toBe(id);
    expect((await json<{ commit: string }>('cat', id, '/js/k')).commit).toBe(id);
    expect((await json<{ commit: string }>('ls', id, '/js')).commit).toBe(id);
    expect(await json<{ tag: string; commit: string }>('tag', 'js-tag')).toMatchObject({ tag: 'js-tag', commit: id, moved: null });
    expect((await json<{ tag: string; commit: string }[]>('tags')).find((r) => r.tag === 'js-tag')?.commit).toBe(id);
    expect(await json('untag', 'js-tag')).toEqual({ tag: 'js-tag', commit: id });
    const txid = await t.c.transactionStart();
    expect((await json<{ commit: string }[]>('branches'))[0].commit).toBe(id);
    await t.c.transactionEnd(txid, false);
    expect(Array.isArray(await json('prune', '--dry-run'))).toBe(true);
    expect(await json<{ commit: null; diff: unknown[] }>('revert-to', id, '/js', '--dry-run')).toMatchObject({ commit: null, revert: { commit: id, path: '/js' }, dryRun: true, diff: [] });
    for (const args of [['cat', 'nope', '/js/k'], ['show', 'HEAD~999999'], ['log', '--since', 'x'], ['cat', 'HEAD'], ['tag', 'main'], ['frobnicate']]) {
      const r = await run(...args, '--json');
      expect(r.code, args.join(' ')).not.toBe(0);
      const e = JSON.parse(r.stdout) as { error: { code: string; message: string } };
      expect(e.error.code.length, args.join(' ')).toBeGreaterThan(0);
      expect(e.error.message.length, args.join(' ')).toBeGreaterThan(0);
      expect(r.stderr).toBe('');
    }
  }, 60_000);

  it('every --help explains REV and TIME', async () => {
    const top = await run('--help');
    const names = [...top.stdout.matchAll(/^ {2}([a-z-]+)/gm)].map((m) => m[1]).filter((n) => n !== 'help' && !n.startsWith('-'));
    expect(names).toEqual(expect.arrayContaining(['log', 'show', 'diff', 'cat', 'ls', 'tag', 'tags', 'untag', 'bisect', 'revert-to', 'snapshot', 'export']));
    for (const name of ['', ...names]) {
      const r = await run(...(name === '' ? [] : [name]), '--help');
      expect(r.code, name).toBe(0);
      expect(r.stdout, name).toMatch(/^ {2}REV {4}a commit id/m);
      expect(r.stdout, name).toMatch(/^ {2}TIME {3}an ISO 8601 date/m);
    }
  }, 60_000);
});
