import { InvalidObjectError } from '../errors.js';
import { compareTreeEntries } from '../utils/compareTreeEntries.js';

/** Tree entry modes as git writes them (no leading zero on trees: `git fsck --strict` checks). */
export const TREE_MODE = '40000';
export const BLOB_MODE = '100644';

export interface TreeEntry {
  /** Octal mode as text: `40000` (tree), `100644`/`100755` (blob), `120000`, `160000`. */
  readonly mode: string;
  /** Entry name as a latin1 string (one char per byte). */
  readonly name: string;
  readonly id: string;
}

export function isTreeMode(mode: string): boolean {
  return mode === TREE_MODE || mode === '040000';
}

export function compareEntries(a: TreeEntry, b: TreeEntry): number {
  return compareTreeEntries(a.name, isTreeMode(a.mode), b.name, isTreeMode(b.mode));
}

/** A sorted copy, in git's order. */
export function sortTreeEntries(entries: readonly TreeEntry[]): TreeEntry[] {
  return entries.slice().sort(compareEntries);
}

/** True when the entries are in git's order with no duplicate names. */
export function isSortedTree(entries: readonly TreeEntry[]): boolean {
  for (let i = 1; i < entries.length; i++) {
    if (compareEntries(entries[i - 1], entries[i]) >= 0) return false;
    if (entries[i - 1].name === entries[i].name) return false;
  }
  return true;
}

/** A tree body: `<mode> <name>\0<20-byte id>` per entry, sorted into git's order first. */
export function encodeTree(entries: readonly TreeEntry[]): Buffer {
  const sorted = sortTreeEntries(entries);
  let size = 0;
  for (const e of sorted) size += e.mode.length + e.name.length + 22;
  const buf = Buffer.allocUnsafe(size);
  let off = 0;
  for (const e of sorted) {
    off += buf.write(e.mode, off, 'latin1');
    buf[off++] = 0x20;
    off += buf.write(e.name, off, 'latin1');
    buf[off++] = 0;
    off += buf.write(e.id, off, 20, 'hex');
  }
  return buf;
}

/** Parses a tree body into its entries, in stored order. */
export function parseTree(body: Buffer): TreeEntry[] {
  const out: TreeEntry[] = [];
  let off = 0;
  while (off < body.length) {
    const sp = body.indexOf(0x20, off);
    const nul = sp < 0 ? -1 : body.indexOf(0, sp + 1);
    if (sp < 0 || nul < 0 || nul + 21 > body.length) throw new InvalidObjectError('truncated tree entry');
    out.push({
      mode: body.toString('latin1', off, sp),
      name: body.toString('latin1', sp + 1, nul),
      id: body.toString('hex', nul + 1, nul + 21),
    });
    off = nul + 21;
  }
  return out;
}
