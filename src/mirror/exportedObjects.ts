import type { Commit } from '../history/commit.js';
import type { Node } from '../store/node.js';
import type { KnownObjects, WalkedObject } from './walk.js';

/**
 * What an exporter knows its repository holds, for the walker to prune on:
 *   - the Node and Commit objects it exported (WeakSets: they vanish with the objects, so memory
 *     follows the live history, and an unchanged subtree — the same Node — is pruned at once);
 *   - the ids it exported (a Set, cleared when it reaches `maxIds`; clearing only costs
 *     duplicate blobs in later packs, never a re-walk, because Nodes and Commits stay marked);
 *   - the repository's objects as they were when the exporter opened it (`base`: pack indexes
 *     and loose objects, looked up lazily, only for ids not found above).
 */
export class ExportedObjects implements KnownObjects {
  private ids = new Set<string>();
  private nodes = new WeakSet<Node>();
  private commits = new WeakSet<Commit>();

  constructor(
    private readonly base: { has(id: string): boolean } | null,
    private readonly maxIds = 1_000_000,
  ) {}

  has(id: string): boolean {
    return this.ids.has(id) || (this.base !== null && this.base.has(id));
  }

  hasNode(node: Node): boolean {
    return this.nodes.has(node);
  }

  hasCommit(commit: Commit): boolean {
    return this.commits.has(commit);
  }

  add(o: WalkedObject): void {
    if (this.ids.size >= this.maxIds) this.ids.clear();
    this.ids.add(o.id);
    if (o.node !== undefined) this.nodes.add(o.node);
    if (o.commit !== undefined) this.commits.add(o.commit);
  }

  /** Ids currently remembered (not counting `base`). */
  get size(): number {
    return this.ids.size;
  }
}
