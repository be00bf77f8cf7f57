import { DOMID_ANY, type ErrorName } from '../wire/constants.js';
import type { Caller } from '../store/caller.js';
import { ownerOf, withoutDomain } from '../store/perms.js';

/**
 * The special watch paths `@introduceDomain` and `@releaseDomain` (reference §4.5): not
 * nodes of the tree, but each with a permission list that decides who may watch it (and,
 * from C 4.18 on, who GET_PERMS and SET_PERMS it). Lists are stored as on the wire:
 * NUL-terminated entries, owner first.
 */
export class SpecialNodes {
  private readonly perms: Map<string, string>;
  /** Lists as they were before this request changed them: a watcher that could read the node
   *  before the change still gets its event (C watch_permitted with the old perms). */
  private readonly before = new Map<string, string>();

  /** `releaseDomainForAll`: `@releaseDomain` starts readable by every domain (`n0 r32757`,
   *  C 4.22 258263a4fb), so that any guest may learn which domain died. */
  constructor(releaseDomainForAll: boolean) {
    this.perms = new Map([
      ['@introduceDomain', 'n0\0'],
      ['@releaseDomain', releaseDomainForAll ? `n0\0r${DOMID_ANY}\0` : 'n0\0'],
    ]);
  }

  /** A special path's permission list, or undefined for any other `@` path. */
  get(path: string): string | undefined {
    return this.perms.get(path);
  }

  /** The list that decides who sees an event on `path`: the special node's own, also for
   *  `@releaseDomain/<domid>` (C 4.22 fires those with the node of `@releaseDomain`). */
  visibleThrough(path: string): string | undefined {
    const slash = path.indexOf('/');
    return this.perms.get(slash < 0 ? path : path.slice(0, slash));
  }

  /** The list `path` had before this request changed it, or undefined. */
  previous(path: string): string | undefined {
    return this.before.size === 0 ? undefined : this.before.get(path);
  }

  /** A new request starts: forget the lists of the last one. */
  nextRequest(): void {
    if (this.before.size !== 0) this.before.clear();
  }

  /** Whether `who` may SET_PERMS a special path whose list is `old`: its owner (or a
   *  privileged caller) may; EACCES for anyone else. */
  may(who: Caller, old: string): ErrorName | null {
    return who.privileged || ownerOf(old) === who.domid || ownerOf(old) === who.target ? null : 'EACCES';
  }

  /** SET_PERMS of a special path: EINVAL for an unknown `@` path, EACCES for a caller that
   *  may not. */
  set(who: Caller, path: string, perms: string): ErrorName | null {
    const old = this.perms.get(path);
    if (old === undefined) return 'EINVAL';
    const err = this.may(who, old);
    if (err !== null) return err;
    if (!this.before.has(path)) this.before.set(path, old);
    this.perms.set(path, perms);
    return null;
  }

  /** A released domain's entries leave every list (XSA-322). */
  forget(domid: number): void {
    for (const [name, perms] of this.perms) {
      const stripped = withoutDomain(perms, domid);
      if (stripped !== null) this.perms.set(name, stripped);
    }
  }
}
