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

  private queue(path: string, list: Watch[] | undefined): void {
    if (list === undefined) return;
    for (const w of list) {
      this.pending.push(w);
      this.pendingPaths.push(path);
    }
  }

  /** Watches on `path` and on each of its ancestors. */
  changed(path: string, _node?: Node): void {
    if (this.count === 0) return;
    const m = this.byPath;
    this.queue(path, m.get('/'));
    if (path === '/') return;
    for (let i = path.indexOf('/', 1); i > 0; i = path.indexOf('/', i + 1)) this.queue(path, m.get(path.slice(0, i)));
    this.queue(path, m.get(path));
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
      for (let i = order.length - 1; i >= 0; i--) this.queue(order[i], this.byPath.get(order[i]));
    }
    this.changed(path);
  }

  /** Only the watches set exactly on `path` (a removed descendant, in a commit). */
  exact(path: string): void {
    if (this.count !== 0) this.queue(path, this.byPath.get(path));
  }

  /** `@introduceDomain` / `@releaseDomain`. */
  special(name: string): void {
    this.queue(name, this.byPath.get(name));
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
