import type { ErrorName } from '../wire/constants.js';
import type { Caller } from '../store/caller.js';
import { ownerOf, withoutDomain } from '../store/perms.js';

/**
 * The special watch paths `@introduceDomain` and `@releaseDomain` (reference §4.5): not
 * nodes of the tree, but each with a permission list that decides who may watch it (and,
 * from C 4.18 on, who GET_PERMS and SET_PERMS it). Lists are stored as on the wire:
 * NUL-terminated entries, owner first.
 */
export class SpecialNodes {
  private readonly perms = new Map<string, string>([
    ['@introduceDomain', 'n0\0'],
    ['@releaseDomain', 'n0\0'],
  ]);

  /** A special path's permission list, or undefined for any other `@` path. */
  get(path: string): string | undefined {
    return this.perms.get(path);
  }

  /** SET_PERMS of a special path: its owner (or a privileged caller) may; EINVAL for an
   *  unknown `@` path, EACCES for anyone else. */
  set(who: Caller, path: string, perms: string): ErrorName | null {
    const old = this.perms.get(path);
    if (old === undefined) return 'EINVAL';
    if (!who.privileged && ownerOf(old) !== who.domid && ownerOf(old) !== who.target) return 'EACCES';
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
