import { Commit } from '../history/commit.js';
import { commitIdOf, signatureOf } from '../history/commitId.js';
import { commitMessage } from '../history/commitMessage.js';
import { formatSignature } from '../git/objects/commit.js';
import type { Node } from '../store/node.js';
import type { ChildMap } from '../store/childmap.js';
import type { CommitRecord, Ref, TreeRecord } from './worker/protocol.js';

/**
 * The main thread's half of the live mirror: turns the commits a batch adds into records for
 * the worker (worker/protocol.ts). It visits only what is new — a node or commit already sent
 * is referred to by id or handle — and gives a large directory (LARGE children or more) as the
 * children that changed since the version of the same path it last sent, found by comparing
 * the B-tree leaves of the two child maps (unchanged leaves are the same arrays): the work per
 * commit follows the changed paths, not the size of the directories on them.
 *
 * Everything a batch marks is provisional until `confirm` (the worker stored the pack) or
 * `rollback` (it failed: the same nodes are sent again next time).
 */

/** Directories with at least this many children are sent as edits. */
export const LARGE = 64;
/** Records between two turns of the event loop while building. */
const YIELD_EVERY = 400;

type Item = Node | Commit;

export interface Built {
  readonly trees: TreeRecord[];
  readonly commits: CommitRecord[];
  /** What the records stand for, in record order (their ids come back in that order). */
  readonly treeNodes: Node[];
  readonly commitObjects: Commit[];
  /** Commits whose parents retention cut off before they were sent (shallow candidates). */
  readonly cut: Commit[];
}

export class BatchBuilder {
  private sent = new WeakSet<Item>();
  private readonly handles = new WeakMap<Item, number>();
  private nextHandle = 1;
  /** Handles below this have their ids on the objects (the worker may forget them). */
  confirmedBelow = 1;
  private large = new Map<string, Node>();
  private confirmedLarge = new Map<string, Node>();
  private provisional: Item[] = [];

  /** Marks a commit the repository already holds (imported at a restart), with its trees. */
  markKnown(c: Commit): void {
    this.sent.add(c);
    const stack: Node[] = [c.root];
    while (stack.length > 0) {
      const n = stack.pop()!;
      if (n.treeId === undefined || this.sent.has(n)) continue;
      this.sent.add(n);
      n.children.forEach((_k, child) => {
        stack.push(child);
      });
    }
  }

  isSent(x: Item): boolean {
    return this.sent.has(x);
  }

