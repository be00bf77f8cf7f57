import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { NotFoundError } from '../errors.js';
import type { GitObject } from '../objects/types.js';
import { PackFile } from '../pack/packFile.js';
import { PackIndex } from '../pack/packIndex.js';
import { listLoose, readLoose } from './loose.js';

/**
 * Read access to the objects of an on-disk repository: its packs (through their `.idx`) and its
 * loose objects. Packs are scanned when the store is opened (and on `refresh()`); reads of
 * loose objects always go to the file system. Alternates are not followed.
 *
 * `has()` answers from the pack indexes and from directory listings of the loose fan-out
 * directories, taken lazily once per prefix, so checking many ids costs no system call each.
 */
export class RepoObjects {
  private packs: PackFile[] = [];
  private loose = new Map<string, Set<string>>();

  constructor(readonly gitDir: string) {
    this.refresh();
  }

  /** Re-scans objects/pack and forgets the loose listings. */
  refresh(): void {
    this.close();
    this.loose.clear();
    const dir = join(this.gitDir, 'objects', 'pack');
    let names: string[] = [];
    try {
      names = readdirSync(dir);
    } catch {
      names = [];
    }
    for (const n of names.sort()) {
      if (!/^pack-[0-9a-f]+\.idx$/.test(n)) continue;
      const packPath = join(dir, n.replace(/\.idx$/, '.pack'));
      if (!existsSync(packPath)) continue;
      this.packs.push(new PackFile(packPath, new PackIndex(readFileSync(join(dir, n)))));
    }
  }

  close(): void {
    for (const p of this.packs) p.close();
    this.packs = [];
  }

  get packCount(): number {
    return this.packs.length;
  }

  has(id: string): boolean {
    const bin = Buffer.from(id, 'hex');
    for (const p of this.packs) if (p.index.has(bin)) return true;
    const prefix = id.slice(0, 2);
    let set = this.loose.get(prefix);
    if (set === undefined) {
      set = new Set(listLoose(this.gitDir, prefix));
      this.loose.set(prefix, set);
    }
    return set.has(id);
  }

  /** The object, or null. */
  tryRead(id: string): GitObject | null {
    for (const p of this.packs) {
      const o = p.readId(id, this.readBase);
      if (o !== null) return o;
    }
    return readLoose(this.gitDir, id);
  }

  read(id: string): GitObject {
    const o = this.tryRead(id);
    if (o === null) throw new NotFoundError(`object ${id}`);
    return o;
  }

  private readonly readBase = (id: string) => this.read(id);
}
