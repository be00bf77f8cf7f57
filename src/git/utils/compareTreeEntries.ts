/**
 * git's order of tree entries: names compared byte by byte, where a tree's name compares as if
 * it ended in `/` (so `a-b/` < `a/` < `a0`, and a child `-x` sorts before the blob `.perms`).
 * Names are latin1 strings (one char per byte). Returns <0, 0 or >0.
 */
export function compareTreeEntries(a: string, aIsTree: boolean, b: string, bIsTree: boolean): number {
  const n = a.length < b.length ? a.length : b.length;
  for (let i = 0; i < n; i++) {
    const d = a.charCodeAt(i) - b.charCodeAt(i);
    if (d !== 0) return d;
  }
  const ca = a.length > n ? a.charCodeAt(n) : aIsTree ? 47 : 0;
  const cb = b.length > n ? b.charCodeAt(n) : bIsTree ? 47 : 0;
  return ca - cb;
}

/**
 * For two directory names already in plain byte order (a < b): true when git's order swaps
 * them, i.e. `a` is a proper prefix of `b` and b's next byte sorts below `/` (as `-` does).
 */
export function dirPairOutOfOrder(a: string, b: string): boolean {
  return b.length > a.length && b.charCodeAt(a.length) < 47 && b.startsWith(a);
}
