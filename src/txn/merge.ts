import type { Node } from '../store/node.js';
import { lookup } from '../store/tree.js';
import { LISTED, READ_PERMS, READ_VALUE } from '../store/view.js';
import type { TxView } from './txview.js';

/**
 * The commit rule: a three-way comparison, per node the transaction touched, of its state when
 * first touched (base), in the head now (head) and in the branch (mine). The branch merges
 * into the head unless, for some node:
 *
 * | case | base → head | the transaction…                      | verdict |
 * |------|-------------|---------------------------------------|---------|
 * | 1    | same object | anything                               | merge   |
 * | 2    | absent → present | created it with the same value and perms | merge (both made it identically) |
 * | 3    | absent → present | anything else (saw it missing)    | EAGAIN  |
 * | 4    | present → absent | removed it too and read nothing of it | merge |
 * | 5    | present → absent | anything else                      | EAGAIN  |
 * | 6    | value changed | read the value, or wrote the node      | EAGAIN  |
 * | 7    | perms changed | read/used the perms, or wrote the node | EAGAIN  |
 * | 8    | child list changed | listed the directory            | EAGAIN  |
 * | 9    | child list changed | did not list it (added/removed other children, or wrote its value) | merge |
 * | 10   | deeper change only (value, perms, names equal) | anything | merge |
 *
 * A transaction that wrote nothing commits when its reads hold either in the head now or in
 * the state it started from (Transaction.commit): either way they describe one state that
 * existed. Reads taken at different first touches that fit neither answer EAGAIN.
 * Comparisons are by content, not by object: a value rewritten with the same bytes, which the
 * C daemon counts as a change, merges here.
 * Every EAGAIN here is a case where the C daemon, which compares per-node generations, also
 * refuses: its generation moves on every change this table looks at, and on more.
 */
export type Verdict = 'merge' | 'conflict';

export function verdict(base: Node | null, head: Node | null, mine: Node | null, reads: number, wrote: boolean): Verdict {
  if (head === base) return 'merge';
  if (base === null) {
    const same = wrote && mine !== null && head !== null && head.value === mine.value && head.perms === mine.perms;
    return same ? 'merge' : 'conflict';
  }
  if (head === null) return wrote && mine === null && (reads & (READ_VALUE | READ_PERMS | LISTED)) === 0 ? 'merge' : 'conflict';
  if ((wrote || (reads & READ_VALUE) !== 0) && head.value !== base.value) return 'conflict';
  if ((wrote || (reads & READ_PERMS) !== 0) && head.perms !== base.perms) return 'conflict';
  if ((reads & LISTED) !== 0 && !head.children.sameKeys(base.children)) return 'conflict';
  return 'merge';
}

/** True when the branch cannot merge into `head` (the commit answers EAGAIN). */
export function conflicts(view: TxView, head: Node): boolean {
  return firstConflict(view, head) !== null;
}

/** The first touched path on which the branch cannot merge into `head`, or null (the
 *  conflict blame of domain/fairness.ts starts from it). */
export function firstConflict(view: TxView, head: Node): string | null {
  for (const [path, t] of view.touches) {
    const now = lookup(head, path) ?? null;
    if (verdict(t.base, now, view.records.get(path) ?? null, t.reads, t.wrote) === 'conflict') return path;
  }
  return null;
}
