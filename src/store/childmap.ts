/**
 * A persistent sorted map from child name to child node: a copy-on-write B+tree.
 *
 * A directory with 10,000 children is never copied whole: an update copies one leaf and the
 * internal nodes above it (O(log32 n) arrays of at most 32 entries). Keys are kept in byte
 * order (JavaScript's string order equals byte order for the ASCII names xenstore allows).
 * Deletion does not merge underfull nodes (it only drops empty ones); the tree stays correct,
 * and a directory that shrinks keeps at worst the height it once had.
 */

const MAX = 32;

interface Leaf<V> {
  readonly leaf: true;
  readonly keys: string[];
  readonly vals: V[];
}

interface Inner<V> {
  readonly leaf: false;
  /** keys[i] is the smallest key under kids[i]. */
  readonly keys: string[];
  readonly kids: BNode<V>[];
}

type BNode<V> = Leaf<V> | Inner<V>;

/** Index of the last key <= key (at least 0). */
function route(keys: string[], key: string): number {
  let lo = 1;
  let hi = keys.length - 1;
  let ans = 0;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid] <= key) {
      ans = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return ans;
}

/** Index of key in a sorted array, or -(insertion point) - 1. */
function search(keys: string[], key: string): number {
  let lo = 0;
  let hi = keys.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const k = keys[mid];
    if (k < key) lo = mid + 1;
    else if (k > key) hi = mid - 1;
    else return mid;
  }
  return -lo - 1;
}

function splice<T>(arr: T[], at: number, del: number, ...add: T[]): T[] {
  const out = arr.slice();
  out.splice(at, del, ...add);
  return out;
}

export class ChildMap<V> {
  private constructor(
    private readonly root: BNode<V> | null,
    /** Number of children. */
    readonly size: number,
    /** Bytes of the NUL-terminated concatenation of the names (a DIRECTORY reply). */
    readonly bytes: number,
  ) {}

  private static readonly EMPTY = new ChildMap<never>(null, 0, 0);

  static empty<V>(): ChildMap<V> {
    return ChildMap.EMPTY as ChildMap<V>;
  }

  get(key: string): V | undefined {
    let n = this.root;
    if (n === null) return undefined;
    while (!n.leaf) n = n.kids[route(n.keys, key)];
    const i = search(n.keys, key);
    return i >= 0 ? n.vals[i] : undefined;
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  set(key: string, val: V): ChildMap<V> {
    if (this.root === null) return new ChildMap<V>({ leaf: true, keys: [key], vals: [val] }, 1, key.length + 1);
    const path: Inner<V>[] = [];
    const idx: number[] = [];
    let n: BNode<V> = this.root;
    while (!n.leaf) {
      const i = route(n.keys, key);
      path.push(n);
      idx.push(i);
      n = n.kids[i];
    }
    const at = search(n.keys, key);
    let size = this.size;
    let bytes = this.bytes;
    let left: BNode<V>;
    let right: BNode<V> | null = null;
    if (at >= 0) {
      if (n.vals[at] === val) return this;
      left = { leaf: true, keys: n.keys, vals: splice(n.vals, at, 1, val) };
    } else {
      const ins = -at - 1;
      size++;
      bytes += key.length + 1;
      const keys = splice(n.keys, ins, 0, key);
      const vals = splice(n.vals, ins, 0, val);
      if (keys.length <= MAX) left = { leaf: true, keys, vals };
      else {
        const h = keys.length >>> 1;
        left = { leaf: true, keys: keys.slice(0, h), vals: vals.slice(0, h) };
        right = { leaf: true, keys: keys.slice(h), vals: vals.slice(h) };
      }
    }
    for (let d = path.length - 1; d >= 0; d--) {
      const p = path[d];
      const i = idx[d];
      let keys: string[];
      let kids: BNode<V>[];
      if (right === null) {
        keys = p.keys[i] === left.keys[0] ? p.keys : splice(p.keys, i, 1, left.keys[0]);
        kids = splice(p.kids, i, 1, left);
        left = { leaf: false, keys, kids };
        continue;
      }
      keys = splice(p.keys, i, 1, left.keys[0], right.keys[0]);
      kids = splice(p.kids, i, 1, left, right);
      if (kids.length <= MAX) {
        left = { leaf: false, keys, kids };
        right = null;
      } else {
        const h = kids.length >>> 1;
        left = { leaf: false, keys: keys.slice(0, h), kids: kids.slice(0, h) };
        right = { leaf: false, keys: keys.slice(h), kids: kids.slice(h) };
      }
    }
    const root: BNode<V> = right === null ? left : { leaf: false, keys: [left.keys[0], right.keys[0]], kids: [left, right] };
    return new ChildMap(root, size, bytes);
  }

  delete(key: string): ChildMap<V> {
    if (this.root === null) return this;
    const path: Inner<V>[] = [];
    const idx: number[] = [];
    let n: BNode<V> = this.root;
    while (!n.leaf) {
      const i = route(n.keys, key);
      path.push(n);
      idx.push(i);
      n = n.kids[i];
    }
    const at = search(n.keys, key);
    if (at < 0) return this;
    if (this.size === 1) return ChildMap.empty();
    let cur: BNode<V> | null =
      n.keys.length === 1 ? null : { leaf: true, keys: splice(n.keys, at, 1), vals: splice(n.vals, at, 1) };
    for (let d = path.length - 1; d >= 0; d--) {
      const p = path[d];
      const i = idx[d];
      if (cur === null) {
        cur = p.kids.length === 1 ? null : { leaf: false, keys: splice(p.keys, i, 1), kids: splice(p.kids, i, 1) };
      } else {
        cur = { leaf: false, keys: splice(p.keys, i, 1, cur.keys[0]), kids: splice(p.kids, i, 1, cur) };
      }
    }
    // Collapse roots with one child so lookups do not walk needless levels.
    while (cur !== null && !cur.leaf && cur.kids.length === 1) cur = cur.kids[0];
    return new ChildMap(cur, this.size - 1, this.bytes - key.length - 1);
  }

  /** Visits the entries in key order; stops early when fn returns false. */
  forEach(fn: (key: string, val: V) => boolean | void): void {
    if (this.root === null) return;
    const stack: BNode<V>[] = [this.root];
    const pos: number[] = [0];
    while (stack.length > 0) {
      const top = stack.length - 1;
      const n = stack[top];
      if (n.leaf) {
        for (let i = 0; i < n.keys.length; i++) if (fn(n.keys[i], n.vals[i]) === false) return;
        stack.pop();
        pos.pop();
        continue;
      }
      const i = pos[top];
      if (i >= n.kids.length) {
        stack.pop();
        pos.pop();
        continue;
      }
      pos[top] = i + 1;
      stack.push(n.kids[i]);
      pos.push(0);
    }
  }

  private joinedMemo: string | undefined = undefined;

  /** The names, each followed by a NUL (the DIRECTORY payload); memoized per version. */
  joined(): string {
    if (this.joinedMemo === undefined) this.joinedMemo = this.size === 0 ? '' : `${this.keys().join('\0')}\0`;
    return this.joinedMemo;
  }

  keys(): string[] {
    const out: string[] = [];
    this.forEach((k) => {
      out.push(k);
    });
    return out;
  }

  /** True when both maps hold the same key set (values are not compared). */
  sameKeys(other: ChildMap<unknown>): boolean {
    if ((other as ChildMap<V>) === this) return true;
    if (other.size !== this.size || other.bytes !== this.bytes) return false;
    const a = this.keys();
    const b = other.keys();
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }
}
