import { describe, expect, it } from 'vitest';
import { commitIdOf } from '../../src/history/commitId.js';
import { MissingObjectError } from '../../src/git/errors.js';
import { externalCommit } from '../../src/mirror/external.js';
import { treeIdOf } from '../../src/history/nodeTree.js';
import { hashObject } from '../../src/git/utils/hashObject.js';
import { walkNewObjects, type WalkedObject } from '../../src/mirror/walk.js';
import type { Commit } from '../../src/history/commit.js';
import { commit, leaf, writePath } from './helpers.js';

const T0 = 1_700_000_000_000;

function history(n: number): Commit[] {
  let root = leaf('');
  for (let d = 0; d < 10; d++) root = writePath(root, `/local/domain/${d}/name`, `vm${d}`);
  const out = [commit(root, [], 0, T0, [])];
  for (let i = 1; i <= n; i++) {
    root = writePath(root, `/local/domain/${i % 10}/memory/target`, String(1000 + i));
    out.push(commit(root, [out[i - 1]], i % 10, T0 + i * 1000, [{ op: 'write', path: `/local/domain/${i % 10}/memory/target` }]));
  }
  return out;
}

function counts(objs: WalkedObject[]) {
  return {
    commit: objs.filter((o) => o.type === 'commit').length,
    tree: objs.filter((o) => o.type === 'tree').length,
    blob: objs.filter((o) => o.type === 'blob').length,
  };
}

describe('object walker', () => {
  it('yields every reachable object once, each with the right id', () => {
    const h = history(20);
    const objs = [...walkNewObjects([h[20]], new Set())];
    const ids = objs.map((o) => o.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const o of objs) expect(hashObject(o.type, o.body)).toBe(o.id);
    expect(counts(objs).commit).toBe(21);
    expect(ids).toContain(treeIdOf(h[0].root));
    expect(ids[0]).toBe(commitIdOf(h[20]));
  });

  it('is incremental: only the changed path of a new commit', () => {
    const h = history(30);
    const known = new Set([...walkNewObjects([h[29]], new Set())].map((o) => o.id));
    const fresh = [...walkNewObjects([h[30]], known)];
    // 1 commit; trees: root, local, domain, domain/0, memory, target; 1 new value blob.
    expect(counts(fresh)).toEqual({ commit: 1, tree: 6, blob: 1 });
    expect(fresh.find((o) => o.type === 'blob')?.body.toString()).toBe('1030');
  });

  it('skips blobs the target holds even under new nodes (known value, known perms)', () => {
    const h = history(2);
    const known = new Set([...walkNewObjects([h[2]], new Set())].map((o) => o.id));
    // A value that exists elsewhere already: no blob. The new /local/domain/5 ({name: vm1})
    // even equals /local/domain/1 as the first commit had it, so only root, local, domain.
    const root = writePath(h[2].root, '/local/domain/5/name', 'vm1');
    const c = commit(root, [h[2]], 0, T0 + 9000, [{ op: 'write', path: '/local/domain/5/name' }]);
    expect(counts([...walkNewObjects([c], known)])).toEqual({ commit: 1, tree: 3, blob: 0 });
    // A new node whose content equals a known one ({value vm1}): its tree is skipped too.
    const root2 = writePath(h[2].root, '/local/domain/5/label', 'vm1');
    const c2 = commit(root2, [h[2]], 0, T0 + 9000, [{ op: 'write', path: '/local/domain/5/label' }]);
    expect(counts([...walkNewObjects([c2], known)])).toEqual({ commit: 1, tree: 4, blob: 0 });
  });

  it('uses the node and commit fast paths of a KnownObjects', () => {
    const h = history(5);
    const nodes = new WeakSet<object>();
    const commits = new WeakSet<object>();
    const ids = new Set<string>();
    const known = { has: (id: string) => ids.has(id), hasNode: (n: object) => nodes.has(n), hasCommit: (c: object) => commits.has(c) };
    for (const o of walkNewObjects([h[4]], known)) {
      if (o.node) nodes.add(o.node);
      if (o.commit) commits.add(o.commit);
      if (o.type === 'blob') ids.add(o.id); // blob ids only: trees and commits by identity
    }
    expect(counts([...walkNewObjects([h[5]], known)])).toEqual({ commit: 1, tree: 6, blob: 1 });
  });

  it('stops at external commits the target holds, and refuses those it lacks', () => {
    let root = writePath(leaf(''), '/a', '1');
    treeIdOf(root);
    const ext = externalCommit({ id: 'c'.repeat(40), root, parentIds: [], domid: 0, time: T0, changes: [], tx: null });
    root = writePath(root, '/b', '2');
    const next = commit(root, [ext], 0, T0 + 1000, [{ op: 'write', path: '/b' }]);
    const known = new Set([ext.id as string, treeIdOf(ext.root), treeIdOf(ext.root.children.get('a') as never)]);
    known.add('e69de29bb2d1d6434b8b29ae775ad8c2e48c5391');
    const objs = [...walkNewObjects([next], known)];
    expect(counts(objs).commit).toBe(1);
    expect(() => [...walkNewObjects([next], new Set())]).toThrow(MissingObjectError);
  });
});
