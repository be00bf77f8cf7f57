import type { Node } from './node.js';

/** What a request learnt about a node; a transaction's commit checks exactly these. */
export const SAW_EXISTENCE = 0;
export const READ_VALUE = 1;
export const READ_PERMS = 2;
export const LISTED = 4;

/**
 * The store as one request sees it: the live head (HeadView) or a transaction's branch
 * (txn/TxView). The operations in ops.ts are written once against this interface.
 */
export interface View {
  /** The node at a canonical path, or undefined; `reads` says what the caller looks at. */
  node(path: string, reads: number): Node | undefined;
  /** Notes a further look at a node already fetched (e.g. its perms for an access check). */
  mark(path: string, reads: number): void;
  /** Sets the value and perms at `path`; creates the node if its parent exists in the view. */
  put(path: string, value: string, perms: string): Node;
  /** Removes the node at `path` (which exists) with its subtree; returns the removed node. */
  remove(path: string): Node;
}

/** Receives the watch-relevant effects of an operation on the live store. */
export interface EventSink {
  changed(path: string, node: Node, oldPerms: string | null): void;
  removed(path: string, old: Node): void;
}
