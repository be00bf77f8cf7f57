import type { Commit } from '../history/commit.js';
import { commitIdOf, signatureOf } from '../history/commitId.js';
import { commitMessage } from '../history/commitMessage.js';
import { formatSignature } from '../git/objects/commit.js';
import type { Node } from '../store/node.js';
import type { ChildMap } from '../store/childmap.js';
import type { Ref } from './worker/protocol.js';
import { BatchWriter, COMMIT, TREE_EDITS, TREE_KIDS } from './worker/wire.js';

/**
 * The main thread's half of the live mirror: writes the records of what a batch adds for the
 * worker (worker/protocol.ts, worker/wire.ts). It visits only what is new — a node or commit
 * already sent is referred to by id or handle — and gives a large directory (LARGE children or
 * more) as the children that changed since the version of the same path it last sent, found
 * by comparing the B-tree leaves of the two child maps (unchanged leaves are the same arrays):
 * the work per commit follows the changed paths, not the size of the directories on them.
 *
 * `mirrorMark` on Node and Commit is 0 until sent, then the handle it was sent with. Everything
 * a batch marks is provisional until `confirm` (the worker stored the pack: ids go on the
 * objects) or `rollback` (it failed: the marks are cleared, so the next batch sends them again).
 */

/** Directories with at least this many children are sent as edits. */
export const LARGE = 64;
/** Records between two turns of the event loop while building. */
const YIELD_EVERY = 500;

type Item = Node | Commit;

export interface Built {
  /** The records, to transfer to the worker. */
  readonly bytes: ArrayBuffer;
  /** What the records stand for, in record order (their ids come back in that order). */
  readonly treeNodes: Node[];
  readonly commitObjects: Commit[];
  /** Commits whose parents retention cut off before they were sent (shallow candidates). */
  readonly cut: Commit[];
}

/** The mark of objects the repository had when the mirror started. */
const KNOWN = -1;

export class BatchBuilder {
  private nextHandle = 1;
  /** Handles from here on belong to the batch being built or written. */
  private batchStart = 1;
  /** The last version sent of each large directory (the worker holds the same). */
  private large = new Map<string, Node>();
  /** The last version of each path sent in the batch being built (any size). */
  private recent = new Map<string, Node>();
  private provisional: Item[] = [];

  /** Handles below this have their ids on the objects (the worker may forget them). */
  get confirmedBelow(): number {
    return this.batchStart;
  }

  /** Marks a commit the repository already holds (imported at a restart), with its trees. */
  markKnown(c: Commit): void {
    c.mirrorMark = KNOWN;
    const stack: Node[] = [c.root];
    while (stack.length > 0) {
      const n = stack.pop()!;
      if (n.treeId === undefined || n.mirrorMark !== 0) continue;
      n.mirrorMark = KNOWN;
      n.children.forEach((_k, child) => {
        stack.push(child);
      });
    }
  }

  isSent(x: Item): boolean {
    return x.mirrorMark !== 0;
  }

