import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { commitIdOf } from '../../src/history/commitId.js';
import { GitExporter } from '../../src/mirror/exporter.js';
import { Commit } from '../../src/history/commit.js';
import type { Node } from '../../src/store/node.js';
import { git, leaf, rng, tempDir, writePath } from './helpers.js';

/**
 * Export throughput. Not part of the normal run (it takes a while):
 *   XSGIT_BENCH=1 npx vitest run test/git/perf.test.ts
 * A 10k-node store (100 domains × ~100 nodes), then N commits each changing one value.
 */

const N = Number(process.env.XSGIT_BENCH_COMMITS ?? 10_000);
const T0 = 1_700_000_000_000;

function store(): Node {
  let root = leaf('');
  for (let d = 0; d < 100; d++) {
    const home = `/local/domain/${d}`;
    root = writePath(root, `${home}/name`, `guest-${d}`, `n${d}\0`);
    root = writePath(root, `${home}/memory/target`, '1048576', `n${d}\0`);
    for (let k = 0; k < 48; k++) root = writePath(root, `${home}/data/k${k}`, `value ${k}`, `n${d}\0`);
    for (let v = 0; v < 8; v++) {
      for (const f of ['state', 'backend-id', 'virtual-device', 'ring-ref']) {
        root = writePath(root, `${home}/device/vbd/${v}/${f}`, `${v}-${f}`, `n${d}\0r0\0`);
      }
    }
  }
  return root;
}

function history(n: number): Commit[] {
  const rand = rng(1);
  let root = store();
  const out = [new Commit(root, [], 0, T0, [], null)];
  for (let i = 1; i <= n; i++) {
    const path = `/local/domain/${Math.floor(rand() * 100)}/data/k${Math.floor(rand() * 48)}`;
    root = writePath(root, path, `v${i}`);
    out.push(new Commit(root, [out[i - 1]], 0, T0 + i * 1000, [{ op: 'write', path }], null));
  }
  return out;
}

function countNodes(root: Node): number {
  let n = 0;
  const stack = [root];
  while (stack.length > 0) {
    const x = stack.pop() as Node;
    n++;
    x.children.forEach((_, c) => {
      stack.push(c);
    });
  }
  return n;
}

const tmp = tempDir('xsgit-perf-');
afterAll(() => tmp.cleanup());

describe.skipIf(!process.env.XSGIT_BENCH)('export throughput', () => {
  const runs = [
    ['git', 'auto'],
    ['git', 1],
    ['git', 0],
    ['xsgit', 'auto'],
    ['isomorphic-git', 'auto'],
  ] as const;
  for (const [indexer, compression] of runs) {
    it(`one export of ${N} commits (${indexer}, compression ${compression})`, async () => {
      const commits = indexer === 'isomorphic-git' ? Math.min(N, 2000) : N;
      const h = history(commits);
      const nodes = countNodes(h[0].root);
      let t = performance.now();
      commitIdOf(h[commits]);
      const idMs = performance.now() - t;
      const gitDir = join(tmp.path, `one-${indexer}-${compression}.git`);
      const ex = new GitExporter({ gitDir, indexer, compression });
      t = performance.now();
      const r = await ex.export({ head: h[commits] });
      const ms = performance.now() - t;
      console.log(
        `[${indexer}, ${compression}] store ${nodes} nodes, ${commits} commits: ids ${idMs.toFixed(0)} ms (${((commits * 1000) / idMs).toFixed(0)} commits/s); ` +
          `export ${r.objects} objects (${r.commits} c, ${r.trees} t, ${r.blobs} b), ${(r.bytes / 1e6).toFixed(1)} MB in ${ms.toFixed(0)} ms = ${((r.objects * 1000) / ms).toFixed(0)} objects/s`,
      );
      expect(git(gitDir, 'rev-list', '--count', 'HEAD').trim()).toBe(String(commits + 1));
      ex.close();
    }, 600_000);
  }

  for (const indexer of ['git', 'xsgit'] as const)
  it(`incremental: batches of 100 commits (${indexer})`, async () => {
    const h = history(N);
    const gitDir = join(tmp.path, `batches-${indexer}.git`);
    const ex = new GitExporter({ gitDir, indexer });
    await ex.export({ head: h[0] });
    let objects = 0;
    let worst = 0;
    const t = performance.now();
    for (let i = 100; i <= N; i += 100) {
      const t1 = performance.now();
      objects += (await ex.export({ head: h[i] })).objects;
      worst = Math.max(worst, performance.now() - t1);
    }
    const ms = performance.now() - t;
    console.log(
      `[batches, ${indexer}] ${N / 100} exports of 100 commits (ids included): ${objects} objects in ${ms.toFixed(0)} ms = ${((objects * 1000) / ms).toFixed(0)} objects/s, ` +
        `${(ms / (N / 100)).toFixed(1)} ms per batch (worst ${worst.toFixed(1)} ms)`,
    );
    expect(git(gitDir, 'rev-list', '--count', 'HEAD').trim()).toBe(String(N + 1));
    ex.close();
  }, 600_000);
});
