import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { spawn, type ChildProcess } from 'node:child_process';
import { gitAvailable, gitEnv, runGit } from '../git/repo/gitBinary.js';
import { writeAtomic } from '../git/repo/refs.js';
import { addShallow } from '../git/repo/shallow.js';
import { RepoObjects } from '../git/repo/objectStore.js';
import { symbolicTarget } from '../git/repo/refs.js';
import { retainedWithBranches } from '../history/revs.js';
import type { Commit } from '../history/commit.js';
import { logger } from '../util/log.js';
import type { OpenBranch } from '../history/history.js';
import type { Pruner } from '../history/pruner.js';
import type { Store } from '../history/store.js';
import { BatchBuilder, type Built } from './batchBuilder.js';
import { fullRefName } from './exporter.js';
import { isExternal } from './external.js';
import { OwnedRefs } from './ownedRefs.js';
import { openMirrorRepository, type RepositoryLock } from './repository.js';
import { LagSamples } from './lagSamples.js';
import { MAX_DEPTH_LARGE } from './worker/packer.js';
import type { BatchFailed, BatchReply, BatchRequest, WorkerInit } from './worker/protocol.js';

/** What the mirror reads of the daemon. */
export interface MirrorSource {
  readonly store: Store;
  readonly pruner: Pruner;
  /** The open transactions (their branches are mirrored while they last). */
  openTransactions(): Iterable<OpenBranch>;
}

/** `--git-retention`: batches between two `git gc` runs. */
const GC_EVERY = 60;
/** Most commits of main one batch takes: a backlog is written over several batches, so that no
 *  batch holds the main thread (building) or the worker (one pack) for long. */
const MAX_BATCH_COMMITS = 3000;
/**
 * Most commits of main waiting for the repository. Beyond it (the mirror fails, or cannot keep
 * up), retention runs anyway and the oldest unwritten commits are dropped (counted in
 * `lostCommits`, logged): memory stays bounded whatever happens to the repository.
 */
const MAX_BACKLOG = 100_000;
/** Longest wait between two attempts while the repository fails. */
const MAX_RETRY_MS = 30_000;
/** Packs written between two background `git repack --geometric=2 -d` (see docs/mirror.md). */
const REPACK_EVERY = 16;
/** Batches of at most this many commits count as an idle host's (see maybeRepack). */
const IDLE_BATCH = 50;
/** How long shutdown waits for a background repack before stopping it. */
const REPACK_WAIT_MS = 30_000;

export type MirrorState = 'ok' | 'failing' | 'stopped';

/**
 * The live mirror (`xsgit daemon --git-dir DIR`): within `lag` ms, the commits made since the
 * last batch go to the repository as one pack, and the refs follow: `main`, the retention
 * tiers (`history/<tier>`), tags, and one branch per open transaction (`tx/<conn>-<txid>`, at
 * the commit it started from; deleted at its end).
 *
 * Split: the main thread only serialises what a batch adds (batchBuilder.ts, between requests,
 * in slices); a worker thread (worker/thread.ts) encodes, hashes, deltifies and writes the
 * pack. One batch is in flight at a time; the backlog is the commits of main not written yet.
 * After each batch it runs history retention, so the repository keeps the full archive.
 */
export class Mirror {
  private readonly lock: RepositoryLock;
  private readonly builder = new BatchBuilder();
  private readonly owned: OwnedRefs;
  private worker: Worker | null = null;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  /** The newest commit of main in the repository. */
  private exported: Commit | null = null;
  private readonly refs = new Map<string, Commit>();
  private seq = 0;
  private waiting: ((r: BatchReply | BatchFailed) => void) | null = null;
  private readonly lags = new LagSamples();
  private repack: { child: ChildProcess; done: Promise<void> } | null = null;
  private packsSinceRepack = 0;
  private readonly headRef: string;
  private failuresInARow = 0;
  private retryAt = 0;

  state: MirrorState = 'ok';
  lastError: string | null = null;
  batches = 0;
  objects = 0;
  deltas = 0;
  /** Bytes of pack data written. */
  bytes = 0;
  failures = 0;
  /** Commits of main retention dropped before they reached the repository. */
  lostCommits = 0;
  /** Commits of main in the batch being written. */
  inFlight = 0;
  /** Bytes the worker keeps between batches (the last version of each large directory). */
  workerBytes = 0;
  repacks = 0;
  /** Time from the first unexported commit to the end of its batch, last batch. */
  lastLag = 0;

