/**
 * Runs once before the test files. Against a peer daemon: build the peers' shim.
 * Against xsgit: make sure dist/ is built and not older than src/ (rebuilds with tsc;
 * set XSGIT_TEST_NO_BUILD=1 to skip), so `npm test` never exercises a stale daemon.
 */

import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, TEST_PEER, ensurePeersBuilt } from './daemon.js';

function newestMtime(dir: string): number {
  let newest = 0;
  const stack = [dir];
  while (stack.length > 0) {
    const d = stack.pop()!;
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) stack.push(p);
      else if (e.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
    }
  }
  return newest;
}

export default async function setup(): Promise<void> {
  if (TEST_PEER !== 'xsgit') {
    await ensurePeersBuilt();
    return;
  }
  if (process.env['XSGIT_TEST_NO_BUILD'] === '1') return;
  const entry = join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js');
  const built = existsSync(entry) ? statSync(entry).mtimeMs : 0;
  if (built >= newestMtime(join(REPO_ROOT, 'src'))) return;
  const tsc = join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  try {
    execFileSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: REPO_ROOT, stdio: 'pipe' });
  } catch (err) {
    // tsc emits despite type errors: age the entry point so that the next run tries again.
    if (existsSync(entry)) utimesSync(entry, 0, 0);
    const e = err as { stdout?: Buffer; stderr?: Buffer };
    throw new Error(`global-setup: tsc failed, dist/ is stale\n${e.stdout?.toString() ?? ''}${e.stderr?.toString() ?? ''}`);
  }
}
