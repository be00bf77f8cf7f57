import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeAtomic } from './refs.js';

/**
 * `$GIT_DIR/shallow`: commits whose parents the repository does not have, one id per line. git
 * treats them as roots (as in a shallow clone), so log, fsck and bisect stop there.
 */

export function readShallow(gitDir: string): Set<string> {
  try {
    return new Set(readFileSync(join(gitDir, 'shallow'), 'utf8').split('\n').filter((l) => /^[0-9a-f]{40}$/.test(l)));
  } catch {
    return new Set();
  }
}

export async function addShallow(gitDir: string, ids: readonly string[]): Promise<void> {
  const all = readShallow(gitDir);
  const before = all.size;
  for (const id of ids) all.add(id);
  if (all.size === before) return;
  await writeAtomic(join(gitDir, 'shallow'), [...all].sort().join('\n') + '\n');
}