  constructor(
    private readonly daemon: MirrorSource,
    private readonly gitDir: string,
    private readonly lag = 1000,
    /** `--git-retention`: the repository follows the in-memory retention (see trim()). */
    private readonly retention = false,
  ) {
    this.lock = openMirrorRepository(gitDir);
    this.owned = new OwnedRefs(gitDir);
    this.headRef = symbolicTarget(gitDir, 'HEAD') ?? 'refs/heads/main';
    daemon.pruner.byMirror = true;
    // What the daemon continued from the repository is there already.
    const h = daemon.store.history;
    for (const c of [h.head, ...h.refs().values()]) if (isExternal(c)) this.builder.markKnown(c);
    if (isExternal(h.head)) this.exported = h.head;
  }

  /** Batches start every lag/2, so a commit waits at most that plus one batch's writing. */
  start(): void {
    this.startWorker();
    this.timer = setInterval(() => void this.sync(), Math.max(10, this.lag / 2));
    this.timer.unref();
  }

  /** A new worker; one that died is replaced at the next batch (it held only what the main
   *  thread can send again: the large directories' last versions). */
  private startWorker(): void {
    this.builder.forgetWorkerState();
    const init: WorkerInit = { gitDir: this.gitDir };
    this.worker = new Worker(new URL('./worker/thread.js', import.meta.url), { workerData: init });
    this.worker.on('message', (m: BatchReply | BatchFailed) => {
      const w = this.waiting;
      this.waiting = null;
      w?.(m);
    });
    this.worker.on('error', (e) => {
      logger.error(`git mirror: worker failed: ${e.message}`);
      this.worker = null;
      const w = this.waiting;
      this.waiting = null;
      w?.({ kind: 'failed', seq: this.seq, message: `worker failed: ${e.message}` });
    });
    // Not unref'd: at shutdown the last batches are written while nothing else keeps the
    // process alive; stop() terminates it.
  }

  /** Commits of main the repository's `main` does not reach yet (the batch being written
   *  included). */
  get backlog(): number {
    let n = 0;
    for (let c: Commit | undefined = this.daemon.store.history.head; c !== undefined && c !== this.exported; c = c.parents[0]) n++;
    return n;
  }

  /** Mirror lag percentiles (ms from a commit to the end of the batch that wrote it). */
  lagPercentile(q: number): number | null {
    return this.lags.percentile(q);
  }

  /** Writes what is new; resolves when the repository has it or the batch failed. */
  sync(): Promise<void> {
    if (this.running !== null) return this.running;
    if (this.state === 'failing' && Date.now() < this.retryAt) {
      this.degradedPrune();
      return Promise.resolve();
    }
    this.running = this.batch()
      .catch((e: Error) => this.fail(e.message))
      .finally(() => {
        this.running = null;
      });
    return this.running;
  }

  /** Up to MAX_BATCH_COMMITS commits of main, oldest first, that the repository lacks. */
  private pending(head: Commit): Commit[] {
    const chain: Commit[] = [];
    for (let c: Commit | undefined = head; c !== undefined && !this.builder.isSent(c); c = c.parents[0]) chain.push(c);
    const oldest = chain[chain.length - 1];
    // Retention dropped commits that never reached the repository (see MAX_BACKLOG): the first
    // one kept continues from the last one written, so main still only fast-forwards; its diff
    // holds the lost changes.
    if (oldest !== undefined && oldest.parents.length === 0 && oldest.cutParentIds === null && oldest.id === undefined && this.exported !== null) {
      oldest.parents = [this.exported];
    }
    chain.reverse();
    return chain;
  }