  /** Serialises every commit reachable from `tips` that was not sent, parents first. */
  async build(tips: readonly Commit[]): Promise<Built> {
    const out: Built = { trees: [], commits: [], treeNodes: [], commitObjects: [], cut: [] };
    let sinceYield = 0;
    const stack: [Commit, boolean][] = tips.filter((t) => !this.sent.has(t)).map((t) => [t, false]);
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      const [c, expanded] = top;
      if (this.sent.has(c)) {
        stack.pop();
        continue;
      }
      if (!expanded) {
        top[1] = true;
        for (const p of c.parents) if (!this.sent.has(p)) stack.push([p, false]);
        continue;
      }
      stack.pop();
      sinceYield += this.addTrees(c.root, out);
      this.addCommit(c, out);
      if (sinceYield >= YIELD_EVERY) {
        sinceYield = 0;
        await new Promise<void>((r) => setImmediate(r));
      }
    }
    return out;
  }

  /** The batch is in the repository: its ids go on the objects, its marks become final. */
  confirm(b: Built, treeIds: string, commitIds: string): void {
    for (let i = 0; i < b.treeNodes.length; i++) b.treeNodes[i].treeId ??= treeIds.slice(40 * i, 40 * i + 40);
    for (let i = 0; i < b.commitObjects.length; i++) b.commitObjects[i].id ??= commitIds.slice(40 * i, 40 * i + 40);
    this.confirmedBelow = this.nextHandle;
    this.confirmedLarge = new Map(this.large);
    this.provisional = [];
  }

  /** The batch failed: forget its marks, so the next batch sends those objects again. */
  rollback(): void {
    for (const x of this.provisional) this.sent.delete(x);
    this.provisional = [];
    this.large = new Map(this.confirmedLarge);
  }

  private mark(x: Item): number {
    const h = this.nextHandle++;
    this.sent.add(x);
    this.handles.set(x, h);
    this.provisional.push(x);
    return h;
  }

  private ref(x: Item): Ref {
    const id = x instanceof Commit ? x.id : x.treeId;
    const h = this.handles.get(x);
    // A handle the worker still holds is as good as the id (and exists before the id does).
    if (h !== undefined && h >= this.confirmedBelow) return h;
    if (id !== undefined) return id;
    if (h !== undefined) return h;
    throw new Error('mirror: object referenced before it was sent');
  }

  /** Records the new nodes under `root`, children first; returns how many. */
  private addTrees(root: Node, out: Built): number {
    if (this.sent.has(root)) return 0;
    let n = 0;
    const stack: [Node, string, boolean][] = [[root, '/', false]];
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      const [node, path, expanded] = top;
      if (!expanded) {
        top[2] = true;
        const base = path === '/' ? '/' : `${path}/`;
        node.children.forEach((name, child) => {
          if (!this.sent.has(child)) stack.push([child, base + name, false]);
        });
        continue;
      }
      stack.pop();
      if (this.sent.has(node)) continue; // the same node twice in one tree
      out.trees.push(this.treeRecord(node, path));
      out.treeNodes.push(node);
      n++;
    }
    return n;
  }

  private treeRecord(node: Node, path: string): TreeRecord {
    const isLarge = node.children.size >= LARGE;
    const prev = this.large.get(path);
    if (isLarge) this.large.set(path, node);
    else if (prev !== undefined) this.large.delete(path);
    const base = { path, value: node.value, perms: node.perms, large: isLarge };
    if (isLarge && prev !== undefined) {
      const edits = this.edits(prev.children, node.children);
      return { h: this.mark(node), ...base, edits };
    }
    const kids: (string | Ref)[] = [];
    node.children.forEach((name, child) => {
      kids.push(name, this.ref(child));
    });
    return { h: this.mark(node), ...base, kids };
  }

  /** The children of `now` that differ from `before`: `[name, ref | null, …]`. Unchanged B-tree
   *  leaves are shared arrays, so only the entries of changed leaves are looked at. */
  private edits(before: ChildMap<Node>, now: ChildMap<Node>): (string | Ref | null)[] {
    const out: (string | Ref | null)[] = [];
    const oldLeaves = new Set<readonly unknown[]>();
    before.forEachLeaf((l) => oldLeaves.add(l));
    const newLeaves = new Set<readonly unknown[]>();
    now.forEachLeaf((l) => {
      newLeaves.add(l);
      if (oldLeaves.has(l)) return;
      for (let i = 0; i < l.length; i += 2) {
        const name = l[i] as string;
        const child = l[i + 1] as Node;
        if (before.get(name) !== child) out.push(name, this.ref(child));
      }
    });
    for (const l of oldLeaves) {
      if (newLeaves.has(l)) continue;
      for (let i = 0; i < l.length; i += 2) {
        const name = l[i] as string;
        if (!now.has(name)) out.push(name, null);
      }
    }
    return out;
  }

  private addCommit(c: Commit, out: Built): void {
    const origin = c.tierNote?.origin;
    // A tier commit's message names its origin's id (rare: the pruner resolves it first).
    if (origin !== undefined && typeof origin !== 'string' && origin.id === undefined) commitIdOf(origin);
    const sig = formatSignature(signatureOf(c));
    const parents: Ref[] = c.cutParentIds !== null ? [...c.cutParentIds] : c.parents.map((p) => this.ref(p));
    if (c.cutParentIds !== null) out.cut.push(c);
    const rec: CommitRecord = { h: 0, tree: this.ref(c.root), parents, rest: `author ${sig}\ncommitter ${sig}\n\n${commitMessage(c)}` };
    out.commits.push({ ...rec, h: this.mark(c) });
    out.commitObjects.push(c);
  }
}
