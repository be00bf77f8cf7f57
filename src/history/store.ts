import type { Change } from '../store/change.js';
import type { ProcessIdentity } from '../store/caller.js';
import type { Commit, RevertNote, TxTag } from './commit.js';
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
  private current: Node;
  readonly history: History;
  private readonly view: HeadView;

  /** False with `--history off`: the store keeps no commits (for measuring what they cost). */
  readonly recording: boolean;

  /** `head`: continue that commit's history (its root becomes the store). */
  constructor(options: { head?: Commit; clock?: () => number; retention?: string } = {}) {
    this.current = options.head?.root ?? initialRoot(this.gen);
    this.recording = options.retention !== 'off';
    this.history = new History(this.current, options.clock, this.recording ? options.retention : 'all:1', options.head);
    this.view = new HeadView(this.current, this.gen);
  }

  /** The live root. Only publish() and publishMerge() change it (server/publish.ts calls
   *  them), so every change of the store is a commit. */
  get root(): Node {
    return this.current;
  }

  /** The head as a View, reset to the current root. */
  begin(): HeadView {
    this.view.root = this.current;
    return this.view;
  }

  /** Makes the view's root live and records it as one commit (none when nothing changed);
   *  `revert`: the commit is a `revert-to`; `by`: the process behind the change. */
  publish(view: HeadView, domid: number, changes: readonly Change[], tx: TxTag | null, revert: RevertNote | null = null, by: ProcessIdentity | null = null): void {
    if (view.root === this.current) return;
    this.current = view.root;
    if (this.recording) this.history.record(this.current, domid, changes, tx, revert, by);
  }

  /** Makes the view's root live as the merge of a transaction that others overtook: its own
   *  commit on its branch (`branchRoot`, from `start`), then the merge into main. */
  publishMerge(view: HeadView, start: Commit, branchRoot: Node, domid: number, changes: readonly Change[], tx: TxTag, by: ProcessIdentity | null = null): void {
    this.current = view.root;
    if (this.recording) this.history.merge(start, branchRoot, this.current, domid, changes, tx, by);
  }
}
