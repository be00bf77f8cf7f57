import type { Commit } from '../history/commit.js';
import { commitIdOf } from '../history/commitId.js';
import { InvalidRefError } from '../git/errors.js';
import { PackBuilder, type PackCompression } from '../git/pack/packWriter.js';
import { chooseIndexer, storePack, type Indexer } from '../git/pack/storePack.js';
import { runGit } from '../git/repo/gitBinary.js';
import { claimRepository } from './repository.js';
import { RepoObjects } from '../git/repo/objectStore.js';
import { deleteRef, isValidRefName, symbolicTarget, writeRef } from '../git/repo/refs.js';
import { addShallow } from '../git/repo/shallow.js';
import { walkNewObjects } from './walk.js';
import { ExportedObjects } from './exportedObjects.js';

/**
 * Incremental export of the in-memory history to an on-disk bare repository.
 *
 * One GitExporter per repository. Each `export()` walks from the given commits, skipping every
 * commit and subtree the repository already holds (ExportedObjects), writes the new objects as
 * one pack (split only when very large) through storePack, then updates the refs, each one
 * atomically. Calls are serialised. If one fails, the exporter forgets what it had marked and
 * re-opens the repository's pack indexes, so the next call is still correct.
 */

export interface ExporterOptions {
  readonly gitDir: string;
  /** How packs get their index (storePack.ts): `auto` = `git index-pack` when git is installed,
   *  else isomorphic-git; `xsgit` = our own index writer. */
  readonly indexer?: Indexer | 'auto';
  readonly gitCommand?: string;
  /** Bound on remembered ids (see ExportedObjects). */
  readonly maxKnownIds?: number;
  /** Start a new pack after this many objects or bytes. */
  readonly maxPackObjects?: number;
  readonly maxPackBytes?: number;
  /** Entry compression (see PackCompression); default `'auto'`. */
  readonly compression?: PackCompression;
  /** With git: run `git repack --geometric=2 -d` after this many packs written (0 = never). */
  readonly repackEvery?: number;
  readonly onProgress?: (p: ExportProgress) => void;
}

export interface ExportProgress {
  readonly phase: 'objects' | 'pack' | 'refs' | 'done';
  readonly objects: number;
  readonly bytes: number;
}

export interface ExportRequest {
  /** New tip of the branch HEAD points at (refs/heads/main in a repository we created). */
  readonly head?: Commit;
  /** Refs to set (`refs/heads/tx/3-7`; a name without `refs/` means a branch) or, with null, delete. */
  readonly refs?: Readonly<Record<string, Commit | null>>;
  /** More commits whose objects to write, without any ref. */
  readonly commits?: Iterable<Commit>;
}

export interface ExportResult {
  readonly objects: number;
  readonly commits: number;
  readonly trees: number;
  readonly blobs: number;
  /** Bytes of pack data written. */
  readonly bytes: number;
  /** Names (`pack-<checksum>`) of the packs written. */
  readonly packs: string[];
  /** Full ref name → new id, or null for a deleted ref. */
  readonly refs: Record<string, string | null>;
  readonly ms: number;
}

const YIELD_EVERY = 2000;

/** `refs/...` as given; anything else is a branch name. HEAD is not settable here (use `head`). */
export function fullRefName(name: string): string {
  const full = name.startsWith('refs/') ? name : `refs/heads/${name}`;
  if (name === 'HEAD' || !isValidRefName(full)) throw new InvalidRefError(name);
  return full;
}

export class GitExporter {
  readonly gitDir: string;
  readonly indexer: Indexer;
  private known: ExportedObjects;
  private base: RepoObjects | null;
  private queue: Promise<unknown> = Promise.resolve();
  private packsSinceRepack = 0;

  /** Opens (creating if missing) the bare repository at `gitDir`. */
  constructor(private readonly opts: ExporterOptions) {
    this.gitDir = opts.gitDir;
    this.indexer = chooseIndexer(opts.indexer ?? 'auto', opts.gitCommand);
    // A directory xsgit may not write into fails the first export (with why), not here: a
    // CONTROL caller reports an export's failure, not a constructor's.
    let created = false;
    try {
      created = claimRepository(this.gitDir);
    } catch (e) {
      this.refused = e as Error;
    }
    this.base = created || this.refused !== null ? null : new RepoObjects(this.gitDir);
    this.known = new ExportedObjects(this.base, opts.maxKnownIds);
  }

  private refused: Error | null = null;

