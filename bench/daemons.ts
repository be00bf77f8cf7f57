/**
 * Starting and stopping the daemons under test, each in its own run directory (socket DIR/socket,
 * pid DIR/pid): xsgit (`node bin/xsgit.js daemon --run-dir DIR`, history on, default settings) and
 * the Debian peers through ../shared/peers/peers.sh (`c` = C xenstored, `ocaml` = oxenstored).
 *
 * To add another daemon kind, add a `start*` function returning a Daemon and a case in
 * startDaemon().
 */
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { alive, sleep } from './proc.js';
import { XsConn } from './wire.js';

export type DaemonKind = 'xsgit' | 'c' | 'ocaml';
export const ALL_KINDS: readonly DaemonKind[] = ['xsgit', 'c', 'ocaml'];

export const DAEMON_LABEL: Record<DaemonKind, string> = {
  xsgit: 'xsgit',
  c: 'C xenstored',
  ocaml: 'oxenstored',
};

export interface Daemon {
  name: DaemonKind;
  dir: string;
  socket: string;
  pid: number;
  version: string;
  log: string;
  stop(): Promise<void>;
}

export interface StartContext {
  root: string;
  peersSh: string;
  peersBuild: string;
  log: (s: string) => void;
}

export async function startDaemon(kind: DaemonKind, dir: string, ctx: StartContext): Promise<Daemon> {
  mkdirSync(dir, { recursive: true });
  switch (kind) {
    case 'xsgit':
      return startXsgit(dir, ctx);
    case 'c':
    case 'ocaml':
      return startPeer(kind, dir, ctx);
  }
}

function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  // A client-side XENSTORED_PATH must not make a daemon listen elsewhere.
  delete env.XENSTORED_PATH;
  return env;
}

async function waitConnectable(socket: string, pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!alive(pid)) return false;
    if (existsSync(socket)) {
      try {
        const c = await XsConn.connect(socket, 0);
        const r = await Promise.race([c.read('/'), sleep(2000).then(() => null)]);
        c.close();
        if (r) return true;
      } catch {
        /* not yet */
      }
    }
    await sleep(100);
  }
  return false;
}

function readPid(file: string): number | null {
  try {
    const n = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(n) && n > 0 ? n : null;
  } catch {
    return null;
  }
}

async function startXsgit(dir: string, ctx: StartContext): Promise<Daemon> {
  const log = path.join(dir, 'daemon.log');
  const out = createWriteStream(log);
  const bin = path.join(ctx.root, 'bin', 'xsgit.js');
  const child = spawn(process.execPath, [bin, 'daemon', '--run-dir', dir], {
    cwd: ctx.root,
    env: cleanEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let exited: string | null = null;
  child.on('exit', (code, sig) => (exited = `exited code=${code} signal=${sig}`));
  child.on('error', (e) => (exited = `failed to spawn: ${e.message}`));
  child.stderr.pipe(out, { end: false });
  const ready = await new Promise<boolean>((resolve) => {
    let seen = '';
    const t = setTimeout(() => resolve(false), 60_000);
    child.stdout.on('data', (d: Buffer) => {
      out.write(d);
      if (seen.length < 65536) seen += d.toString('utf8');
      if (/export XENSTORED_PATH=/.test(seen)) {
        clearTimeout(t);
        resolve(true);
      }
    });
    child.on('exit', () => {
      clearTimeout(t);
      resolve(false);
    });
  });
  const socket = path.join(dir, 'socket');
  const pid = readPid(path.join(dir, 'pid')) ?? child.pid ?? 0;
  const stop = async () => {
    const p = pid;
    if (p && alive(p)) {
      try {
        process.kill(p, 'SIGTERM');
      } catch {
        /* gone */
      }
      for (let i = 0; i < 100 && alive(p); i++) await sleep(100);
      if (alive(p)) process.kill(p, 'SIGKILL');
    }
    if (child.exitCode === null && child.pid && alive(child.pid)) child.kill('SIGKILL');
    out.end();
  };
  if (!ready || !(await waitConnectable(socket, pid, 20_000))) {
    await stop();
    const tail = existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').slice(-5).join(' | ') : '';
    throw new Error(`xsgit did not come up (${exited ?? 'no ready line'}); log ${log}: ${tail}`);
  }
  return { name: 'xsgit', dir, socket, pid, version: xsgitVersion(ctx.root), log, stop };
}

function xsgitVersion(root: string): string {
  let v = '';
  try {
    v = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).version ?? '';
  } catch {
    /* none */
  }
  const g = spawnSync('git', ['-C', root, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' });
  let commit = g.status === 0 ? g.stdout.trim() : 'uncommitted';
  const st = spawnSync('git', ['-C', root, 'status', '--porcelain', '--untracked-files=no', '--', 'src', 'bin'], { encoding: 'utf8' });
  if (st.status === 0 && st.stdout.trim()) commit += '+dirty';
  // dist/ is what runs: say when it was built (the newest compiled file).
  let newest = 0;
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.js')) newest = Math.max(newest, statSync(p).mtimeMs);
    }
  };
  try {
    walk(path.join(root, 'dist', 'src'));
  } catch {
    /* no dist */
  }
  const built = newest ? `, dist built ${new Date(newest).toISOString().replace(/\.\d+Z$/, 'Z')}` : '';
  return `xsgit ${v} (${commit}${built})`;
}

function peerVersion(): string {
  const r = spawnSync('dpkg-query', ['-W', '-f', '${Version}', 'xen-utils-4.17'], { encoding: 'utf8' });
  return r.status === 0 ? `xen-utils-4.17 ${r.stdout.trim()}` : 'xen-utils-4.17 (version unknown)';
}

async function startPeer(kind: 'c' | 'ocaml', dir: string, ctx: StartContext): Promise<Daemon> {
  const env = { ...cleanEnv(), PEERS_BUILD: ctx.peersBuild };
  const r = spawnSync('bash', [ctx.peersSh, 'start', kind, dir], { env, encoding: 'utf8', timeout: 60_000 });
  const socket = path.join(dir, 'socket');
  const pid = readPid(path.join(dir, 'pid'));
  const stop = async () => {
    if (existsSync(path.join(dir, 'pid'))) {
      spawnSync('bash', [ctx.peersSh, 'stop', dir], { env, encoding: 'utf8', timeout: 30_000 });
    }
  };
  if (r.status !== 0 || !pid || !(await waitConnectable(socket, pid, 10_000))) {
    await stop();
    const why = (r.stderr || r.stdout || '').trim().split('\n').slice(-3).join(' | ');
    throw new Error(`peers.sh start ${kind} failed: ${why}`);
  }
  return { name: kind, dir, socket, pid, version: peerVersion(), log: path.join(dir, 'daemon.log'), stop };
}