  private async batch(): Promise<void> {
    if (this.worker === null) {
      if (this.timer === null) return;
      this.startWorker();
    }
    const h = this.daemon.store.history;
    const chain = this.pending(h.head);
    const caughtUp = chain.length <= MAX_BATCH_COMMITS;
    const tip = chain.length === 0 ? this.exported : caughtUp ? h.head : chain[MAX_BATCH_COMMITS - 1];
    const want = caughtUp ? h.refs(this.daemon.openTransactions()) : new Map<string, Commit>();
    const refs = new Map<string, Commit | null>();
    for (const [name, c] of want) if (this.refs.get(name) !== c) refs.set(name, c);
    if (caughtUp) for (const name of this.refs.keys()) if (!want.has(name)) refs.set(name, null);
    if (tip === null || (tip === this.exported && refs.size === 0)) {
      this.degradedPrune();
      return;
    }
    const tips = [tip, ...[...refs.values()].filter((c): c is Commit => c !== null)];
    const t0 = performance.now();
    const built = await this.builder.build(tips);
    const t1 = performance.now();
    const size = built.bytes.byteLength;
    this.inFlight = Math.min(chain.length, MAX_BATCH_COMMITS);
    // Nothing new to write (a ref to retry, or to move onto commits already written).
    const reply: BatchReply | BatchFailed =
      size === 0 ? { kind: 'done', seq: 0, treeIds: '', commitIds: '', pack: null, objects: 0, deltas: 0, bytes: 0, ms: 0, heldBytes: this.workerBytes } : await this.send(built);
    logger.debug(
      `git mirror: batch of ${built.commitObjects.length} commits, ${built.treeNodes.length} trees, ${size} bytes: built in ${(t1 - t0).toFixed(0)} ms, ` +
        `${reply.kind === 'done' ? `worker ${reply.ms.toFixed(0)} ms, ${reply.objects} objects (${reply.deltas} deltas), ${reply.bytes} bytes` : reply.message}, ` +
        `round trip ${(performance.now() - t1).toFixed(0)} ms`,
    );
    this.inFlight = 0;
    if (reply.kind === 'failed') {
      this.builder.rollback();
      this.fail(reply.code === undefined ? reply.message : `${reply.code}: ${reply.message}`);
      return;
    }
    this.builder.confirm(built, reply.treeIds, reply.commitIds);
    await this.recordShallow(built.cut);
    // The objects are in; a ref someone else moved stops the batch here (RefMovedError).
    await this.owned.set(this.headRef, tip.id as string);
    for (const [name, c] of refs) {
      const full = fullRefName(name);
      if (c === null) await this.owned.delete(full);
      else await this.owned.set(full, c.id as string);
      if (c === null) this.refs.delete(name);
      else this.refs.set(name, c);
    }
    const now = Date.now();
    const written = chain.slice(0, MAX_BATCH_COMMITS);
    for (const c of written) this.lags.add(now - c.time);
    if (written.length > 0) this.lastLag = now - written[0].time;
    this.exported = tip;
    this.batches++;
    this.objects += reply.objects;
    this.deltas += reply.deltas;
    this.bytes += reply.bytes;
    this.workerBytes = reply.heldBytes;
    if (this.state === 'failing') logger.info(`git mirror: writing again (${this.failures} failed batches so far)`);
    this.state = 'ok';
    this.failuresInARow = 0;
    this.lastError = null;
    if (reply.pack !== null) this.packsSinceRepack++;
    // Everything up to the tip is in the repository, ids included: retention may cut now,
    // unless it would cut commits made since (under load, more than the window may wait).
    if (h.pruneCandidates().every((c) => this.builder.isSent(c))) this.daemon.pruner.run();
    else this.degradedPrune();
    if (this.retention) await this.trim();
    this.maybeRepack(written.length);
  }

  private send(built: Built): Promise<BatchReply | BatchFailed> {
    const seq = ++this.seq;
    const req: BatchRequest = { kind: 'batch', seq, bytes: built.bytes, forgetBelow: this.builder.confirmedBelow };
    return new Promise((resolve) => {
      this.waiting = resolve;
      this.worker!.postMessage(req, [built.bytes]);
    });
  }

  private fail(message: string): void {
    this.failures++;
    // Retry with backoff: every attempt rebuilds the backlog's records on the main thread.
    this.failuresInARow++;
    this.retryAt = Date.now() + Math.min(MAX_RETRY_MS, Math.max(10, this.lag / 2) * 2 ** Math.min(10, this.failuresInARow - 1));
    if (this.state !== 'failing' || this.lastError !== message) {
      logger.error(`git mirror: cannot write to ${this.gitDir}: ${message} (${this.backlog} commits waiting; retrying every ${Math.max(10, this.lag / 2)} ms)`);
    }
    if (this.state !== 'stopped') this.state = 'failing';
    this.lastError = message;
    this.degradedPrune();
  }