  /** Writes what is new and updates the refs. Calls queue up behind each other. */
  export(req: ExportRequest): Promise<ExportResult> {
    const run = this.queue.then(() => this.run(req));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Ids remembered in memory (for stats). */
  get knownIds(): number {
    return this.known.size;
  }

  close(): void {
    this.base?.close();
  }

  private async run(req: ExportRequest): Promise<ExportResult> {
    if (this.refused !== null) throw this.refused;
    const t0 = performance.now();
    try {
      return await this.write(req, t0);
    } catch (e) {
      // Some marked objects may not have reached the disk: forget them all, re-read the packs.
      this.base?.close();
      this.base = new RepoObjects(this.gitDir);
      this.known = new ExportedObjects(this.base, this.opts.maxKnownIds);
      throw e;
    }
  }

  private async write(req: ExportRequest, t0: number): Promise<ExportResult> {
    const progress = this.opts.onProgress;
    const maxObjects = this.opts.maxPackObjects ?? 500_000;
    const maxBytes = this.opts.maxPackBytes ?? 256 << 20;
    const refUpdates: [string, Commit | null][] = [];
    if (req.head !== undefined) refUpdates.push([symbolicTarget(this.gitDir, 'HEAD') ?? 'refs/heads/main', req.head]);
    for (const [name, c] of Object.entries(req.refs ?? {})) refUpdates.push([fullRefName(name), c]);
    const tips: Commit[] = [...(req.commits ?? [])];
    for (const [, c] of refUpdates) if (c !== null) tips.push(c);

    let objects = 0;
    let commits = 0;
    let trees = 0;
    let blobs = 0;
    let bytes = 0;
    const packs: string[] = [];
    const compression = this.opts.compression ?? 'auto';
    let builder = new PackBuilder(compression);
    const flush = async () => {
      if (builder.count === 0) return;
      const pack = builder.finish();
      builder = new PackBuilder(compression);
      progress?.({ phase: 'pack', objects, bytes: bytes + pack.bytes });
      packs.push(await storePack(this.gitDir, pack, this.indexer, this.opts.gitCommand));
      bytes += pack.bytes;
    };
    const shallowCandidates: { id: string; parents: readonly string[] }[] = [];
    for (const o of walkNewObjects(tips, this.known)) {
      if (o.missingParents !== undefined) shallowCandidates.push({ id: o.id, parents: o.missingParents });
      builder.add(o.type, o.body, o.id);
      this.known.add(o);
      objects++;
      if (o.type === 'commit') commits++;
      else if (o.type === 'tree') trees++;
      else blobs++;
      if (objects % YIELD_EVERY === 0) {
        progress?.({ phase: 'objects', objects, bytes: bytes + builder.bytes });
        await new Promise<void>((r) => setImmediate(r)); // let the daemon serve requests
      }
      if (builder.count >= maxObjects || builder.bytes >= maxBytes) await flush();
    }
    await flush();
    await this.recordShallow(shallowCandidates);

    progress?.({ phase: 'refs', objects, bytes });
    const refs: Record<string, string | null> = {};
    for (const [name, c] of refUpdates) {
      if (c === null) {
        await deleteRef(this.gitDir, name);
        refs[name] = null;
      } else {
        const id = commitIdOf(c);
        await writeRef(this.gitDir, name, id);
        refs[name] = id;
      }
    }
    await this.maybeRepack(packs.length);
    progress?.({ phase: 'done', objects, bytes });
    return { objects, commits, trees, blobs, bytes, packs, refs, ms: performance.now() - t0 };
  }

  /**
   * Commits whose parents retention cut off before they were exported: unless the repository
   * holds those parents after all (checked on disk, since the id memory is bounded), they become
   * shallow boundaries, listed in `$GIT_DIR/shallow` as git does for a shallow clone. git log,
   * fsck and bisect then stop there instead of finding broken links.
   */
  private async recordShallow(candidates: readonly { id: string; parents: readonly string[] }[]): Promise<void> {
    if (candidates.length === 0) return;
    const disk = new RepoObjects(this.gitDir);
    try {
      const add = candidates.filter((c) => c.parents.some((p) => !disk.has(p))).map((c) => c.id);
      if (add.length > 0) await addShallow(this.gitDir, add);
    } finally {
      disk.close();
    }
  }

  private async maybeRepack(written: number): Promise<void> {
    const every = this.opts.repackEvery ?? 0;
    this.packsSinceRepack += written;
    if (every <= 0 || this.indexer !== 'git' || this.packsSinceRepack < every) return;
    this.packsSinceRepack = 0;
    await runGit(this.opts.gitCommand ?? 'git', this.gitDir, ['repack', '--geometric=2', '-d', '-q']);
  }
}

/** One-shot export: opens the repository, exports, closes. */
export async function exportRepo(opts: ExporterOptions & ExportRequest): Promise<ExportResult> {
  const ex = new GitExporter(opts);
  try {
    return await ex.export(opts);
  } finally {
    ex.close();
  }
}
