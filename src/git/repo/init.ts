import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Creates a bare repository, as `git init --bare` would, unless `gitDir` already is one.
 * HEAD points at refs/heads/main. Returns true when it created the repository.
 */
export function initBareRepo(gitDir: string, branch = 'main'): boolean {
  if (existsSync(join(gitDir, 'HEAD')) && existsSync(join(gitDir, 'objects'))) return false;
  for (const d of ['objects/info', 'objects/pack', 'refs/heads', 'refs/tags', 'info']) {
    mkdirSync(join(gitDir, d), { recursive: true });
  }
  writeFileSync(
    join(gitDir, 'config'),
    '[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = true\n',
  );
  writeFileSync(join(gitDir, 'description'), 'xenstore history written by xsgit\n');
  writeFileSync(join(gitDir, 'HEAD'), `ref: refs/heads/${branch}\n`);
  return true;
}