  /** Serialises every commit reachable from `tips` that was not sent, parents first. */
  async build(tips: readonly Commit[]): Promise<Built> {
    this.batchStart = this.nextHandle;
    this.recent = new Map();
    const w = new BatchWriter();
    const treeNodes: Node[] = [];
    const commitObjects: Commit[] = [];
    const cut: Commit[] = [];
    let sinceYield = 0;
    const stack: [Commit, boolean][] = tips.filter((t) => t.mirrorMark === 0).map((t) => [t, false]);
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      const c = top[0];
      if (c.mirrorMark !== 0) {
        stack.pop();
        continue;
      }
      if (!top[1]) {
        top[1] = true;
        for (const p of c.parents) if (p.mirrorMark === 0) stack.push([p, false]);
        continue;
      }
      stack.pop();
      sinceYield += this.addTrees(c.root, w, treeNodes);
      if (c.cutParentIds !== null) cut.push(c);
      this.addCommit(c, w);
      commitObjects.push(c);
      if (++sinceYield >= YIELD_EVERY) {
        sinceYield = 0;
        await new Promise<void>((r) => setImmediate(r));
      }
    }
    return { bytes: w.finish(), treeNodes, commitObjects, cut };
  }

  /** The batch is in the repository: its ids go on the objects, its marks become final. */
  confirm(b: Built, treeIds: string, commitIds: string): void {
    for (let i = 0; i < b.treeNodes.length; i++) b.treeNodes[i].treeId ??= treeIds.slice(40 * i, 40 * i + 40);
    for (let i = 0; i < b.commitObjects.length; i++) b.commitObjects[i].id ??= commitIds.slice(40 * i, 40 * i + 40);
    this.batchStart = this.nextHandle;
    for (const [path, node] of this.recent) {
      if (node.children.size >= LARGE) this.large.set(path, node);
      else this.large.delete(path);
    }
    this.recent = new Map();
    this.provisional = [];
  }

  /** The batch failed: clear its marks, so the next batch sends those objects again. */
  rollback(): void {
    for (const x of this.provisional) x.mirrorMark = 0;
    this.provisional = [];
    this.recent = new Map();
    this.batchStart = this.nextHandle;
  }

  /** A new worker holds no versions: every directory goes whole in its first batch. */
  forgetWorkerState(): void {
    this.large = new Map();
    this.recent = new Map();
  }

  private mark(x: Item): number {
    const h = this.nextHandle++;
    x.mirrorMark = h;
    this.provisional.push(x);
    return h;
  }

  /** How a record names an object sent before it: its handle within this batch, else its id. */
  private ref(x: Item): Ref {
    const h = x.mirrorMark;
    if (h >= this.batchStart) return h;
    const id = 'root' in x ? x.id : x.treeId;
    if (id === undefined) throw new Error('mirror: object referenced before it was sent');
    return id;
  }

  /** Writes the new nodes under `root`, children first; returns how many. */
  private addTrees(root: Node, w: BatchWriter, out: Node[]): number {
    if (root.mirrorMark !== 0) return 0;
    let n = 0;
    const stack: [Node, string, boolean][] = [[root, '/', false]];
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      const node = top[0];
      if (!top[2]) {
        top[2] = true;
        const base = top[1] === '/' ? '/' : `${top[1]}/`;
        const visit = (name: string, child: Node) => {
          if (child.mirrorMark === 0) stack.push([child, base + name, false]);
        };
        const prev = node.children.size >= LARGE ? this.previous(top[1]) : undefined;
        if (prev === undefined) node.children.forEach(visit);
        else changedLeaves(prev.children, node.children, visit);
        continue;
      }
      stack.pop();
      if (node.mirrorMark !== 0) continue; // the same node twice in one tree
      this.writeTree(node, top[1], w);
      out.push(node);
      n++;
    }
    return n;
  }

  /** The version of `path` the worker holds: sent earlier in this batch, or a large one sent
   *  in an earlier batch. */
  private previous(path: string): Node | undefined {
    return this.recent.get(path) ?? this.large.get(path);
  }

  /**
   * A tree as the children that changed since the version of the same path the worker holds,
   * or, when it holds none, as all of them. Within a batch, the directories near the root
   * change with every commit: this sends them as one or two entries each, not all of them.
   */
  private writeTree(node: Node, path: string, w: BatchWriter): void {
    const isLarge = node.children.size >= LARGE;
    const prev = this.previous(path);
    this.recent.set(path, node);
    const edits = prev !== undefined;
    w.u8(edits ? TREE_EDITS : TREE_KIDS);
    w.u32(this.mark(node));
    w.u8(isLarge ? 1 : 0);
    w.latin1(path);
    w.latin1(node.value);
    w.latin1(node.perms);
    if (edits) {
      this.writeEdits(prev.children, node.children, w);
      return;
    }
    w.u32(node.children.size);
    node.children.forEach((name, child) => {
      w.latin1(name);
      w.ref(this.ref(child));
    });
  }

  /** The children of `now` that differ from `before` (count, then name and ref or none). */
  private writeEdits(before: ChildMap<Node>, now: ChildMap<Node>, w: BatchWriter): void {
    const out: (string | Ref | null)[] = [];
    const gone = changedLeaves(before, now, (name, child) => {
      if (before.get(name) !== child) out.push(name, this.ref(child));
    });
    for (const l of gone) {
      for (let i = 0; i < l.length; i += 2) {
        const name = l[i] as string;
        if (!now.has(name)) out.push(name, null);
      }
    }
    w.u32(out.length / 2);
    for (let i = 0; i < out.length; i += 2) {
      w.latin1(out[i] as string);
      w.ref(out[i + 1] as Ref | null);
    }
  }

  private writeCommitParents(c: Commit, w: BatchWriter): void {
    if (c.cutParentIds !== null) {
      w.u8(c.cutParentIds.length);
      for (const id of c.cutParentIds) w.ref(id);
      return;
    }
    w.u8(c.parents.length);
    for (const p of c.parents) w.ref(this.ref(p));
  }

  private addCommit(c: Commit, w: BatchWriter): void {
    const origin = c.tierNote?.origin;
    // A tier commit's message names its origin's id (rare: the pruner resolves it first).
    if (origin !== undefined && typeof origin !== 'string' && origin.id === undefined) commitIdOf(origin);
    const sig = formatSignature(signatureOf(c));
    const tree = this.ref(c.root);
    w.u8(COMMIT);
    w.u32(this.mark(c));
    w.ref(tree);
    this.writeCommitParents(c, w);
    w.utf8(`author ${sig}\ncommitter ${sig}\n\n${commitMessage(c)}`);
  }
}

/**
 * Visits the entries of the B-tree leaves of `now` that `before` does not share (unchanged
 * leaves are the same arrays in both versions), and returns the leaves of `before` that `now`
 * does not share. Costs the number of leaves plus the entries of the changed ones, not the
 * number of children.
 */
function changedLeaves(before: ChildMap<Node>, now: ChildMap<Node>, fn: (name: string, child: Node) => void): (readonly unknown[])[] {
  const oldLeaves = new Set<readonly unknown[]>();
  before.forEachLeaf((l) => oldLeaves.add(l));
  now.forEachLeaf((l) => {
    if (oldLeaves.delete(l)) return;
    for (let i = 0; i < l.length; i += 2) fn(l[i] as string, l[i + 1] as Node);
  });
  return [...oldLeaves];
}
