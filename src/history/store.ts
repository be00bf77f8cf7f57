import type { Change } from '../store/change.js';
import type { Commit, TxTag } from './commit.js';
import { History } from './history.js';
import { Node, NO_CHILDREN } from '../store/node.js';
import { Generation, HeadView } from '../store/tree.js';

/** The initial tree of the C daemon: `/`, `/tool` and `/tool/xenstored`, each `n0`. */
function initialRoot(gen: Generation): Node {
  const xs = new Node('', 'n0\0', NO_CHILDREN, gen.next());
  const tool = new Node('', 'n0\0', NO_CHILDREN.set('xenstored', xs), gen.next());
  return new Node('', 'n0\0', NO_CHILDREN.set('tool', tool), gen.next());
}

/**
 * The live store: the current root, the generation counter, and the history every change
 * lands in. Requests change a reusable HeadView and publish its root when they succeed.
 */
export class Store {
  readonly gen = new Generation();
  root: Node;
  readonly history: History;
  private readonly view: HeadView;

  /** `head`: continue that commit's history (its root becomes the store). */
  /** False with `--history off`: the store keeps no commits (for measuring what they cost). */
  readonly recording: boolean;

  constructor(options: { head?: Commit; clock?: () => number; retention?: string } = {}) {
    this.root = options.head?.root ?? initialRoot(this.gen);
    this.recording = options.retention !== 'off';
    this.history = new History(this.root, options.clock, this.recording ? options.retention : 'all:1', options.head);
    this.view = new HeadView(this.root, this.gen);
  }

  /** The head as a View, reset to the current root. */
  begin(): HeadView {
    this.view.root = this.root;
    return this.view;
  }

  /** Makes the view's root live and records it as one commit. */
  publish(view: HeadView, domid: number, changes: readonly Change[], tx: TxTag | null): void {
    if (view.root === this.root) return;
    this.root = view.root;
    if (this.recording) this.history.record(this.root, domid, changes, tx);
  }
}
