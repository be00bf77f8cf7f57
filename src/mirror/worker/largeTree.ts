import type { Segment } from '../../git/pack/deltaEncoder.js';

/**
 * A large directory's git tree as the mirror worker keeps it between versions: the body, and
 * for every entry its sort key (git order: a directory's name with `/` appended, a file's
 * name as is) and where it starts. A new version is the old one with some entries set or
 * removed (`applyEdits`): building it costs one copy of the body, and how it was built is
 * exactly the delta against the old one, so no delta search is ever needed.
 */
export interface LargeTree {
  /** Sort keys, ascending (latin1 strings compare as bytes, which is git's order here). */
  readonly keys: readonly string[];
  /** offsets[i]: where entry i starts in `body`; offsets[keys.length] = body.length. */
  readonly offsets: readonly number[];
  readonly body: Buffer;
}

/** An entry to set (its bytes: `<mode> <name>\0<20-byte id>`) or, with null, to remove. */
export type Edit = readonly [key: string, entry: Buffer | null];

/** The tree of these entries, given sorted by key. */
export function largeTreeOf(entries: readonly Edit[]): LargeTree {
  const keys: string[] = [];
  const offsets: number[] = [];
  const parts: Buffer[] = [];
  let pos = 0;
  for (const [key, entry] of entries) {
    if (entry === null) continue;
    keys.push(key);
    offsets.push(pos);
    parts.push(entry);
    pos += entry.length;
  }
  offsets.push(pos);
  return { keys, offsets, body: Buffer.concat(parts, pos) };
}

/**
 * The LargeTree view of a tree body (entries `<mode> <name>\0<20-byte id>`): built only for a
 * version that is about to be edited, so that most small trees never pay for keys and offsets.
 */
export function indexTree(body: Buffer): LargeTree {
  const keys: string[] = [];
  const offsets: number[] = [];
  let off = 0;
  while (off < body.length) {
    offsets.push(off);
    const space = body.indexOf(32, off);
    const nul = body.indexOf(0, space);
    const name = body.toString('latin1', space + 1, nul);
    // Directories (mode 40000) sort as if their name ended in '/'.
    keys.push(body[off] === 0x34 ? `${name}/` : name);
    off = nul + 21;
  }
  offsets.push(body.length);
  return { keys, offsets, body };
}

/** First index in keys[from..] whose key is ≥ key. */
function lowerBound(keys: readonly string[], key: string, from: number): number {
  let lo = from;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid] < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The next version: `old` with `edits` applied (sorted by key, one per key). Returns it with
 * the segments that build its body from old's (copies of unchanged runs, new entries
 * inserted), for deltaEncoder.encodeDelta.
 */
export function applyEdits(old: LargeTree, edits: readonly Edit[]): { tree: LargeTree; segments: Segment[] } {
  const n = old.keys.length;
  const keys: string[] = [];
  const offsets: number[] = [];
  const parts: Buffer[] = [];
  const segments: Segment[] = [];
  let pos = 0;
  let i = 0;
  const copyRun = (to: number) => {
    if (to <= i) return;
    const start = old.offsets[i];
    const len = old.offsets[to] - start;
    const last = segments[segments.length - 1];
    if (last !== undefined && !Buffer.isBuffer(last) && last[0] + last[1] === start) segments[segments.length - 1] = [last[0], last[1] + len];
    else segments.push([start, len]);
    parts.push(old.body.subarray(start, start + len));
    for (let k = i; k < to; k++) {
      keys.push(old.keys[k]);
      offsets.push(pos + old.offsets[k] - start);
    }
    pos += len;
    i = to;
  };
  for (const [key, entry] of edits) {
    const j = lowerBound(old.keys, key, i);
    const exists = j < n && old.keys[j] === key;
    if (exists && entry !== null && entry.equals(old.body.subarray(old.offsets[j], old.offsets[j + 1]))) continue;
    copyRun(j);
    if (exists) i = j + 1;
    if (entry === null) continue;
    keys.push(key);
    offsets.push(pos);
    parts.push(entry);
    segments.push(entry);
    pos += entry.length;
  }
  copyRun(n);
  offsets.push(pos);
  return { tree: { keys, offsets, body: Buffer.concat(parts, pos) }, segments };
}
