import type { Change } from '../../src/store/change.js';
import { Commit } from '../../src/history/commit.js';
import type { Node } from '../../src/store/node.js';
import { leaf, removePath, rng, writePath } from './helpers.js';

/**
 * A synthetic xenstore history like the daemon's: single writes, rms, set_perms, transactions
 * that fast-forward and transactions merged back (branch commit + two-parent merge).
 */
export interface Synthetic {
  head: Commit;
  /** Every commit made, oldest first. */
  all: Commit[];
  /** Commits made on transaction branches (reachable only through merges). */
  branches: Commit[];
  root: Node;
}

export const T0 = 1_700_000_000_000;

export function syntheticHistory(n: number, seed = 1, start?: { head: Commit; time?: number }): Synthetic {
  const rand = rng(seed);
  let time = start?.time ?? T0;
  let head: Commit;
  let root: Node;
  const all: Commit[] = [];
  const branches: Commit[] = [];
  if (start === undefined) {
    root = leaf('');
    for (let d = 0; d < 8; d++) {
      root = writePath(root, `/local/domain/${d}/name`, `vm${d}`, `n${d}\0r0\0`);
      root = writePath(root, `/local/domain/${d}/memory/target`, '1048576', `n${d}\0`);
    }
    head = new Commit(root, [], 0, time, [], null);
    all.push(head);
  } else {
    head = start.head;
    root = head.root;
  }
  while (all.length < n) {
    time += 1000 + Math.floor(rand() * 5000);
    const dom = Math.floor(rand() * 8);
    const r = rand();
    if (r < 0.6) {
      const path = `/local/domain/${dom}/${rand() < 0.5 ? 'name' : 'data/x' + Math.floor(rand() * 5)}`;
      let value = `v${Math.floor(rand() * 1e6)}`;
      if (rand() < 0.1) value = `bin\0\xff\x80${Math.floor(rand() * 99)}\n`;
      root = writePath(root, path, value);
      head = new Commit(root, [head], dom, time, [{ op: 'write', path }], null);
      all.push(head);
    } else if (r < 0.7) {
      const path = `/local/domain/${dom}/data`;
      if (root.children.get('local')?.children.get('domain')?.children.get(String(dom))?.children.get('data') === undefined) continue;
      root = removePath(root, path);
      head = new Commit(root, [head], 0, time, [{ op: 'rm', path }], null);
      all.push(head);
    } else if (r < 0.75) {
      const path = `/local/domain/${dom}/name`;
      root = writePath(root, path, readDepthValue(root, path), `n${dom}\0r${Math.floor(rand() * 8)}\0`);
      head = new Commit(root, [head], 0, time, [{ op: 'set_perms', path }], null);
      all.push(head);
    } else {
      const tx = { conn: 1 + Math.floor(rand() * 5), txid: all.length };
      const changes: Change[] = [];
      let txRoot = root;
      const k = 1 + Math.floor(rand() * 4);
      for (let i = 0; i < k; i++) {
        const path = `/local/domain/${dom}/device/vif/${i}/state`;
        txRoot = writePath(txRoot, path, String(1 + Math.floor(rand() * 6)));
        changes.push({ op: 'write', path });
      }
      if (rand() < 0.5 || all.length < 3 || all.length + 2 > n) {
        root = txRoot;
        head = new Commit(root, [head], 0, time, changes, tx);
        all.push(head);
      } else {
        // Started two commits ago; another commit landed meanwhile: branch + merge.
        const startAt = all[all.length - 2];
        let branchRoot = startAt.root;
        for (const c of changes) branchRoot = writePath(branchRoot, c.path, String(readDepthValue(txRoot, c.path)));
        const branch = new Commit(branchRoot, [startAt], 0, time, changes, tx);
        let merged = root;
        for (const c of changes) merged = writePath(merged, c.path, String(readDepthValue(txRoot, c.path)));
        root = merged;
        head = new Commit(root, [head, branch], 0, time, changes, tx);
        branches.push(branch);
        all.push(branch, head);
      }
    }
  }
  return { head, all, branches, root };
}

function readDepthValue(root: Node, path: string): string {
  let cur: Node | undefined = root;
  for (const n of path.split('/').filter((s) => s.length > 0)) cur = cur?.children.get(n);
  return cur?.value ?? '';
}
