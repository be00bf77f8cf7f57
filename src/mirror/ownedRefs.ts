import { deleteRef, listRefs, resolveRef, writeRef } from '../git/repo/refs.js';

/**
 * The refs the live mirror moves, and only from the value it last saw: each update first
 * checks that the ref still holds what the repository held when the mirror opened it, or what
 * the mirror itself wrote since (compare-and-swap). A ref someone else moved is left alone and
 * the update fails (RefMovedError): the mirror never force-moves a ref it did not write. Since
 * the in-memory history continues the head it was started from and `main` only grows, every
 * move of `main` is then a fast-forward.
 */
export class RefMovedError extends Error {}

export class OwnedRefs {
  private readonly known = new Map<string, string>();

  constructor(private readonly gitDir: string) {
    for (const [name, id] of listRefs(gitDir, 'refs/')) this.known.set(name, id);
  }

  private check(name: string): void {
    const now = resolveRef(this.gitDir, name);
    const expected = this.known.get(name) ?? null;
    if (now !== expected) {
      throw new RefMovedError(`${name} was moved by someone else (it is ${now ?? 'missing'}, xsgit last wrote ${expected ?? 'nothing'}): not overwriting it`);
    }
  }

  async set(name: string, id: string): Promise<void> {
    if (this.known.get(name) === id) return;
    this.check(name);
    await writeRef(this.gitDir, name, id);
    this.known.set(name, id);
  }

  async delete(name: string): Promise<void> {
    if (!this.known.has(name)) return;
    this.check(name);
    await deleteRef(this.gitDir, name);
    this.known.delete(name);
  }
}
