import { Node, NO_CHILDREN } from '../store/node.js';
import { baseName, isAtOrBelow, parentOf } from '../store/path.js';
import { type Generation, lookup } from '../store/tree.js';
import type { View } from '../store/view.js';

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
export class TxView implements View {
  /** The transaction's current view of every node it touched or made (null: absent). */
  readonly records = new Map<string, Node | null>();
  /** First-touch states: what the commit checks against the head (merge.ts). */
  readonly touches = new Map<string, Touch>();
  /** Subtrees this transaction removed: their untouched descendants are absent to it. */
  private readonly removed: string[] = [];

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
    if (this.removedAbove(path)) return undefined;
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
    const old = this.node(path, 0);
    const fresh = new Node(value, perms, old === undefined ? NO_CHILDREN : old.children, this.gen.next());
    this.records.set(path, fresh);
    this.wrote(path);
    if (old === undefined) this.relink(path, fresh);
    return fresh;
  }

  remove(path: string): Node {
    const old = this.node(path, 0);
    if (old === undefined) throw new Error(`remove of missing ${path}`);
    this.records.set(path, null);
    this.wrote(path);
    this.relink(path, null);
    for (const k of this.records.keys()) if (k !== path && isAtOrBelow(k, path)) this.records.set(k, null);
    this.removed.push(path);
    return old;
  }

  /** Adds (child) or drops (null) a name in the parent's child list, as this branch sees it. */
  private relink(path: string, child: Node | null): void {
    const pp = parentOf(path);
    const parent = this.node(pp, 0);
    if (parent === undefined) throw new Error(`no parent for ${path}`);
    const name = baseName(path);
    const kids = child === null ? parent.children.delete(name) : parent.children.set(name, child);
    this.records.set(pp, parent.withChildren(kids, this.gen.next()));
  }

  private wrote(path: string): void {
    const t = this.touches.get(path);
    if (t !== undefined) t.wrote = true;
  }

  private removedAbove(path: string): boolean {
    for (const r of this.removed) if (isAtOrBelow(path, r)) return true;
    return false;
  }
}
