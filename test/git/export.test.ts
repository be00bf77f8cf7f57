import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { commitIdOf } from '../../src/history/commitId.js';
import { GitExporter, exportRepo } from '../../src/mirror/exporter.js';
import { treeIdOf } from '../../src/history/nodeTree.js';
import { Commit } from '../../src/history/commit.js';
import { Node } from '../../src/store/node.js';
import { EMPTY, git, leaf, readPath, tempDir, writePath } from './helpers.js';
import { T0, syntheticHistory } from './history.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
let repoN = 0;
const newRepo = () => join(tmp.path, `r${++repoN}.git`);

/** `git fsck --strict` must exit 0 and print no error or warning. */
function fsck(gitDir: string): void {
  const env: NodeJS.ProcessEnv = { ...process.env, GIT_DIR: gitDir };
  const r = spawnSync('git', ['fsck', '--strict', '--no-dangling'], { env });
  const out = `${String(r.stdout)}${String(r.stderr)}`;
  expect(out).not.toMatch(/error|warning|missing|broken|bad/i);
  expect(r.status).toBe(0);
}

function inPack(gitDir: string): number {
  return Number(/in-pack: (\d+)/.exec(git(gitDir, 'count-objects', '-v'))?.[1]);
}

describe('export to a real git repository', () => {
  it('writes a history git accepts: fsck --strict, log, cat-file, log -- path', async () => {
    const gitDir = newRepo();
    const h = syntheticHistory(300, 3);
    const res = await exportRepo({ gitDir, head: h.head });
    expect(res.packs.length).toBe(1);
    expect(readFileSync(join(gitDir, 'HEAD'), 'utf8')).toBe('ref: refs/heads/main\n');
    fsck(gitDir);
    // Every commit made, branch commits of merged transactions included.
    expect(h.all.length).toBe(300);
    expect(git(gitDir, 'log', '--oneline').trim().split('\n').length).toBe(300);
    expect(res.commits).toBe(300);
    expect(git(gitDir, 'rev-parse', 'HEAD').trim()).toBe(commitIdOf(h.head));
    expect(git(gitDir, 'rev-list', '--merges', 'HEAD').trim().split('\n').length).toBe(h.branches.length);
    expect(h.branches.length).toBeGreaterThan(5);
    expect(git(gitDir, 'rev-list', '--max-parents=0', 'HEAD').trim().split('\n').length).toBe(1);
    // Values, byte for byte (some are binary).
    for (const path of ['local/domain/3/name', 'local/domain/5/memory/target', 'local/domain/0/name']) {
      expect(git(gitDir, 'cat-file', '-p', `HEAD:${path}/.value`)).toBe(readPath(h.head.root, path)?.value);
    }
    expect(git(gitDir, 'cat-file', '-p', 'HEAD:local/domain/3/name/.perms')).toBe(
      (readPath(h.head.root, 'local/domain/3/name') as Node).perms.replace(/\0/g, '\n'),
    );
    // git log -- path finds exactly the first-parent commits that changed the file.
    const changedName = h.all.filter((c) => {
      const p = c.parents[0];
      return readPath(c.root, 'local/domain/3/name')?.value !== (p && readPath(p.root, 'local/domain/3/name')?.value);
    });
    const logged = git(gitDir, 'log', '--first-parent', '--format=%H', '--', 'local/domain/3/name/.value').trim().split('\n');
    const mainLine = new Set<string>();
    for (let c: Commit | undefined = h.head; c !== undefined; c = c.parents[0]) mainLine.add(commitIdOf(c));
    expect(logged.sort()).toEqual(changedName.map((c) => commitIdOf(c)).filter((id) => mainLine.has(id)).sort());
    // Messages and authors as documented.
    const last = git(gitDir, 'log', '-1', '--format=%an <%ae>%n%B', h.all[1].id as string);
    expect(last).toMatch(/^dom\d+ <dom\d+@xenstore>\n/);
    expect(last).toMatch(/Xenstore-Domid: \d+\n/);
  });

  it('is incremental: a second export writes only the new objects', async () => {
    const gitDir = newRepo();
    const h = syntheticHistory(100, 5);
    const ex = new GitExporter({ gitDir });
    const first = await ex.export({ head: h.head });
    expect(inPack(gitDir)).toBe(first.objects);
    let root = h.head.root;
    let head = h.head;
    for (let i = 0; i < 5; i++) {
      // A new value five levels down: 1 commit, 6 trees (root, local, domain, 7, data, fresh), 1 blob.
      root = writePath(root, '/local/domain/7/data/fresh', `new-value-${i}`);
      head = new Commit(root, [head], 7, T0 + 1e9 + i * 1000, [{ op: 'write', path: '/local/domain/7/data/fresh' }], null);
    }
    const second = await ex.export({ head });
    const trees = 5 * 6;
    expect({ commits: second.commits, blobs: second.blobs }).toEqual({ commits: 5, blobs: 5 });
    expect(second.trees).toBe(trees);
    expect(second.objects).toBe(5 + trees + 5);
    expect(inPack(gitDir)).toBe(first.objects + second.objects);
    expect(second.packs.length).toBe(1);
    // Nothing new: no pack at all.
    const third = await ex.export({ head });
    expect(third.objects).toBe(0);
    expect(third.packs).toEqual([]);
    fsck(gitDir);
    expect(git(gitDir, 'log', '--oneline').trim().split('\n').length).toBe(105);
    expect(git(gitDir, 'cat-file', '-p', 'HEAD:local/domain/7/data/fresh/.value')).toBe('new-value-4');
    ex.close();
  });

  it('is incremental across exporter instances (seeded from the pack indexes)', async () => {
    const gitDir = newRepo();
    const h = syntheticHistory(60, 9);
    await exportRepo({ gitDir, head: h.head });
    const before = inPack(gitDir);
    const root = writePath(h.head.root, '/local/domain/2/name', 'renamed');
    const next = new Commit(root, [h.head], 2, T0 + 1e9, [{ op: 'write', path: '/local/domain/2/name' }], null);
    const res = await exportRepo({ gitDir, head: next });
    expect(res.objects).toBe(1 + 5 + 1);
    expect(inPack(gitDir)).toBe(before + 7);
    fsck(gitDir);
  });

  it('sets, moves and deletes transaction branch refs', async () => {
    const gitDir = newRepo();
    const h = syntheticHistory(40, 11);
    const branch = h.branches[0];
    const ex = new GitExporter({ gitDir });
    const r1 = await ex.export({ head: h.head, refs: { 'tx/3-7': branch, 'refs/tags/snap': h.all[5] } });
    expect(r1.refs['refs/heads/tx/3-7']).toBe(commitIdOf(branch));
    expect(git(gitDir, 'rev-parse', 'refs/heads/tx/3-7').trim()).toBe(commitIdOf(branch));
    expect(git(gitDir, 'rev-parse', 'snap').trim()).toBe(commitIdOf(h.all[5]));
    await ex.export({ refs: { 'tx/3-7': null } });
    expect(existsSync(join(gitDir, 'refs/heads/tx'))).toBe(false);
    expect(git(gitDir, 'for-each-ref', '--format=%(refname)').trim().split('\n').sort()).toEqual(['refs/heads/main', 'refs/tags/snap']);
    await expect(ex.export({ refs: { 'bad..name': h.head } })).rejects.toThrow(/invalid ref/);
    // Leaves no temporary files behind.
    expect(readdirSync(join(gitDir, 'refs/heads')).filter((n) => n.includes('lock'))).toEqual([]);
    fsck(gitDir);
  });

  it('exports a 1,500-level deep tree that git reads back', async () => {
    const gitDir = newRepo();
    let node = leaf('at the bottom\0');
    const names: string[] = [];
    for (let i = 0; i < 1500; i++) {
      const name = `d${i % 10}`;
      names.unshift(name);
      node = new Node('', 'n0\0', EMPTY.set(name, node), 0);
    }
    const c = new Commit(node, [], 0, T0, [{ op: 'write', path: '/' + names.join('/') }], null);
    const res = await exportRepo({ gitDir, head: c });
    expect(res.trees).toBe(1501);
    fsck(gitDir);
    expect(git(gitDir, 'rev-parse', 'HEAD^{tree}').trim()).toBe(treeIdOf(node));
    expect(git(gitDir, 'cat-file', 'blob', `HEAD:${names.join('/')}/.value`)).toBe('at the bottom\0');
  });

  it('falls back to isomorphic-git for indexing when asked (no git binary needed)', async () => {
    const gitDir = newRepo();
    const h = syntheticHistory(25, 13);
    const ex = new GitExporter({ gitDir, indexer: 'isomorphic-git' });
    expect(ex.indexer).toBe('isomorphic-git');
    const res = await ex.export({ head: h.head });
    const packDir = join(gitDir, 'objects/pack');
    expect(readdirSync(packDir).sort()).toEqual([`${res.packs[0]}.idx`, `${res.packs[0]}.pack`]);
    const root = writePath(h.head.root, '/vm/x', 'y');
    const res2 = await ex.export({ head: new Commit(root, [h.head], 0, T0 + 1e9, [{ op: 'write', path: '/vm/x' }], null) });
    expect(res2.objects).toBe(1 + 3 + 1);
    fsck(gitDir);
    expect(git(gitDir, 'log', '--oneline').trim().split('\n').length).toBe(26);
    ex.close();
  });

  it('writes pack indexes itself (indexer xsgit) byte for byte as git index-pack does', async () => {
    const gitDir = newRepo();
    const h = syntheticHistory(80, 19);
    const ex = new GitExporter({ gitDir, indexer: 'xsgit' });
    const res = await ex.export({ head: h.head });
    const root = writePath(h.head.root, '/vm/x', 'y');
    const res2 = await ex.export({ head: new Commit(root, [h.head], 0, T0 + 1e9, [{ op: 'write', path: '/vm/x' }], null) });
    expect(res2.objects).toBe(5);
    fsck(gitDir);
    for (const name of [...res.packs, ...res2.packs]) {
      const pack = join(gitDir, 'objects/pack', `${name}.pack`);
      git(gitDir, 'verify-pack', join(gitDir, 'objects/pack', `${name}.idx`)); // checks CRCs, offsets, ids
      const other = join(tmp.path, `${name}-by-git.idx`);
      git(gitDir, 'index-pack', '-o', other, pack);
      expect(readFileSync(join(gitDir, 'objects/pack', `${name}.idx`)).equals(readFileSync(other))).toBe(true);
    }
    expect(git(gitDir, 'rev-list', '--count', 'HEAD').trim()).toBe('81');
    ex.close();
  });

  it('stays incremental with a tiny id memory (nodes and commits are remembered by identity)', async () => {
    const gitDir = newRepo();
    const h = syntheticHistory(50, 29);
    const phases = new Set<string>();
    const ex = new GitExporter({ gitDir, maxKnownIds: 5, onProgress: (p) => phases.add(p.phase) });
    await ex.export({ head: h.head });
    expect(ex.knownIds).toBeLessThanOrEqual(5);
    expect(phases).toEqual(new Set(['pack', 'refs', 'done']));
    const root = writePath(h.head.root, '/local/domain/4/name', 'small-memory');
    const res = await ex.export({ head: new Commit(root, [h.head], 4, T0 + 1e9, [{ op: 'write', path: '/local/domain/4/name' }], null) });
    // Never a re-walk of the history; at worst the two blobs of each new tree again (the
    // forgotten ids of the empty value and of perms lists): harmless duplicates.
    expect(res.commits).toBe(1);
    expect(res.trees).toBe(5);
    expect(res.objects).toBeLessThanOrEqual(1 + 5 + 2 * 5);
    expect(res.objects).toBeGreaterThanOrEqual(1 + 5 + 1);
    fsck(gitDir);
    ex.close();
  });

  it('records commits whose parents retention cut off unexported as shallow boundaries', async () => {
    const gitDir = newRepo();
    const h = syntheticHistory(60, 41);
    const main: Commit[] = [];
    for (let c: Commit | undefined = h.head; c !== undefined; c = c.parents[0]) main.unshift(c);
    // Retention drops everything before main[40] (as History.prune's cut() does).
    const boundary = main[40];
    commitIdOf(h.head);
    boundary.cutParentIds = boundary.parents.map((p) => p.id as string);
    boundary.parents = [];
    for (const c of main.slice(41)) {
      const branch = c.parents[1];
      if (branch !== undefined && !main.slice(40).includes(branch.parents[0])) {
        branch.cutParentIds = branch.parents.map((p) => p.id as string);
        branch.parents = [];
      }
    }
    const res = await exportRepo({ gitDir, head: h.head });
    const shallow = readFileSync(join(gitDir, 'shallow'), 'utf8').trim().split('\n');
    expect(shallow).toContain(boundary.id);
    fsck(gitDir);
    expect(git(gitDir, 'rev-list', '--first-parent', '--count', 'HEAD').trim()).toBe(String(main.length - 40));
    expect(git(gitDir, 'rev-list', '--count', 'HEAD').trim()).toBe(String(res.commits));
    expect(git(gitDir, 'rev-parse', 'HEAD').trim()).toBe(h.head.id);
    // Ids did not change: the boundary still names its (absent) parent.
    expect(git(gitDir, 'cat-file', '-p', boundary.id as string)).toContain(`parent ${boundary.cutParentIds[0]}`);
    // Where the parents were exported before the cut, no boundary is recorded.
    const full = newRepo();
    const h2 = syntheticHistory(30, 43);
    const ex = new GitExporter({ gitDir: full, maxKnownIds: 3 });
    await ex.export({ head: h2.head });
    const c29 = h2.all[h2.all.length - 1];
    const next = new Commit(writePath(c29.root, '/x', '1'), [c29], 0, T0 + 1e9, [{ op: 'write', path: '/x' }], null);
    commitIdOf(next);
    next.cutParentIds = [c29.id as string];
    next.parents = [];
    await ex.export({ head: next });
    expect(existsSync(join(full, 'shallow'))).toBe(false);
    fsck(full);
    ex.close();
  });

  it('recovers after a failed export: the next export still writes everything needed', async () => {
    const gitDir = newRepo();
    const h = syntheticHistory(30, 17);
    const ex = new GitExporter({ gitDir, gitCommand: 'git-does-not-exist', indexer: 'git' });
    await expect(ex.export({ head: h.head })).rejects.toThrow();
    const ok = new GitExporter({ gitDir });
    const res = await ok.export({ head: h.head });
    expect(res.commits).toBe(30);
    fsck(gitDir);
  });
});
