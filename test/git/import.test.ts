import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { commitIdOf } from '../../src/history/commitId.js';
import { MissingObjectError, NotFoundError } from '../../src/git/errors.js';
import { GitExporter, exportRepo } from '../../src/mirror/exporter.js';
import { externalParentIds, isExternal } from '../../src/mirror/external.js';
import { importCommit, importTree } from '../../src/mirror/importer.js';
import { treeIdOf } from '../../src/history/nodeTree.js';
import { Commit } from '../../src/history/commit.js';
import type { Node } from '../../src/store/node.js';
import { cloneTree, git, readPath, sameTree, tempDir, writePath } from './helpers.js';
import { T0, syntheticHistory } from './history.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
let repoN = 0;
const newRepo = () => join(tmp.path, `r${++repoN}.git`);

describe('import from a repository', () => {
  it('round-trips a store exactly and continues its history', async () => {
    const gitDir = newRepo();
    const h = syntheticHistory(150, 21);
    await exportRepo({ gitDir, head: h.head });

    const imp = await importCommit({ gitDir });
    expect(imp.ref).toBe('HEAD');
    expect(imp.head.id).toBe(commitIdOf(h.head));
    expect(isExternal(imp.head)).toBe(true);
    expect(externalParentIds(imp.head)).toEqual(h.head.parents.map((p) => p.id));
    expect(imp.commits[0].canonical).toBe(true);
    expect(sameTree(imp.root, h.head.root)).toBe(true);
    // Canonical: every imported node carries the repository's tree id already.
    expect(imp.root.treeId).toBe(treeIdOf(h.head.root));
    expect(treeIdOf(cloneTree(imp.root))).toBe(imp.root.treeId);
    expect(imp.head.domid).toBe(h.head.domid);
    expect(imp.head.time).toBe(Math.floor(h.head.time / 1000) * 1000);
    expect(imp.head.changes).toEqual(h.head.changes);
    expect(imp.head.tx).toEqual(h.head.tx);

    // The restarted daemon: a new commit on top of the imported head, exported by a new exporter.
    const root = writePath(imp.root, '/local/domain/1/name', 'after-restart');
    const next = new Commit(root, [imp.head], 1, T0 + 1e9, [{ op: 'write', path: '/local/domain/1/name' }], null);
    const before = Number(/in-pack: (\d+)/.exec(git(gitDir, 'count-objects', '-v'))?.[1]);
    const ex = new GitExporter({ gitDir });
    const res = await ex.export({ head: next });
    ex.close();
    expect(res.objects).toBe(1 + 5 + 1); // commit, root/local/domain/1/name, the value
    expect(Number(/in-pack: (\d+)/.exec(git(gitDir, 'count-objects', '-v'))?.[1])).toBe(before + 7);
    expect(git(gitDir, 'rev-parse', 'HEAD~1').trim()).toBe(imp.head.id);
    expect(git(gitDir, 'rev-list', '--max-parents=0', 'HEAD').trim().split('\n').length).toBe(1);
    expect(git(gitDir, 'rev-list', '--count', 'HEAD').trim()).toBe('151');
    const r = spawnSync('git', ['fsck', '--strict'], { env: { ...process.env, GIT_DIR: gitDir } });
    expect(r.status).toBe(0);
  });

  it('imports several commits along first parents, sharing unchanged nodes', async () => {
    const gitDir = newRepo();
    const h = syntheticHistory(40, 23);
    await exportRepo({ gitDir, head: h.head });
    const imp = await importCommit({ gitDir, rev: 'main', depth: 5 });
    expect(imp.ref).toBe('refs/heads/main');
    expect(imp.commits.length).toBe(5);
    let c: Commit | undefined = h.head;
    for (const ic of imp.commits) {
      expect(ic.id).toBe((c as Commit).id);
      expect(sameTree(ic.commit.root, (c as Commit).root)).toBe(true);
      c = (c as Commit).parents[0];
    }
    expect(imp.commits[0].commit.parents[0]).toBe(imp.commits[1].commit);
    expect(imp.commits[4].commit.parents).toEqual([]);
    // Unchanged subtrees are one Node across imported commits.
    const a = readPath(imp.commits[0].commit.root, '/local/domain');
    const b = readPath(imp.commits[1].commit.root, '/local/domain');
    let shared = 0;
    a?.children.forEach((name, child) => {
      if (b?.children.get(name) === child) shared++;
    });
    expect(shared).toBeGreaterThanOrEqual(6);
    // By id, and by tag.
    const byId = await importTree({ gitDir, rev: h.all[10].id as string });
    expect(sameTree(byId.root, h.all[10].root)).toBe(true);
    git(gitDir, 'tag', '-a', '-m', 'annotated', 'v1', h.all[12].id as string);
    const byTag = await importTree({ gitDir, rev: 'v1' });
    expect(byTag.id).toBe(h.all[12].id);
    await expect(importTree({ gitDir, rev: 'nope' })).rejects.toThrow(NotFoundError);
  });

  it('reads trees written by others (extra files, exec bit, no .perms) as well as it can', async () => {
    const gitDir = newRepo();
    git(gitDir, 'init', '-q', '--bare', '-b', 'main');
    const blob = (s: string) => {
      const r = spawnSync('git', ['hash-object', '-w', '--stdin'], { input: s, env: { ...process.env, GIT_DIR: gitDir } });
      return String(r.stdout).trim();
    };
    const mktree = (lines: string[]) => {
      const r = spawnSync('git', ['mktree'], { input: lines.join('\n') + '\n', env: { ...process.env, GIT_DIR: gitDir } });
      return String(r.stdout).trim();
    };
    const child = mktree([`100755 blob ${blob('exec')}\t.value`]);
    const root = mktree([`100644 blob ${blob('')}\t.value`, `100644 blob ${blob('n0\nr3')}\t.perms`, `100644 blob ${blob('hi')}\tREADME`, `040000 tree ${child}\tvm`]);
    const commitFile = join(tmp.path, 'msg');
    writeFileSync(commitFile, 'hand made\n');
    const env = { ...process.env, GIT_DIR: gitDir, GIT_AUTHOR_NAME: 'dom4', GIT_AUTHOR_EMAIL: 'x@y', GIT_COMMITTER_NAME: 'a', GIT_COMMITTER_EMAIL: 'a@b', GIT_AUTHOR_DATE: '1700000000 +0100' };
    const id = String(spawnSync('git', ['commit-tree', root, '-F', commitFile], { env }).stdout).trim();
    git(gitDir, 'update-ref', 'refs/heads/main', id);
    const imp = await importCommit({ gitDir, defaultPerms: 'n7\0' });
    expect(imp.commits[0].canonical).toBe(false);
    expect(imp.root.perms).toBe('n0\0r3\0');
    expect(imp.root.children.size).toBe(1);
    const vm = imp.root.children.get('vm') as Node;
    expect(vm.value).toBe('exec');
    expect(vm.perms).toBe('n7\0');
    expect(imp.root.treeId).toBeUndefined(); // left to be computed: it differs from the repo's
    expect(treeIdOf(imp.root)).not.toBe(root);
    expect(imp.head.domid).toBe(4);
    expect(imp.head.time).toBe(1700000000 * 1000);
    // Exporting on top writes the recomputed trees; the imported commit stays as it was. (The
    // repository must say it is xsgit's: export refuses one git made for something else.)
    await expect(exportRepo({ gitDir, head: imp.head })).rejects.toThrow(/xsgit did not make/);
    git(gitDir, 'config', 'xsgit.repository', 'true');
    const next = new Commit(writePath(imp.root, '/vm', 'new'), [imp.head], 0, T0, [{ op: 'write', path: '/vm' }], null);
    await exportRepo({ gitDir, head: next });
    expect(git(gitDir, 'rev-parse', 'HEAD^').trim()).toBe(id);
    expect(spawnSync('git', ['fsck', '--strict'], { env: { ...process.env, GIT_DIR: gitDir } }).status).toBe(0);
    // Into another repository, the imported commit is missing: refused, not silently rewritten.
    await expect(exportRepo({ gitDir: newRepo(), head: next })).rejects.toThrow(MissingObjectError);
  });
});
