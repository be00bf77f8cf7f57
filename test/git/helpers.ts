import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Change } from '../../src/store/change.js';
import { Commit, type TxTag } from '../../src/history/commit.js';
import { ChildMap } from '../../src/store/childmap.js';
import { Node } from '../../src/store/node.js';

/** Test helpers for src/git: building node trees and commits, temp dirs, running real git. */

export const EMPTY = ChildMap.empty<Node>();

export function leaf(value: string, perms = 'n0\0'): Node {
  return new Node(value, perms, EMPTY, 0);
}

/** A new root with `path` set to `value` (creating missing nodes with perms n0), sharing the rest. */
export function writePath(root: Node, path: string, value: string, perms?: string): Node {
  const names = path.split('/').filter((s) => s.length > 0);
  const chain: Node[] = [root];
  for (let i = 0; i < names.length; i++) {
    const next = chain[i].children.get(names[i]);
    chain.push(next ?? leaf(''));
  }
  const old = chain[names.length];
  let cur = new Node(value, perms ?? old.perms, old.children, old.gen + 1);
  for (let i = names.length - 1; i >= 0; i--) {
    const p = chain[i];
    cur = new Node(p.value, p.perms, p.children.set(names[i], cur), p.gen);
  }
  return cur;
}

export function removePath(root: Node, path: string): Node {
  const names = path.split('/').filter((s) => s.length > 0);
  const chain: Node[] = [root];
  for (let i = 0; i < names.length - 1; i++) chain.push(chain[i].children.get(names[i]) as Node);
  const parent = chain[names.length - 1];
  let cur = new Node(parent.value, parent.perms, parent.children.delete(names[names.length - 1]), parent.gen + 1);
  for (let i = names.length - 2; i >= 0; i--) {
    const p = chain[i];
    cur = new Node(p.value, p.perms, p.children.set(names[i], cur), p.gen);
  }
  return cur;
}

export function readPath(root: Node, path: string): Node | undefined {
  let cur: Node | undefined = root;
  for (const n of path.split('/').filter((s) => s.length > 0)) cur = cur?.children.get(n);
  return cur;
}

export function commit(root: Node, parents: Commit[], domid: number, time: number, changes: Change[], tx: TxTag | null = null): Commit {
  return new Commit(root, parents, domid, time, changes, tx);
}

/** Deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NAME_CHARS = 'abcXYZ019-_@';

/** Random trees whose names stress git's order: prefixes, '-', '_', '@', digits. */
export function randomTree(rand: () => number, maxDepth: number, maxChildren: number): Node {
  const build = (depth: number): Node => {
    let children = EMPTY;
    const n = depth >= maxDepth ? 0 : Math.floor(rand() * (maxChildren + 1));
    for (let i = 0; i < n; i++) {
      let name = '';
      const len = 1 + Math.floor(rand() * 3);
      for (let k = 0; k < len; k++) name += NAME_CHARS[Math.floor(rand() * NAME_CHARS.length)];
      // Sometimes add a prefix-sharing sibling: 'ab' and 'ab-x' order differently in git.
      children = children.set(name, build(depth + 1));
      if (rand() < 0.3) children = children.set(`${name}-${Math.floor(rand() * 10)}`, build(depth + 1));
    }
    return new Node(randomValue(rand), randomPerms(rand), children, 0);
  };
  return build(0);
}

export function randomValue(rand: () => number): string {
  const kind = rand();
  if (kind < 0.3) return '';
  let s = '';
  const len = Math.floor(rand() * 20);
  for (let i = 0; i < len; i++) s += String.fromCharCode(kind < 0.6 ? 32 + Math.floor(rand() * 95) : Math.floor(rand() * 256));
  return s;
}

export function randomPerms(rand: () => number): string {
  const opts = ['n0\0', 'n0\0r5\0', 'b3\0', 'w7\0r0\0n2\0'];
  return opts[Math.floor(rand() * opts.length)];
}

export function tempDir(prefix = 'xsgit-git-'): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

/** Runs the real git on a repository; returns stdout (throws with stderr on failure). */
export function git(gitDir: string, ...args: string[]): string {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('GIT_')) env[k] = v;
  env.GIT_DIR = gitDir;
  const r = spawnSync('git', args, { env, maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${String(r.stderr)}`);
  return r.stdout.toString('latin1');
}

/** Every (value, perms, children) of two node trees is equal. Iterative. */
export function sameTree(a: Node, b: Node): boolean {
  const stack: [Node, Node][] = [[a, b]];
  while (stack.length > 0) {
    const [x, y] = stack.pop() as [Node, Node];
    if (x === y) continue;
    if (x.value !== y.value || x.perms !== y.perms || x.children.size !== y.children.size) return false;
    let ok = true;
    x.children.forEach((name, cx) => {
      const cy = y.children.get(name);
      if (cy === undefined) {
        ok = false;
        return false;
      }
      stack.push([cx, cy]);
    });
    if (!ok) return false;
  }
  return true;
}

/** A deep copy made of new Node objects (no tree ids yet). Iterative. */
export function cloneTree(root: Node): Node {
  const done = new Map<Node, Node>();
  const stack: Node[] = [root];
  while (stack.length > 0) {
    const n = stack[stack.length - 1];
    let pending = false;
    n.children.forEach((_, c) => {
      if (!done.has(c)) {
        stack.push(c);
        pending = true;
      }
    });
    if (pending) continue;
    stack.pop();
    let kids = EMPTY;
    n.children.forEach((name, c) => {
      kids = kids.set(name, done.get(c) as Node);
    });
    done.set(n, new Node(n.value, n.perms, kids, n.gen));
  }
  return done.get(root) as Node;
}
