import type { Node } from '../store/node.js';
import { childPath, relativeTo } from '../store/path.js';
import type { EventSink } from '../store/view.js';
import { type Watch, type Watcher } from './watch.js';

/**
 * All watches, indexed by path. A change at P looks up P and each of its ancestors (O(depth)
 * map lookups, never a scan of all watches). A removal also reaches watches on existing nodes
 * below the removed one: `below` counts the watches under each path, so the walk of the
 * removed subtree only enters branches that hold some.
 *
 * Events of one request are collected, then delivered by flush(): at most one event per
 * (connection, event path, token) per request, as the C daemon's pending-event check gives.
 */
export class WatchIndex implements EventSink {
  private readonly byPath = new Map<string, Watch[]>();
  private readonly below = new Map<string, number>();
  private readonly pending: Watch[] = [];
  private readonly pendingPaths: string[] = [];
  count = 0;

  add(w: Watch): void {
    const list = this.byPath.get(w.path);
    if (list === undefined) this.byPath.set(w.path, [w]);
    else list.push(w);
    this.count++;
    this.forAncestors(w.path, 1);
  }

  remove(w: Watch): void {
    const list = this.byPath.get(w.path);
    if (list === undefined) return;
    const i = list.indexOf(w);
    if (i < 0) return;
    list.splice(i, 1);
    if (list.length === 0) this.byPath.delete(w.path);
    this.count--;
    this.forAncestors(w.path, -1);
  }

  /** Counts the watch in `below` of each of its proper ancestors. */
  private forAncestors(path: string, delta: number): void {
    if (path === '/' || path.charCodeAt(0) !== 47) return;
    this.bump('/', delta);
    for (let i = path.indexOf('/', 1); i > 0; i = path.indexOf('/', i + 1)) this.bump(path.slice(0, i), delta);
  }

  private bump(a: string, delta: number): void {
    const n = (this.below.get(a) ?? 0) + delta;
    if (n === 0) this.below.delete(a);
    else this.below.set(a, n);
  }

  /** Queues the event `path` for the watches of `list`, which are `levels` above it; a watch
   *  with a depth fires only for changes at most that many levels below it (C is_child). */
  private queue(path: string, list: Watch[] | undefined, levels: number): void {
    if (list === undefined) return;
    for (const w of list) if (levels === 0 || w.depth < 0 || w.depth >= levels) this.push(w, path);
  }

  private push(w: Watch, path: string): void {
    this.pending.push(w);
    this.pendingPaths.push(path);
  }

  /** Watches on `path` and on each of its ancestors. */
  changed(path: string, _node?: Node): void {
    if (this.count === 0) return;
    const m = this.byPath;
    if (path === '/') return this.queue(path, m.get('/'), 0);
    let levels = 1;
    for (let i = path.indexOf('/', 1); i > 0; i = path.indexOf('/', i + 1)) levels++;
    this.queue(path, m.get('/'), levels);
    for (let i = path.indexOf('/', 1); i > 0; i = path.indexOf('/', i + 1)) this.queue(path, m.get(path.slice(0, i)), --levels);
    this.queue(path, m.get(path), 0);
  }

  /** The removed node fires like a change; each removed descendant fires the watches set
   *  exactly on it (children first, as the C daemon walks). */
  removed(path: string, old: Node): void {
    if (this.count === 0) return;
    if (this.below.has(path)) {
      const stack: [string, Node][] = [[path, old]];
      const order: string[] = [];
      while (stack.length > 0) {
        const [p, n] = stack.pop()!;
        if (p !== path) order.push(p);
        if (!this.below.has(p)) continue;
        n.children.forEach((name, child) => {
          stack.push([childPath(p, name), child]);
        });
      }
      for (let i = order.length - 1; i >= 0; i--) this.queue(order[i], this.byPath.get(order[i]), 0);
    }
    this.changed(path);
  }

  /** Only the watches set exactly on `path` (a removed descendant, in a commit). */
  exact(path: string): void {
    if (this.count !== 0) this.queue(path, this.byPath.get(path), 0);
  }

  /**
   * `@introduceDomain` / `@releaseDomain` fire for domain `domid`. Without watch depths
   * (`domid` null: C before 4.22) every watch on `name` fires. With them (C 4.22
   * fire_special_watches): watches on `name` without a depth get `name`; watches on `name`
   * with a depth ≥ 1, and watches on `name/<domid>`, get `name/<domid>`.
   */
  special(name: string, domid: number | null): void {
    const list = this.byPath.get(name);
    if (domid === null) return this.queue(name, list, 0);
    const named = `${name}/${domid}`;
    if (list !== undefined) {
      for (const w of list) {
        if (w.depth < 0) this.push(w, name);
        else if (w.depth >= 1) this.push(w, named);
      }
    }
    this.queue(named, this.byPath.get(named), 0);
  }

  /** Delivers the request's events, one per (connection, event path, token). */
  flush(): void {
    const n = this.pending.length;
    if (n === 0) return;
    // Duplicates are rare and need the same connection: a set only for large fan-outs.
    const seen = n > 8 ? new Set<string>() : null;
    for (let i = 0; i < n; i++) {
      const w = this.pending[i];
      const path = this.pendingPaths[i];
      const epath = w.home === null ? path : relativeTo(path, w.home);
      if (seen !== null) {
        const key = `${w.owner.id}\0${epath}\0${w.token}`;
        if (seen.has(key)) continue;
        seen.add(key);
      } else if (!this.firstOf(i, w.owner, epath, w.token)) continue;
      w.owner.deliver(epath, w.token, path);
    }
    this.discard();
  }

  private firstOf(i: number, owner: Watcher, epath: string, token: string): boolean {
    for (let j = 0; j < i; j++) {
      const o = this.pending[j];
      if (o.owner !== owner || o.token !== token) continue;
      const p = this.pendingPaths[j];
      if ((o.home === null ? p : relativeTo(p, o.home)) === epath) return false;
    }
    return true;
  }

  discard(): void {
    this.pending.length = 0;
    this.pendingPaths.length = 0;
  }
}
