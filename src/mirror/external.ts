import type { Change } from '../store/change.js';
import { Commit, type TxTag } from '../history/commit.js';
import type { Node } from '../store/node.js';

/**
 * External commits: commits read from a git repository (src/git/import), known by id only.
 *
 * A daemon restarted with `--git-dir` must continue the repository's history, so its first new
 * commit needs the repository head as parent. The importer returns that head as an ordinary
 * `Commit` whose `id` is already set (so `commitIdOf` never re-encodes it, and children compute
 * their ids against the true parent id) and registers it here as external: the object walker
 * never emits it (its bytes may not be ours to reproduce) and treats it as a boundary that the
 * export target must already hold. Its true parent ids (which may lie outside what was
 * imported) are kept here too, and in `cutParentIds` (the field retention uses for parents no
 * longer in memory), since `Commit.parents` can only hold imported commits.
 */

const external = new WeakMap<Commit, readonly string[]>();

export interface ExternalCommitInit {
  readonly id: string;
  readonly root: Node;
  /** Imported parents, if any (first parent first). */
  readonly parents?: readonly Commit[];
  /** All parent ids as the repository records them. */
  readonly parentIds: readonly string[];
  readonly domid: number;
  readonly time: number;
  readonly changes: readonly Change[];
  readonly tx: TxTag | null;
}

export function externalCommit(init: ExternalCommitInit): Commit {
  const c = new Commit(init.root, init.parents ?? [], init.domid, init.time, init.changes, init.tx);
  c.id = init.id;
  c.cutParentIds = init.parentIds.slice(); // as for commits retention cut off: their ids still hold
  external.set(c, init.parentIds.slice());
  return c;
}

export function isExternal(c: Commit): boolean {
  return external.has(c);
}

/** The parent ids an external commit has in its repository (undefined for other commits). */
export function externalParentIds(c: Commit): readonly string[] | undefined {
  return external.get(c);
}
