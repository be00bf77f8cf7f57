/** Runs the real `xsgit` CLI (bin/xsgit.js) against a daemon, keeping its output as bytes. */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './daemon.js';

export interface CliResult {
  code: number;
  /** stdout as bytes, exactly. */
  out: Buffer;
  /** stdout as UTF-8 text. */
  stdout: string;
  stderr: string;
}

/** `xsgit ARGS…` with `env` (a DaemonHandle's env points it at the daemon); never rejects on a
 *  non-zero exit: the status is part of the answer. */
export function xsgit(env: NodeJS.ProcessEnv, args: readonly string[], options: { cwd?: string } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [join(REPO_ROOT, 'bin', 'xsgit.js'), ...args], { env, cwd: options.cwd ?? REPO_ROOT, encoding: 'buffer', maxBuffer: 64 << 20 }, (err, out, errOut) => {
      const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : -1;
      if (code === -1) return reject(err);
      resolve({ code, out, stdout: out.toString('utf8'), stderr: errOut.toString('utf8') });
    });
  });
}

/** `xsgit ARGS… --json`, parsed; rejects unless it exits 0. */
export async function xsgitJson<T>(env: NodeJS.ProcessEnv, args: readonly string[]): Promise<T> {
  const r = await xsgit(env, [...args, '--json']);
  if (r.code !== 0) throw new Error(`xsgit ${args.join(' ')} --json exited ${r.code}: ${r.stdout}${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}
