import * as fs from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { gitAvailable, runGit } from '../repo/gitBinary.js';
import { writePackIndex } from './packIndexWriter.js';
import type { FinishedPack } from './packWriter.js';

/**
 * Stores a finished pack in a repository's objects/pack together with its `.idx`:
 *   - `git`: pipes it into `git index-pack --stdin` (git writes, indexes and names it);
 *   - `isomorphic-git`: writes it to a temporary file, builds the index with isomorphic-git's
 *     `indexPack` (no git binary needed, much slower), then renames both into place: the pack
 *     first, the index last, since git only uses a pack once its index exists;
 *   - `xsgit`: like isomorphic-git, but the index is written from what the pack builder
 *     recorded (packIndexWriter.ts): no process, no second pass over the pack. Nothing
 *     re-verifies the objects, so this trusts our encoders (which the tests check with
 *     `git fsck` and `git verify-pack`).
 * Either way the pack ends up as `objects/pack/pack-<checksum>.{pack,idx}`.
 */

export type Indexer = 'git' | 'isomorphic-git' | 'xsgit';

export function chooseIndexer(want: Indexer | 'auto', gitCommand = 'git'): Indexer {
  if (want !== 'auto') return want;
  return gitAvailable(gitCommand) ? 'git' : 'isomorphic-git';
}

let tmpCounter = 0;

async function syncFile(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export async function storePack(
  gitDir: string,
  pack: FinishedPack,
  indexer: Indexer,
  gitCommand = 'git',
): Promise<string> {
  const name = `pack-${pack.checksum}`;
  if (indexer === 'git') {
    const out = await runGit(gitCommand, gitDir, ['index-pack', '--stdin'], pack.chunks);
    if (!out.includes(pack.checksum)) throw new Error(`git index-pack named the pack ${out.trim()}, expected ${pack.checksum}`);
    return name;
  }
  const dir = join(gitDir, 'objects', 'pack');
  const tmp = `tmp_xsgit_${process.pid}_${++tmpCounter}`;
  const fh = await open(join(dir, `${tmp}.pack`), 'wx');
  try {
    await fh.writev(pack.chunks);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    if (indexer === 'xsgit') {
      const ih = await open(join(dir, `${tmp}.idx`), 'wx');
      try {
        await ih.writeFile(writePackIndex(pack.entries, pack.checksum));
        await ih.sync();
      } finally {
        await ih.close();
      }
    } else {
      const git = await import('isomorphic-git');
      await git.indexPack({ fs, dir: gitDir, gitdir: gitDir, filepath: `objects/pack/${tmp}.pack` });
      await syncFile(join(dir, `${tmp}.idx`));
    }
    await rename(join(dir, `${tmp}.pack`), join(dir, `${name}.pack`));
    await rename(join(dir, `${tmp}.idx`), join(dir, `${name}.idx`));
  } catch (e) {
    await unlink(join(dir, `${tmp}.pack`)).catch(() => {});
    await unlink(join(dir, `${tmp}.idx`)).catch(() => {});
    throw e;
  }
  return name;
}
