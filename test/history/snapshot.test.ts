/** Guest snapshots through the socket: CONTROL `history snapshot`, `xsgit snapshot`, and the
 *  json, tar and git formats checked with the system's tar and git. */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../../src/client/index.js';
import { historyQuery } from '../../src/cli/history.js';
import type { SnapshotJson } from '../../src/history/snapshot.js';
import { REPO_ROOT, startDaemon, TEST_PEER, type DaemonHandle } from '../helpers/daemon.js';

const run = promisify(execFile);
const onlyXsgit = TEST_PEER === 'xsgit' ? describe : describe.skip;

const UUID5 = '3f2504e0-4f89-11d3-9a0c-0305e82c3301';
const UUID6 = '9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d';
/** Bytes that are neither printable nor UTF-8: the JSON must keep them exactly. */
const BINARY = Buffer.from([0x00, 0x01, 0x5c, 0x0a, 0xff, 0x41]);

let d: DaemonHandle;
let c: Client;
let out: string;
/** The commit with guest 5 as first built, and the time it was made. */
let before: { id: string; time: string };

function history(...args: string[]): Promise<string> {
  return historyQuery(c, args);
}

async function head(): Promise<{ id: string; time: string }> {
  const [e] = JSON.parse(await history('log', '-n', '1', '--json')) as { commit: string; time: string }[];
  return { id: e.commit, time: e.time };
}

function git(dir: string, ...args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run('git', ['--git-dir', dir, ...args], { maxBuffer: 16 << 20 });
}

async function snapshotJson(rev: string, name: string): Promise<SnapshotJson> {
  const file = join(out, name);
  await history('snapshot', '5', rev, 'json', file);
  return JSON.parse(readFileSync(file, 'utf8')) as SnapshotJson;
}

/** A guest as libxl lays it out, with a driver domain's backend and a value of raw bytes. */
async function buildGuests(): Promise<void> {
  await c.transaction(async (t) => {
    for (const [dom, uuid] of [[5, UUID5], [6, UUID6]] as const) {
      const home = `/local/domain/${dom}`;
      await t.write(`${home}/name`, `guest${dom}`);
      await t.write(`${home}/domid`, String(dom));
      await t.write(`${home}/vm`, `/vm/${uuid}`);
      await t.write(`${home}/memory/target`, '524288');
      await t.write(`${home}/device/vif/0/backend`, `/local/domain/0/backend/vif/${dom}/0`);
      await t.write(`${home}/device/vif/0/backend-id`, '0');
      await t.write(`${home}/device/vif/0/state`, '4');
      await t.write(`${home}/device/vif/0/mac`, `00:16:3e:00:00:0${dom}`);
      await t.write(`/vm/${uuid}/name`, `guest${dom}`);
      await t.write(`/vm/${uuid}/uuid`, uuid);
      await t.write(`/vm/${uuid}/image/ostype`, 'linux');
      await t.write(`/libxl/${dom}/type`, 'pvh');
      await t.write(`/libxl/${dom}/dm-version`, 'qemu_xen');
      await t.write(`/libxl/${dom}/device/vif/0/frontend`, `${home}/device/vif/0`);
      await t.write(`/local/domain/0/backend/vif/${dom}/0/frontend`, `${home}/device/vif/0`);
      await t.write(`/local/domain/0/backend/vif/${dom}/0/frontend-id`, String(dom));
      await t.write(`/local/domain/0/backend/vif/${dom}/0/state`, '4');
      await t.write(`/local/domain/7/backend/vbd/${dom}/51712/params`, `/dev/vg/guest${dom}`);
      await t.write(`/local/domain/7/backend/vbd/${dom}/51712/state`, '4');
      await t.setPerms(home, [`n0`, `r${dom}`]);
      await t.setPerms(`${home}/name`, [`n${dom}`, 'r0']);
    }
    await t.write('/local/domain/5/data/bin', BINARY);
    await t.write('/vm/other/name', 'not a guest of ours');
  });
}