  /**
   * Retention when the repository is behind: only once the backlog passes MAX_BACKLOG (or the
   * mirror is failing and retention is due), dropping the oldest unwritten commits first.
   */
  private degradedPrune(): void {
    const h = this.daemon.store.history;
    if (!h.needsPrune()) return;
    if (this.state !== 'failing' && this.backlog <= MAX_BACKLOG) return;
    const lost = h.pruneCandidates().filter((c) => !this.builder.isSent(c) && c.tierNote === null).length;
    this.daemon.pruner.run();
    if (lost > 0) {
      this.lostCommits += lost;
      logger.error(`git mirror: retention dropped ${lost} commits that never reached ${this.gitDir} (${this.lostCommits} in all)`);
    }
  }

  /** Commits whose parents retention cut before they were written: unless the repository holds
   *  those parents, they become shallow boundaries (`$GIT_DIR/shallow`). */
  private async recordShallow(cut: readonly Commit[]): Promise<void> {
    if (cut.length === 0) return;
    const disk = new RepoObjects(this.gitDir);
    try {
      const add = cut.filter((c) => (c.cutParentIds ?? []).some((p) => !disk.has(p))).map((c) => c.id as string);
      if (add.length > 0) await addShallow(this.gitDir, add);
    } finally {
      disk.close();
    }
  }

  /**
   * Packs written one batch each stay whole-object at their first version of every path; with
   * git installed, `git repack --geometric=2 -d` runs in the background (a child process: off
   * the event loop) once REPACK_EVERY packs have been written and the batches are small (an idle
   * host, where each pack holds a commit or two and its directories whole). It merges the small
   * packs and deltifies across them. During a storm the batches are large, their packs already
   * deltified, and git would compete with the daemon for the CPU: the repack waits. Not with
   * `--git-retention` (its own `git gc` does it).
   */
  private maybeRepack(batchCommits: number): void {
    if (this.retention || this.repack !== null || this.packsSinceRepack < REPACK_EVERY || batchCommits > IDLE_BATCH || !gitAvailable()) return;
    this.packsSinceRepack = 0;
    // --depth: git's default (50) would break the worker's longer chains and store more whole
    // trees (measured at 300 guests: 24.8 MB with it, 22.5 MB with 1,000, from 24.1 MB).
    const child = spawn('git', ['repack', '--geometric=2', '-d', '-q', '--no-write-bitmap-index', `--depth=${MAX_DEPTH_LARGE}`], { cwd: this.gitDir, env: gitEnv(this.gitDir), stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const done = new Promise<void>((resolve) => {
      child.once('error', (e) => {
        logger.warn(`git mirror: background repack: ${e.message}`);
        resolve();
      });
      child.once('close', (code) => {
        if (code === 0) this.repacks++;
        else logger.warn(`git mirror: background repack failed (${code}): ${err.trim()}`);
        resolve();
      });
    });
    this.repack = { child, done };
    void done.then(() => {
      this.repack = null;
    });
  }

  /** At shutdown: lets a background repack finish (REPACK_WAIT_MS at most, then stops it), so
   *  that the repository is quiet once the daemon has exited. */
  private async finishRepack(): Promise<void> {
    const r = this.repack;
    if (r === null) return;
    const timer = setTimeout(() => r.child.kill('SIGTERM'), REPACK_WAIT_MS);
    await r.done;
    clearTimeout(timer);
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

  /**
   * Stops the timer and writes what is left (a batch under way may predate the last commits).
   * Returns true when every commit reached the repository; false when some never will (the
   * repository failed, or retention dropped them): the daemon then exits non-zero.
   */
  async stop(): Promise<boolean> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await this.running;
    this.retryAt = 0; // one last attempt, whatever the backoff
    for (let i = 0; i < 100 && this.worker !== null && this.backlog > 0; i++) {
      const before = this.backlog;
      await this.sync();
      if (this.state === 'failing' || this.backlog >= before) break;
    }
    if (this.retention && gitAvailable() && this.state === 'ok') {
      this.sinceGc = GC_EVERY;
      await this.trim().catch((e: Error) => logger.warn(`git mirror: ${e.message}`));
    }
    await this.finishRepack();
    const left = this.backlog;
    const ok = left === 0 && this.lostCommits === 0;
    if (!ok) logger.error(`git mirror: ${left} commits not written to ${this.gitDir}, ${this.lostCommits} dropped earlier`);
    this.state = 'stopped';
    await this.worker?.terminate();
    this.worker = null;
    this.lock.release();
    return ok;
  }
}
