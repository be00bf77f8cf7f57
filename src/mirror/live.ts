import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { GitExporter, type ExportResult } from './exporter.js';
import { gitAvailable, runGit } from '../git/repo/gitBinary.js';
import { writeAtomic } from '../git/repo/refs.js';
import { retainedWithBranches } from '../history/revs.js';
import type { Commit } from '../history/commit.js';
import { logger } from '../util/log.js';
import type { OpenBranch } from '../history/history.js';
import type { Pruner } from '../history/pruner.js';
import type { Store } from '../history/store.js';

/** What the mirror reads of the daemon. */
export interface MirrorSource {
  readonly store: Store;
  readonly pruner: Pruner;
  /** The open transactions (their branches are mirrored while they last). */
  openTransactions(): Iterable<OpenBranch>;
}

/** `--git-retention`: batches between two `git gc` runs. */
const GC_EVERY = 60;

/**
 * The live mirror (`xsgit daemon --git-dir DIR`): within `lag` ms, the commits made since the
 * last batch go to the repository as one pack, never on a request's path, and the
 * refs follow: `main`, the retention tiers (`history/<tier>`), tags, and one branch per open
 * transaction (`tx/<conn>-<txid>`, at the commit it started from; deleted at its end).
 * It also runs history retention, after each batch, so the repository keeps the full archive.
 */
export class Mirror {
  private readonly exporter: GitExporter;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<ExportResult | null> | null = null;
  private exported: Commit | null = null;
  private readonly refs = new Map<string, Commit>();
  batches = 0;
  objects = 0;
  /** Time from the first unexported commit to the end of its batch, last batch. */
  lastLag = 0;

  constructor(
    private readonly daemon: MirrorSource,
    private readonly gitDir: string,
    private readonly lag = 1000,
    /** `--git-retention`: the repository follows the in-memory retention (see trim()). */
    private readonly retention = false,
  ) {
    this.exporter = new GitExporter({ gitDir, indexer: 'xsgit' });
    daemon.pruner.byMirror = true;
  }

  /** Batches start every lag/2, so a commit waits at most that plus one batch's writing. */
  start(): void {
    this.timer = setInterval(() => void this.sync(), Math.max(10, this.lag / 2));
    this.timer.unref();
  }

  /** Exports what is new; resolves when the repository has it (also used at shutdown). */
  sync(): Promise<ExportResult | null> {
    if (this.running !== null) return this.running;
    this.running = this.batch().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async batch(): Promise<ExportResult | null> {
    const head = this.daemon.store.history.head;
    const want = this.daemon.store.history.refs(this.daemon.openTransactions());
    const refs: Record<string, Commit | null> = {};
    for (const [name, c] of want) if (this.refs.get(name) !== c) refs[name] = c;
    for (const name of this.refs.keys()) if (!want.has(name)) refs[name] = null;
    if (head === this.exported && Object.keys(refs).length === 0) return null;
    const since = firstNewTime(head, this.exported);
    try {
      const r = await this.exporter.export({ head, refs });
      this.exported = head;
      this.refs.clear();
      for (const [name, c] of want) this.refs.set(name, c);
      this.batches++;
      this.objects += r.objects;
      this.lastLag = Date.now() - since;
      // Everything up to `head` is in the repository, ids included: retention may cut now.
      this.daemon.pruner.run();
      if (this.retention) await this.trim();
      return r;
    } catch (err) {
      logger.error(`git mirror: ${(err as Error).message}`);
      return null;
    }
  }

  /**
   * With `--git-retention` the repository keeps what memory keeps: the commits whose parents
   * retention cut are its shallow boundaries (`$GIT_DIR/shallow`, as in a shallow clone, so
   * git log, fsck and bisect stop there), and every GC_EVERY batches `git gc --prune=now`
   * drops what no ref reaches within them. Without git on the machine, only the boundaries
   * are written.
   */
  private async trim(): Promise<void> {
    const h = this.daemon.store.history;
    const ids = new Set<string>();
    for (const c of retainedWithBranches(h)) if (c.cutParentIds !== null && c.id !== undefined) ids.add(c.id);
    const text = ids.size === 0 ? '' : `${[...ids].sort().join('\n')}\n`;
    if (text !== this.shallow) {
      if (text === '') rmSync(join(this.gitDir, 'shallow'), { force: true });
      else await writeAtomic(join(this.gitDir, 'shallow'), text);
      this.shallow = text;
    }
    if (++this.sinceGc >= GC_EVERY && gitAvailable()) {
      this.sinceGc = 0;
      await runGit('git', this.gitDir, ['gc', '--quiet', '--prune=now']);
    }
  }

  private shallow = '';
  private sinceGc = 0;

  /** Stops the timer and writes what is left: a batch under way may predate the last commits. */
  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await this.running;
    await this.sync();
    if (this.retention && gitAvailable()) {
      this.sinceGc = GC_EVERY;
      await this.trim();
    }
  }
}

/** The time of the oldest commit after `done` on main's line (the batch's lag start). */
function firstNewTime(head: Commit, done: Commit | null): number {
  let t = head.time;
  for (let c: Commit | undefined = head; c !== undefined && c !== done; c = c.parents[0]) t = c.time;
  return t;
}
