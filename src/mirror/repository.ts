import { closeSync, existsSync, openSync, readFileSync, readdirSync, rmSync, statSync, writeSync, appendFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { initBareRepo } from '../git/repo/init.js';
import { resolveRef } from '../git/repo/refs.js';
import { RepoObjects } from '../git/repo/objectStore.js';

/**
 * Which directories xsgit writes a repository into (`--git-dir`, `export --git-dir`), and the
 * lock a daemon holds on one:
 *   - a missing directory whose parent exists, or an empty directory: a bare repository is
 *     created there and marked (`xsgit.repository = true` in its config);
 *   - a repository xsgit made: marked, or (made by a version before the mark) bare with the
 *     description xsgit writes; the mark is then added;
 *   - anything else (a project's `.git`, a work tree, a directory with files) is refused:
 *     RepositoryRefused, with what was found.
 * A daemon also holds `xsgit.lock` (its pid) while it mirrors: a second daemon on the same
 * repository is refused while that pid lives; a lock left by a dead process is taken over.
 */

export const MARK_SECTION = 'xsgit';
export const MARK_KEY = 'xsgit.repository';
const LEGACY_DESCRIPTION = 'xenstore history written by xsgit\n';
export const LOCK_FILE = 'xsgit.lock';

export class RepositoryRefused extends Error {}

/** Whether the repository's config carries the mark. */
export function isMarked(gitDir: string): boolean {
  const config = join(gitDir, 'config');
  if (!existsSync(config)) return false;
  let section = '';
  for (const raw of readFileSync(config, 'utf8').split('\n')) {
    const line = raw.trim();
    const s = /^\[\s*([A-Za-z0-9.-]+)\s*\]$/.exec(line);
    if (s !== null) section = s[1].toLowerCase();
    else if (section === MARK_SECTION && /^repository\s*=\s*true$/i.test(line)) return true;
  }
  return false;
}

function mark(gitDir: string): void {
  appendFileSync(join(gitDir, 'config'), `[${MARK_SECTION}]\n\trepository = true\n`);
}

/**
 * Makes sure `gitDir` (absolute) is a repository xsgit may write: creates and marks it when
 * missing or empty, accepts it when marked (or made by an older xsgit), else throws
 * RepositoryRefused. Returns true when it created the repository.
 */
export function claimRepository(gitDir: string): boolean {
  if (!existsSync(gitDir)) {
    if (!existsSync(dirname(gitDir))) throw new RepositoryRefused(`${gitDir}: its parent directory does not exist`);
    initBareRepo(gitDir);
    mark(gitDir);
    return true;
  }
  if (!statSync(gitDir).isDirectory()) throw new RepositoryRefused(`${gitDir} is not a directory`);
  if (readdirSync(gitDir).length === 0) {
    initBareRepo(gitDir);
    mark(gitDir);
    return true;
  }
  if (isMarked(gitDir)) return false;
  const description = join(gitDir, 'description');
  const legacy = existsSync(join(gitDir, 'HEAD')) && existsSync(description) && readFileSync(description, 'utf8') === LEGACY_DESCRIPTION;
  if (legacy) {
    mark(gitDir);
    return false;
  }
  const what = existsSync(join(gitDir, 'HEAD')) ? 'a git repository xsgit did not make' : existsSync(join(gitDir, '.git')) ? 'a git work tree' : 'a directory that is not empty';
  throw new RepositoryRefused(
    `${gitDir} is ${what} (no ${MARK_KEY} in its config): refusing to write into it; give a missing or empty directory, or a repository xsgit made`,
  );
}

/**
 * Refuses a repository whose HEAD commit is not an xsgit commit (no `Xenstore-Domid:` trailer):
 * continuing it would import someone else's files as xenstore nodes and move their branch.
 */
export function checkHistory(gitDir: string): void {
  const head = resolveRef(gitDir, 'HEAD');
  if (head === null) return;
  const objects = new RepoObjects(gitDir);
  try {
    const o = objects.tryRead(head);
    const text = o?.body.toString('utf8') ?? '';
    if (o?.type !== 'commit' || !/^Xenstore-Domid: \d+$/m.test(text)) {
      throw new RepositoryRefused(`${gitDir}: HEAD (${head}) is not an xsgit commit: refusing to continue that history`);
    }
  } finally {
    objects.close();
  }
}

/** A daemon's hold on a repository; `release` removes the lock (only if it is still ours). */
export interface RepositoryLock {
  readonly gitDir: string;
  release(): void;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes `xsgit.lock` for this process; RepositoryRefused when another live process holds it. */
export function lockRepository(gitDir: string): RepositoryLock {
  const path = join(gitDir, LOCK_FILE);
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o644);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw e;
      const pid = Number(readFileSync(path, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
        throw new RepositoryRefused(`another daemon (pid ${pid}) is mirroring into ${gitDir} (${path})`);
      }
      rmSync(path, { force: true }); // left by a process that is gone
    }
  }
  return {
    gitDir,
    release() {
      try {
        if (readFileSync(path, 'utf8').trim() === String(process.pid)) rmSync(path, { force: true });
      } catch {
        /* already gone */
      }
    },
  };
}

/** What a daemon does before it reads or writes `--git-dir`: claim (refuse what xsgit did not
 *  make), check that HEAD continues an xsgit history, then lock. Calling it again in the same
 *  process is harmless. */
export function openMirrorRepository(gitDir: string): RepositoryLock {
  claimRepository(gitDir);
  checkHistory(gitDir);
  return lockRepository(gitDir);
}
