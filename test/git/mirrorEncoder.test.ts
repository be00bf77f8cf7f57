/**
 * The live mirror's encoding, in-process (no worker thread, no daemon): what the main thread
 * serialises (BatchBuilder) and the worker packs (BatchPacker) must give exactly the ids the
 * rest of xsgit computes (treeIdOf, commitIdOf), as deltas git accepts; and the delta encoder
 * must round-trip through our reader.
 */
import { describe, expect, it } from 'vitest';
import { applyDelta } from '../../src/git/pack/delta.js';
import { encodeDelta, prefixSuffixSegments, type Segment } from '../../src/git/pack/deltaEncoder.js';
import { storePack } from '../../src/git/pack/storePack.js';
import { initBareRepo } from '../../src/git/repo/init.js';
import { commitIdOf } from '../../src/history/commitId.js';
import type { Commit } from '../../src/history/commit.js';
import { treeIdOf } from '../../src/history/nodeTree.js';
import { BatchBuilder } from '../../src/mirror/batchBuilder.js';
import { applyEdits, indexTree } from '../../src/mirror/worker/largeTree.js';
import { BatchPacker } from '../../src/mirror/worker/packer.js';
import { encodeTree } from '../../src/mirror/worker/treeBody.js';
import { commit, git, randomTree, randomValue, removePath, rng, tempDir, writePath } from './helpers.js';
import type { Node } from '../../src/store/node.js';

describe('delta encoder', () => {
  it('round-trips copies and inserts through the delta reader, long copies and inserts split', () => {
    const rand = rng(7);
    const base = Buffer.alloc(200_000);
    for (let i = 0; i < base.length; i++) base[i] = Math.floor(rand() * 256);
    const insert = Buffer.alloc(300, 7);
    const segments: Segment[] = [[0, 150_000], insert, [150_010, 49_990], Buffer.from('end')];
    const target = Buffer.concat([base.subarray(0, 150_000), insert, base.subarray(150_010), Buffer.from('end')]);
    const delta = encodeDelta(base.length, target.length, segments);
    expect(applyDelta(base, delta).equals(target)).toBe(true);
    expect(() => encodeDelta(base.length, target.length + 1, segments)).toThrow(/segments make/);
    expect(() => encodeDelta(10, 20, [[5, 20]])).toThrow(/outside a base/);
  });

  it('keeps the common head and tail of two versions', () => {
    const a = Buffer.from('x'.repeat(1000) + 'old' + 'y'.repeat(1000));
    const b = Buffer.from('x'.repeat(1000) + 'new!' + 'y'.repeat(1000));
    const segs = prefixSuffixSegments(a, b);
    expect(segs).toHaveLength(3);
    expect(applyDelta(a, encodeDelta(a.length, b.length, segs)).equals(b)).toBe(true);
    for (const [x, y] of [['', 'abc'], ['abc', ''], ['abc', 'abc'], ['aaaa', 'aa'], ['ab', 'aab']]) {
      const p = Buffer.from(x);
      const q = Buffer.from(y);
      expect(applyDelta(p, encodeDelta(p.length, q.length, prefixSuffixSegments(p, q))).toString()).toBe(y);
    }
  });

  it('patches a tree by edits into the tree encoded whole, with the patch as its delta', () => {
    const id = (n: number) => Buffer.alloc(20, n);
    const names = ['-x', 'a', 'a-b', 'a0', 'b', 'c'];
    const ids = Buffer.concat(names.map((_, i) => id(i + 1)));
    const t = encodeTree(names, ids, id(90), id(91), true);
    expect(indexTree(t.body)).toEqual(t.large);
    // Remove 'a', change 'b', add 'a-a' and 'zz'.
    const after = ['-x', 'a-a', 'a-b', 'a0', 'b', 'c', 'zz'];
    const afterIds = [id(1), id(40), id(3), id(4), id(50), id(6), id(60)];
    const whole = encodeTree(after, Buffer.concat(afterIds), id(90), id(91), true);
    const entry = (name: string, i: Buffer) => Buffer.concat([Buffer.from(`40000 ${name}\0`, 'latin1'), i]);
    const edits: [string, Buffer | null][] = [['a-a/', entry('a-a', id(40))], ['a/', null], ['b/', entry('b', id(50))], ['zz/', entry('zz', id(60))]];
    edits.sort((x, y) => (x[0] < y[0] ? -1 : 1));
    const { tree, segments } = applyEdits(t.large!, edits);
    expect(tree.body.equals(whole.body)).toBe(true);
    expect(tree.keys).toEqual(whole.large!.keys);
    expect(applyDelta(t.body, encodeDelta(t.body.length, tree.body.length, segments)).equals(whole.body)).toBe(true);
  });
});

