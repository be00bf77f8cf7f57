/**
 * An xsgit daemon a workload starts itself (to pass it options such as `--history off` or
 * `--git-dir DIR`), in a temporary run directory, with one client connection. `stop` sends
 * SIGTERM, waits (15 s at most, then SIGKILL) and removes the directories.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '../src/client/index.js';
import { sleep } from './proc.js';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

export interface Running {
  child: ChildProcess;
  c: Client;
  pid: number;
  /** The run directory (socket: DIR/socket). */
  dir: string;
  dirs: string[];
}

export async function start(args: string[], extraDirs: string[] = []): Promise<Running> {
  const dir = mkdtempSync(join(tmpdir(), 'xsgit-hbench-'));
  const child = spawn(process.execPath, [join(ROOT, 'bin/xsgit.js'), 'daemon', '--run-dir', dir, '--log-level', 'warn', ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  let gone = false;
  void exited.then(() => (gone = true));
  for (let i = 0; i < 800 && !existsSync(join(dir, 'socket')) && !gone; i++) await sleep(25);
  if (gone) throw new Error(`xsgit ${args.join(' ')} exited at start`);
  const c = await Client.connect({ path: join(dir, 'socket'), connectTimeoutMs: 20_000 });
  return { child, c, pid: child.pid ?? 0, dir, dirs: [dir, ...extraDirs] };
}

/** Stops the daemon; resolves with its exit code (null if it had to be killed). */
export async function stop(r: Running): Promise<number | null> {
  await r.c.close().catch(() => undefined);
  let code: number | null = r.child.exitCode;
  if (code === null) {
    const exited = new Promise<number | null>((res) => r.child.once('exit', (c) => res(c)));
    r.child.kill('SIGTERM');
    code = await Promise.race([exited, sleep(15_000).then(() => null)]);
    if (r.child.exitCode === null) r.child.kill('SIGKILL');
  }
  for (const d of r.dirs) rmSync(d, { recursive: true, force: true });
  return code;
}