onlyXsgit('history snapshot', () => {
  beforeAll(async () => {
    d = await startDaemon();
    c = await Client.connect({ path: d.socket });
    out = mkdtempSync(join(tmpdir(), 'xsgit-snap-'));
    await buildGuests();
    before = await head();
    await new Promise((r) => setTimeout(r, 30)); // later commits get a later time than `before`
    await c.write('/local/domain/5/name', 'renamed');
    await c.transaction(async (t) => {
      await t.rm('/local/domain/5/device/vif/0');
      await t.rm('/local/domain/0/backend/vif/5');
      await t.write('/libxl/5/migrated', '1');
    });
    await c.write('/local/domain/6/name', 'guest6-renamed');
  });
  afterAll(async () => {
    await c?.close();
    await d?.stop();
    if (out !== undefined) rmSync(out, { recursive: true, force: true });
  });

  it('json: the guest\'s subtrees as they were, and nothing of other guests', async () => {
    const s = await snapshotJson(before.id, 'before.json');
    expect(s.version).toBe(1);
    expect(s.commit).toBe(before.id);
    expect(s.time).toBe(before.time);
    expect(s.domid).toBe(5);
    expect(s.vm).toBe(`/vm/${UUID5}`);
    expect(Object.keys(s.subtrees)).toEqual([
      '/local/domain/5',
      `/vm/${UUID5}`,
      '/libxl/5',
      '/local/domain/0/backend/vif/5',
      '/local/domain/7/backend/vbd/5',
    ]);
    const dom = s.subtrees['/local/domain/5'];
    expect(Object.keys(dom)[0]).toBe('/local/domain/5');
    expect(dom['/local/domain/5'].children).toEqual(['data', 'device', 'domid', 'memory', 'name', 'vm']);
    expect(dom['/local/domain/5'].perms).toBe('n0,r5');
    expect(dom['/local/domain/5/name']).toEqual({ value: 'guest5', base64: Buffer.from('guest5').toString('base64'), perms: 'n5,r0', children: [] });
    expect(dom['/local/domain/5/device/vif/0/mac'].value).toBe('00:16:3e:00:00:05');
    expect(dom['/local/domain/5/data/bin'].value).toBe('\\000\\001\\\\\\n\\xffA');
    expect(Buffer.from(dom['/local/domain/5/data/bin'].base64, 'base64')).toEqual(BINARY);
    expect(s.subtrees[`/vm/${UUID5}`][`/vm/${UUID5}/image/ostype`].value).toBe('linux');
    expect(s.subtrees['/libxl/5']['/libxl/5/migrated']).toBeUndefined();
    expect(s.subtrees['/local/domain/0/backend/vif/5']['/local/domain/0/backend/vif/5/0/frontend'].value).toBe('/local/domain/5/device/vif/0');
    expect(s.subtrees['/local/domain/7/backend/vbd/5']['/local/domain/7/backend/vbd/5/51712/params'].value).toBe('/dev/vg/guest5');
    const text = readFileSync(join(out, 'before.json'), 'utf8');
    expect(text).not.toContain('guest6');
    expect(text).not.toContain(UUID6);
    expect(text).not.toContain('not a guest of ours');
    // Every node of every subtree, parents first.
    expect(Object.keys(dom)).toContain('/local/domain/5/device/vif/0/backend-id');
    expect(Object.keys(dom).indexOf('/local/domain/5/device')).toBeLessThan(Object.keys(dom).indexOf('/local/domain/5/device/vif'));
  });

  it('json at HEAD shows the changes; parts that are gone are simply absent', async () => {
    const s = await snapshotJson('HEAD', 'head.json');
    expect(s.commit).toBe((await head()).id);
    expect(s.subtrees['/local/domain/5']['/local/domain/5/name'].value).toBe('renamed');
    expect(s.subtrees['/local/domain/5']['/local/domain/5/device/vif/0']).toBeUndefined();
    expect(s.subtrees['/local/domain/0/backend/vif/5']).toBeUndefined();
    expect(Object.keys(s.subtrees)).toEqual(['/local/domain/5', `/vm/${UUID5}`, '/libxl/5', '/local/domain/7/backend/vbd/5']);
    expect(s.subtrees['/libxl/5']['/libxl/5/migrated'].value).toBe('1');
    expect(JSON.stringify(s)).not.toContain('guest6');
  });

  it('--at takes HEAD~N, @TIME and a bare time as well as ids', async () => {
    expect((await snapshotJson('HEAD~3', 'tilde.json')).commit).toBe(before.id);
    expect((await snapshotJson(`@${before.time}`, 'at.json')).commit).toBe(before.id);
    expect((await snapshotJson(before.time, 'time.json')).commit).toBe(before.id);
    expect((await snapshotJson('0s', 'now.json')).commit).toBe((await head()).id);
  });

  it('pins the commit with a tag snapshot-<N>-<id prefix>', async () => {
    await history('snapshot', '5', before.id, 'json', join(out, 'pin.json'));
    const tag = `snapshot-5-${before.id.slice(0, 12)}`;
    expect(JSON.parse(await history('show', tag, '--json')).commit).toBe(before.id);
    expect(await history('cat', tag, '/local/domain/5/name')).toBe('guest5');
    const reply = JSON.parse(await history('snapshot', '5', before.id, 'json', join(out, 'pin.json'), '--json')) as Record<string, unknown>;
    expect(reply).toMatchObject({ tag, commit: before.id, domid: 5, format: 'json', path: join(out, 'pin.json'), gitCommit: null });
    expect(reply.bytes).toBe(readFileSync(join(out, 'pin.json')).length);
    expect(reply.paths).toEqual(['/local/domain/5', `/vm/${UUID5}`, '/libxl/5', '/local/domain/0/backend/vif/5', '/local/domain/7/backend/vbd/5']);
  });

  it('tar: a ustar archive in the git layout that the system tar lists and extracts', async () => {
    const file = join(out, 'before.tar');
    const reply = await history('snapshot', '5', before.id, 'tar', file);
    expect(reply).toMatch(new RegExp(`^wrote ${file} \\(tar, \\d+ bytes\\): domain 5 at ${before.id} .*5 subtrees, \\d+ nodes; pinned as snapshot-5-`));
    expect(readFileSync(file).length % 10240).toBe(0);
    const { stdout: listing } = await run('tar', ['-tvf', file]);
    const names = listing.trim().split('\n').map((l) => l.split(/\s+/).slice(5).join(' '));
    expect(names).toContain('local/domain/5/name/.value');
    expect(names).toContain('local/domain/5/name/.perms');
    expect(names).toContain(`vm/${UUID5}/image/ostype/.value`);
    expect(names).toContain('libxl/5/dm-version/.value');
    expect(names).toContain('local/domain/0/backend/vif/5/0/state/.value');
    expect(names).toContain('local/domain/7/backend/vbd/5/51712/params/.value');
    expect(names).toContain('.value'); // the root's own, as in git
    expect(names.filter((n) => n.includes('/6/') || n.includes('domain/6') || n.includes(UUID6) || n.startsWith('vm/other'))).toEqual([]);
    expect(listing).toMatch(/^drwxr-xr-x root\/root\s+0 /m);
    expect(listing).toMatch(/^-rw-r--r-- root\/root\s+6 \S+ \S+ local\/domain\/5\/name\/\.value$/m);

    const x = join(out, 'x-before');
    mkdirSync(x);
    await run('tar', ['-xf', file, '-C', x]);
    expect(readFileSync(join(x, 'local/domain/5/name/.value'), 'utf8')).toBe('guest5');
    expect(readFileSync(join(x, 'local/domain/5/name/.perms'), 'utf8')).toBe('n5\nr0\n');
    expect(readFileSync(join(x, 'local/domain/5/data/bin/.value'))).toEqual(BINARY);
    expect(readFileSync(join(x, 'local/domain/5/device/vif/0/mac/.value'), 'utf8')).toBe('00:16:3e:00:00:05');

    const y = join(out, 'x-head');
    mkdirSync(y);
    await history('snapshot', '5', 'HEAD', 'tar', join(out, 'head.tar'));
    await run('tar', ['-xf', join(out, 'head.tar'), '-C', y]);
    expect(readFileSync(join(y, 'local/domain/5/name/.value'), 'utf8')).toBe('renamed');
    expect(existsSync(join(y, 'local/domain/5/device/vif/0'))).toBe(false);
    expect(existsSync(join(y, 'local/domain/5/device/vif/.value'))).toBe(true);
    expect(existsSync(join(y, 'local/domain/0/backend/vif'))).toBe(false);
    expect(readFileSync(join(y, 'libxl/5/migrated/.value'), 'utf8')).toBe('1');
  });

  it('git: a bare repository with one commit holding only the guest, passing fsck --strict', async () => {
    const repo = join(out, 'before.git');
    const reply = JSON.parse(await history('snapshot', '5', before.id, 'git', repo, '--json')) as { gitCommit: string; bytes: number };
    expect(reply.gitCommit).toMatch(/^[0-9a-f]{40}$/);
    const fsck = await git(repo, 'fsck', '--strict', '--no-dangling'); // rejects on any error
    expect(fsck.stdout + fsck.stderr).toBe(''); // nor any warning
    expect((await git(repo, 'rev-parse', 'HEAD')).stdout.trim()).toBe(reply.gitCommit);
    expect((await git(repo, 'rev-list', '--count', 'HEAD')).stdout.trim()).toBe('1');
    expect((await git(repo, 'cat-file', '-p', 'HEAD:local/domain/5/name/.value')).stdout).toBe('guest5');
    expect((await git(repo, 'cat-file', '-p', 'HEAD:local/domain/5/.perms')).stdout).toBe('n0\nr5\n');
    expect((await git(repo, 'cat-file', '-p', `HEAD:vm/${UUID5}/uuid/.value`)).stdout).toBe(UUID5);
    const msg = (await git(repo, 'log', '-1', '--format=%B')).stdout;
    expect(msg).toContain(`snapshot of domain 5 at ${before.id.slice(0, 12)}`);
    expect(msg).toContain(`Snapshot-Of: ${before.id}`);
    expect((await git(repo, 'log', '-1', '--format=%(trailers:key=Snapshot-Path,valueonly)')).stdout.trim().split('\n')).toEqual([
      '/local/domain/5', `/vm/${UUID5}`, '/libxl/5', '/local/domain/0/backend/vif/5', '/local/domain/7/backend/vbd/5',
    ]);
    expect((await git(repo, 'rev-parse', `refs/tags/snapshot-5-${before.id.slice(0, 12)}`)).stdout.trim()).toBe(reply.gitCommit);
    const files = (await git(repo, 'ls-tree', '-r', '--name-only', 'HEAD')).stdout.trim().split('\n');
    expect(files.filter((f) => f.includes('domain/6') || f.includes(UUID6) || f.includes('/6/') || f.startsWith('vm/other'))).toEqual([]);
    // Only the path to the backends is kept of dom0: none of its other nodes.
    expect(files.filter((f) => f.startsWith('local/domain/0/') && !f.startsWith('local/domain/0/backend/vif/5/'))).toEqual([
      'local/domain/0/.perms', 'local/domain/0/.value', 'local/domain/0/backend/.perms', 'local/domain/0/backend/.value',
      'local/domain/0/backend/vif/.perms', 'local/domain/0/backend/vif/.value',
    ]);

    // The tar format holds the very same files.
    const tar = join(out, 'same.tar');
    await history('snapshot', '5', before.id, 'tar', tar);
    const { stdout: tarList } = await run('tar', ['-tf', tar]);
    expect(tarList.trim().split('\n').filter((n) => !n.endsWith('/')).sort()).toEqual(files.slice().sort());

    // At HEAD: the new state, and the same snapshot twice gives the same commit.
    const headRepo = join(out, 'head.git');
    const h1 = JSON.parse(await history('snapshot', '5', 'HEAD', 'git', headRepo, '--json')) as { gitCommit: string };
    await git(headRepo, 'fsck', '--strict', '--no-dangling');
    expect((await git(headRepo, 'cat-file', '-p', 'HEAD:local/domain/5/name/.value')).stdout).toBe('renamed');
    await expect(git(headRepo, 'cat-file', '-e', 'HEAD:local/domain/5/device/vif/0')).rejects.toThrow();
    const h2 = JSON.parse(await history('snapshot', '5', 'HEAD', 'git', join(out, 'head2.git'), '--json')) as { gitCommit: string };
    expect(h2.gitCommit).toBe(h1.gitCommit);
  });

  it('refuses what it cannot do, writing nothing', async () => {
    await expect(history('snapshot', '42', 'HEAD', 'json', join(out, 'none.json'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(existsSync(join(out, 'none.json'))).toBe(false);
    await expect(history('snapshot', '5', 'ffffffffffff', 'json', join(out, 'none.json'))).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(history('snapshot', '5', 'HEAD', 'json', 'relative.json')).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(history('snapshot', '5', 'HEAD', 'zip', join(out, 'x.zip'))).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(history('snapshot', 'five', 'HEAD', 'json', join(out, 'x.json'))).rejects.toMatchObject({ code: 'EINVAL' });
    await expect(history('snapshot', '5', 'HEAD', 'json', join(out, 'no/such/dir.json'))).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(history('snapshot', '5', 'HEAD', 'json', out)).rejects.toMatchObject({ code: 'EISDIR' });
    const busy = join(out, 'busy.git');
    mkdirSync(busy);
    writeFileSync(join(busy, 'keep'), 'x');
    await expect(history('snapshot', '5', 'HEAD', 'git', busy)).rejects.toMatchObject({ code: 'EEXIST' });
    expect(readFileSync(join(busy, 'keep'), 'utf8')).toBe('x');
    expect(existsSync(join(busy, 'HEAD'))).toBe(false);
    // An empty directory is fine for a repository.
    mkdirSync(join(out, 'empty.git'));
    await history('snapshot', '5', 'HEAD', 'git', join(out, 'empty.git'));
    await git(join(out, 'empty.git'), 'fsck', '--strict');
  });

  it('follows /local/domain/N/vm only below /vm/', async () => {
    await c.write('/local/domain/9/name', 'guest9');
    await c.write('/local/domain/9/vm', '/local/domain/6');
    const s = await (async () => {
      const file = join(out, 'nine.json');
      await history('snapshot', '9', 'HEAD', 'json', file);
      return JSON.parse(readFileSync(file, 'utf8')) as SnapshotJson;
    })();
    expect(s.vm).toBeNull();
    expect(Object.keys(s.subtrees)).toEqual(['/local/domain/9']);
    await c.write('/local/domain/9/vm', '/vm');
    await history('snapshot', '9', 'HEAD', 'json', join(out, 'nine.json'));
    expect((JSON.parse(readFileSync(join(out, 'nine.json'), 'utf8')) as SnapshotJson).vm).toBeNull();
  });

  it('a large guest with long paths: every node, names past ustar\'s limits intact', async () => {
    const long = `k${'x'.repeat(119)}`; // a 120-byte name: beyond ustar's 100-byte name field
    await c.transaction(async (t) => {
      const writes: Promise<void>[] = []; // pipelined
      for (let i = 0; i < 20; i++) for (let j = 0; j < 50; j++) writes.push(t.write(`/local/domain/8/data/g${i}/n${j}`, `v${i}-${j}`));
      await Promise.all(writes);
      await t.write(`/local/domain/8/${long}/${long}/${long}`, 'deep');
    });
    const file = join(out, 'big.tar');
    const reply = JSON.parse(await history('snapshot', '8', 'HEAD', 'tar', file, '--json')) as { nodes: number };
    expect(reply.nodes).toBe(1 + 1 + 20 + 1000 + 3);
    const { stdout } = await run('tar', ['-tf', file], { maxBuffer: 64 << 20 });
    const names = stdout.trim().split('\n');
    expect(names.filter((n) => n === '.value' || n.endsWith('/.value')).length).toBe(reply.nodes + 3); // + /, /local, /local/domain
    expect(names).toContain(`local/domain/8/${long}/${long}/${long}/.value`);
    const x = join(out, 'x-big');
    mkdirSync(x);
    await run('tar', ['-xf', file, '-C', x, `local/domain/8/${long}/${long}/${long}/.value`, 'local/domain/8/data/g19/n49/.value']);
    expect(readFileSync(join(x, `local/domain/8/${long}/${long}/${long}/.value`), 'utf8')).toBe('deep');
    expect(readFileSync(join(x, 'local/domain/8/data/g19/n49/.value'), 'utf8')).toBe('v19-49');
  });

  it('xsgit snapshot resolves a relative --output against its own directory', async () => {
    const cwd = join(out, 'cli');
    mkdirSync(cwd);
    const { stdout } = await run(process.execPath, [join(REPO_ROOT, 'bin/xsgit.js'), 'snapshot', '--domain', '5', '--at', before.id, '--format', 'git', '--output', 'guest5.git'], { cwd, env: d.env });
    expect(stdout).toContain(`wrote ${join(cwd, 'guest5.git')} (git,`);
    expect((await git(join(cwd, 'guest5.git'), 'cat-file', '-p', 'HEAD:local/domain/5/name/.value')).stdout).toBe('guest5');
    const json = await run(process.execPath, [join(REPO_ROOT, 'bin/xsgit.js'), 'snapshot', '--domain', '5', '--format', 'json', '--output', 'now.json', '--json'], { cwd, env: d.env });
    expect(JSON.parse(json.stdout)).toMatchObject({ path: join(cwd, 'now.json'), domid: 5, format: 'json' });
    expect((JSON.parse(readFileSync(join(cwd, 'now.json'), 'utf8')) as SnapshotJson).subtrees['/local/domain/5']['/local/domain/5/name'].value).toBe('renamed');
    await expect(
      run(process.execPath, [join(REPO_ROOT, 'bin/xsgit.js'), 'snapshot', '--domain', '42', '--format', 'json', '--output', 'x.json'], { cwd, env: d.env }),
    ).rejects.toMatchObject({ stderr: expect.stringContaining('nothing of that domain') });
  });
});