describe('mirror batches', () => {
  it('give the ids treeIdOf and commitIdOf give, in packs git accepts, across batches and a rolled-back one', async () => {
    const repo = tempDir('xsgit-mirror-enc-');
    try {
      initBareRepo(repo.path);
      const rand = rng(11);
      let root: Node = randomTree(rand, 3, 4);
      // A large directory (edits) with names that git orders differently from byte order.
      for (let i = 0; i < 120; i++) root = writePath(root, `/big/${i % 3 === 0 ? `n${i}` : i % 3 === 1 ? `n${i}-x` : `-${i}`}/v`, String(i));
      let head = commit(root, [], 0, 1_700_000_000_000, [{ op: 'write', path: '/' }]);
      const commits: Commit[] = [head];
      const builder = new BatchBuilder();
      const packer = new BatchPacker();
      let packs = 0;
      const batch = async (tip: Commit, fail = false) => {
        const built = await builder.build([tip]);
        const done = packer.pack(built.bytes, builder.confirmedBelow);
        if (fail) {
          builder.rollback();
          return;
        }
        if (done.pack !== null) {
          await storePack(repo.path, done.pack, 'xsgit');
          packs++;
        }
        packer.commit(done);
        // The ids the main thread would compute itself, on the same nodes.
        for (let i = 0; i < built.treeNodes.length; i++) expect(done.treeIds.slice(40 * i, 40 * i + 40)).toBe(treeIdOf(built.treeNodes[i]));
        for (let i = 0; i < built.commitObjects.length; i++) expect(done.commitIds.slice(40 * i, 40 * i + 40)).toBe(commitIdOf(built.commitObjects[i]));
        builder.confirm(built, done.treeIds, done.commitIds);
      };
      await batch(head);
      for (let round = 0; round < 4; round++) {
        for (let k = 0; k < 25; k++) {
          const i = Math.floor(rand() * 150);
          const r = rand();
          const name = i % 3 === 0 ? `n${i}` : i % 3 === 1 ? `n${i}-x` : `-${i}`;
          if (r < 0.6) root = writePath(root, `/big/${name}/v`, randomValue(rand));
          else if (r < 0.8) root = removePath(root, `/big/${name}`);
          else root = writePath(root, `/small/${Math.floor(rand() * 5)}`, randomValue(rand));
          head = commit(root, [head], 0, 1_700_000_000_000 + commits.length * 1000, [{ op: 'write', path: '/big' }]);
          commits.push(head);
        }
        if (round === 2) await batch(head, true); // as if the disk had failed: sent again next time
        await batch(head);
      }
      expect(packs).toBe(5);
      git(repo.path, 'update-ref', 'refs/heads/main', commitIdOf(head));
      git(repo.path, 'fsck', '--strict');
      expect(git(repo.path, 'rev-list', '--count', 'main').trim()).toBe(String(commits.length));
      const verify = git(repo.path, 'count-objects', '-v');
      expect(verify).toMatch(/packs: 5/);
      expect(git(repo.path, 'rev-parse', 'main^{tree}').trim()).toBe(treeIdOf(root));
    } finally {
      repo.cleanup();
    }
  });
});
