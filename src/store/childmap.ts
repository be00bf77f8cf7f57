/**
 * A persistent sorted map from child name to child node: a copy-on-write B+tree.
 *
 * A directory with 10,000 children is never copied whole: an update copies one leaf and the
 * internal nodes above it (O(log32 n) arrays of at most 32 entries). Keys are kept in byte
 * order (JavaScript's string order equals byte order for the ASCII names xenstore allows).
 * Deletion does not merge underfull nodes (it only drops empty ones); the tree stays correct,
 * and a directory that shrinks keeps at worst the height it once had.
 *
 * Memory matters here (most directories have a handful of children): a leaf is one flat array
 * `[k0, v0, k1, v1, …]`, and a map that fits in one leaf is that array plus this object.
 */

const MAX = 32;

/** A leaf: names and values interleaved, sorted by name. */
type Leaf = unknown[];

interface Inner {
  /** keys[i] is the smallest key under kids[i]. */
  readonly keys: string[];
  readonly kids: (Leaf | Inner)[];
}

type BNode = Leaf | Inner;

function isLeaf(n: BNode): n is Leaf {
  return Array.isArray(n);
}

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

/** Entry index of key in a leaf, or -(insertion index) - 1. */
function search(leaf: Leaf, key: string): number {
  let lo = 0;
  let hi = (leaf.length >> 1) - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const k = leaf[mid << 1] as string;
    if (k < key) lo = mid + 1;
    else if (k > key) hi = mid - 1;
    else return mid;
  }
  return -lo - 1;
}

function firstKey(n: BNode): string {
  return isLeaf(n) ? (n[0] as string) : n.keys[0];
}

function splice<T>(arr: T[], at: number, del: number, ...add: T[]): T[] {
  const out = arr.slice();
  out.splice(at, del, ...add);
  return out;
}

export class ChildMap<V> {
  private constructor(
    private readonly root: BNode | null,
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
    while (!isLeaf(n)) n = n.kids[route(n.keys, key)];
    const i = search(n, key);
    return i >= 0 ? (n[(i << 1) + 1] as V) : undefined;
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  set(key: string, val: V): ChildMap<V> {
    if (this.root === null) return new ChildMap<V>([key, val], 1, key.length + 1);
    const path: Inner[] = [];
    const idx: number[] = [];
    const n = this.descend(this.root, key, path, idx);
    const at = search(n, key);
    let size = this.size;
    let bytes = this.bytes;
    let left: BNode;
    let right: BNode | null = null;
    if (at >= 0) {
      if (n[(at << 1) + 1] === val) return this;
      left = n.slice();
      left[(at << 1) + 1] = val;
    } else {
      const ins = (-at - 1) << 1;
      size++;
      bytes += key.length + 1;
      const leaf = splice(n, ins, 0, key, val);
      if (leaf.length <= MAX * 2) left = leaf;
      else {
        const h = (leaf.length >> 2) << 1;
        left = leaf.slice(0, h);
        right = leaf.slice(h);
      }
    }
    for (let d = path.length - 1; d >= 0; d--) {
      const p = path[d];
      const i = idx[d];
      if (right === null) {
        const k = firstKey(left);
        left = { keys: p.keys[i] === k ? p.keys : splice(p.keys, i, 1, k), kids: splice(p.kids, i, 1, left) };
        continue;
      }
      const keys: string[] = splice(p.keys, i, 1, firstKey(left), firstKey(right));
      const kids: BNode[] = splice(p.kids, i, 1, left, right);
      if (kids.length <= MAX) {
        left = { keys, kids };
        right = null;
      } else {
        const h = kids.length >>> 1;
        left = { keys: keys.slice(0, h), kids: kids.slice(0, h) };
        right = { keys: keys.slice(h), kids: kids.slice(h) };
      }
    }
    const root: BNode = right === null ? left : { keys: [firstKey(left), firstKey(right)], kids: [left, right] };
    return new ChildMap(root, size, bytes);
  }

  /** The leaf where `key` belongs; `path` and `idx` get the inner nodes above it and the
   *  child taken in each (what a copy-on-write update rebuilds). */
  private descend(root: BNode, key: string, path: Inner[], idx: number[]): Leaf {
    let n = root;
    while (!isLeaf(n)) {
      const i = route(n.keys, key);
      path.push(n);
      idx.push(i);
      n = n.kids[i];
    }
    return n;
  }

  delete(key: string): ChildMap<V> {
    if (this.root === null) return this;
    const path: Inner[] = [];
    const idx: number[] = [];
    const n = this.descend(this.root, key, path, idx);
    const at = search(n, key);
    if (at < 0) return this;
    if (this.size === 1) return ChildMap.empty();
    let cur: BNode | null = n.length === 2 ? null : splice(n, at << 1, 2);
    for (let d = path.length - 1; d >= 0; d--) {
      const p = path[d];
      const i = idx[d];
      if (cur === null) cur = p.kids.length === 1 ? null : { keys: splice(p.keys, i, 1), kids: splice(p.kids, i, 1) };
      else cur = { keys: splice(p.keys, i, 1, firstKey(cur)), kids: splice(p.kids, i, 1, cur) };
    }
    // Collapse roots with one child so lookups do not walk needless levels.
    while (cur !== null && !isLeaf(cur) && cur.kids.length === 1) cur = cur.kids[0];
    return new ChildMap(cur, this.size - 1, this.bytes - key.length - 1);
  }

  /** Visits the entries in key order; stops early when fn returns false. */
  forEach(fn: (key: string, val: V) => boolean | void): void {
    if (this.root === null) return;
    const stack: BNode[] = [this.root];
    const pos: number[] = [0];
    while (stack.length > 0) {
      const top = stack.length - 1;
      const n = stack[top];
      if (isLeaf(n)) {
        for (let i = 0; i < n.length; i += 2) if (fn(n[i] as string, n[i + 1] as V) === false) return;
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

  /** Visits the leaves in key order: each a flat `[name, value, …]` array, shared between the
   *  versions of the map that did not change it (so work derived from a leaf can be cached). */
  forEachLeaf(fn: (leaf: readonly unknown[]) => void): void {
    if (this.root === null) return;
    const stack: BNode[] = [this.root];
    while (stack.length > 0) {
      const n = stack.pop()!;
      if (isLeaf(n)) fn(n);
      else for (let i = n.kids.length - 1; i >= 0; i--) stack.push(n.kids[i]);
    }
  }

  keys(): string[] {
    const out: string[] = [];
    this.forEach((k) => {
      out.push(k);
    });
    return out;
  }

  /** The names, each followed by a NUL (the DIRECTORY payload). Memoized per version, outside
   *  the map itself: only listed directories pay for it. */
  joined(): string {
    let s = joinedMemo.get(this);
    if (s === undefined) {
      s = this.size === 0 ? '' : `${this.keys().join('\0')}\0`;
      joinedMemo.set(this, s);
    }
    return s;
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

const joinedMemo = new WeakMap<ChildMap<unknown>, string>();
