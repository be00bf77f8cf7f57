import { Node, NO_CHILDREN } from '../store/node.js';
import { baseName, childPath, parentOf } from '../store/path.js';
import { type Generation, lookup } from '../store/tree.js';
import { SAW_EXISTENCE, type EventSink, type View } from '../store/view.js';

/** What a transaction knows of one node: its state in the head when first touched (null:
 *  absent), what it read of it, and whether it changed the node itself. */
export interface Touch {
  readonly base: Node | null;
  reads: number;
  wrote: boolean;
}

/**
 * A transaction's branch of the store, with the C daemon's visibility: a node reads as it was
 * in the head when the transaction first touched it (read or write), plus the transaction's
 * own changes. Nothing is copied up front; each first touch costs one head lookup.
 */
export class TxView implements View, EventSink {
  /** The transaction's current view of every node it touched or made (null: absent). */
  readonly records = new Map<string, Node | null>();
  /** First-touch states: what the commit checks against the head (merge.ts). */
  readonly touches = new Map<string, Touch>();
  /** The watch events the commit fires, as the C daemon keeps them: one per changed node,
   *  in first-change order, `true` when only watches set exactly on it fire (a descendant of
   *  a removed node); the last change decides. */
  readonly changes = new Map<string, boolean>();
  constructor(
    private readonly head: () => Node,
    private readonly gen: Generation,
  ) {}

  node(path: string, reads: number): Node | undefined {
    const r = this.records.get(path);
    if (r !== undefined) {
      const t = this.touches.get(path);
      if (t !== undefined) t.reads |= reads;
      return r ?? undefined;
    }
    const base = lookup(this.head(), path) ?? null;
    this.records.set(path, base);
    this.touches.set(path, { base, reads, wrote: false });
    return base ?? undefined;
  }

  mark(path: string, reads: number): void {
    const t = this.touches.get(path);
    if (t !== undefined) t.reads |= reads;
  }

  put(path: string, value: string, perms: string): Node {
    const old = this.node(path, SAW_EXISTENCE);
    const fresh = new Node(value, perms, old === undefined ? NO_CHILDREN : old.children, this.gen.next());
    this.records.set(path, fresh);
    this.wrote(path);
    if (old === undefined) this.relink(path, fresh);
    return fresh;
  }

  remove(path: string): Node {
    const old = this.node(path, SAW_EXISTENCE);
    if (old === undefined) throw new Error(`remove of missing ${path}`);
    // Like the C daemon, delete the subtree as this branch sees it, touching each node:
    // descendants it never saw listed stay as they are in the head until the commit.
    const stack = [path];
    while (stack.length > 0) {
      const p = stack.pop()!;
      const n = this.node(p, SAW_EXISTENCE);
      if (n === undefined) continue;
      n.children.forEach((name) => {
        stack.push(childPath(p, name));
      });
      this.records.set(p, null);
      if (p !== path) this.changes.set(p, true);
    }
    this.wrote(path);
    this.relink(path, null);
    return old;
  }

  /** Adds (child) or drops (null) a name in the parent's child list, as this branch sees it. */
  private relink(path: string, child: Node | null): void {
    const pp = parentOf(path);
    const parent = this.node(pp, SAW_EXISTENCE);
    // A parent this branch saw missing while the child showed up later (first-touch reads are
    // not one snapshot): the child stands alone in this view, and the commit checks the parent.
    if (parent === undefined) return;
    const name = baseName(path);
    const kids = child === null ? parent.children.delete(name) : parent.children.set(name, child);
    this.records.set(pp, parent.withChildren(kids, this.gen.next()));
  }

  /** EventSink for the operations run on this branch: events are kept for the commit. */
  changed(path: string): void {
    this.changes.set(path, false);
  }

  removed(path: string): void {
    this.changes.set(path, false);
  }

  /** Whether a change the commit would announce is real: a node made and removed again
   *  within the transaction never existed for anyone else. */
  visible(path: string): boolean {
    return this.records.get(path) !== null || (this.touches.get(path)?.base ?? null) !== null;
  }

  private wrote(path: string): void {
    const t = this.touches.get(path);
    if (t !== undefined) t.wrote = true;
  }
}
