import { spawn, spawnSync } from 'node:child_process';

/**
 * The `git` command, where installed. Runs with a clean environment (every GIT_* variable of
 * ours removed, except GIT_EXEC_PATH) and GIT_DIR set to the repository, so a caller's
 * environment (say, a git hook) cannot point it elsewhere.
 */

const found = new Map<string, boolean>();

export function gitAvailable(command = 'git'): boolean {
  let ok = found.get(command);
  if (ok === undefined) {
    const r = spawnSync(command, ['--version'], { stdio: ['ignore', 'pipe', 'ignore'] });
    ok = r.status === 0 && /^git version/.test(String(r.stdout));
    found.set(command, ok);
  }
  return ok;
}

export function gitEnv(gitDir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('GIT_') || k === 'GIT_EXEC_PATH') env[k] = v;
  env.GIT_DIR = gitDir;
  return env;
}

/** Runs git in the repository, feeding `input` chunks on stdin; resolves with stdout. */
export function runGit(command: string, gitDir: string, args: string[], input: readonly Buffer[] = []): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: gitDir, env: gitEnv(gitDir), stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(Buffer.concat(out).toString('utf8'));
      else reject(new Error(`git ${args.join(' ')} failed (${code}): ${Buffer.concat(err).toString('utf8').trim()}`));
    });
    child.stdin.on('error', () => {}); // a failing git closes stdin early; 'close' reports it
    let closed = false;
    let wake: (() => void) | null = null;
    child.once('close', () => {
      closed = true;
      wake?.();
    });
    (async () => {
      for (const c of input) {
        if (closed || child.stdin.destroyed) return;
        if (!child.stdin.write(c)) {
          await new Promise<void>((r) => {
            wake = r;
            child.stdin.once('drain', () => r());
          });
          wake = null;
        }
      }
      child.stdin.end();
    })().catch(reject);
  });
}
