/**
 * Running the shared libxenstore load generator (../shared/peers/xsload.c, built by
 * `peers.sh build`) and parsing its one-line key=value output.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export type KV = Record<string, number | string>;

export function parseKV(line: string): KV {
  const out: KV = {};
  for (const tok of line.trim().split(/\s+/)) {
    const i = tok.indexOf('=');
    if (i <= 0) continue;
    const k = tok.slice(0, i);
    const v = tok.slice(i + 1);
    const n = Number(v);
    out[k] = v !== '' && Number.isFinite(n) ? n : v;
  }
  return out;
}

export interface ToolPaths {
  shared: string;
  peersSh: string;
  /** Where peers.sh puts (or finds) xsload and xenshim.so. */
  peersBuild: string;
  xsload: string | null;
}

/**
 * Locates peers.sh and a built xsload: $XSLOAD, else $PEERS_BUILD, else ../shared/peers/build,
 * else a private folder under the system temp dir, building there with `peers.sh build` if needed.
 */
export function locateTools(shared: string, log: (s: string) => void, build = true): ToolPaths {
  const peersSh = path.join(shared, 'peers', 'peers.sh');
  const candidates: string[] = [];
  if (process.env.PEERS_BUILD) candidates.push(process.env.PEERS_BUILD);
  candidates.push(path.join(shared, 'peers', 'build'));
  const uid = typeof process.getuid === 'function' ? process.getuid() : 0;
  const priv = path.join(os.tmpdir(), `xsgit-bench-peers-${uid}`);
  candidates.push(priv);
  if (process.env.XSLOAD && existsSync(process.env.XSLOAD)) {
    const dir = path.dirname(process.env.XSLOAD);
    return { shared, peersSh, peersBuild: process.env.PEERS_BUILD ?? dir, xsload: process.env.XSLOAD };
  }
  for (const c of candidates) {
    if (existsSync(path.join(c, 'xsload')) && existsSync(path.join(c, 'xenshim.so'))) {
      return { shared, peersSh, peersBuild: c, xsload: path.join(c, 'xsload') };
    }
  }
  if (!build || !existsSync(peersSh)) return { shared, peersSh, peersBuild: priv, xsload: null };
  // Build into PEERS_BUILD if given, else into the private folder (../shared may be read-only).
  const target = process.env.PEERS_BUILD ?? priv;
  mkdirSync(target, { recursive: true });
  log(`building xsload and xenshim.so into ${target} (peers.sh build)`);
  const r = spawnSync('bash', [peersSh, 'build'], {
    env: { ...process.env, PEERS_BUILD: target },
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (r.status !== 0 || !existsSync(path.join(target, 'xsload'))) {
    log(`peers.sh build failed: ${(r.stderr || r.stdout || '').trim().split('\n').slice(-3).join(' | ')}`);
    return { shared, peersSh, peersBuild: target, xsload: null };
  }
  return { shared, peersSh, peersBuild: target, xsload: path.join(target, 'xsload') };
}

export interface XsloadResult {
  kv: KV;
  line: string;
  rc: number | null;
  stderr: string;
  timedOut: boolean;
}

/** Runs xsload against a socket; never throws; kills it after `timeoutMs`. */
export function runXsload(
  xsload: string,
  socket: string,
  pid: number,
  args: (string | number)[],
  timeoutMs: number,
): Promise<XsloadResult> {
  return new Promise((resolve) => {
    const env = { ...process.env };
    delete env.XENSTORED_PATH;
    const child = spawn(xsload, ['-s', socket, '-p', String(pid), ...args.map(String)], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      if (err.length < 4000) err += d;
    });
    const t = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    const finish = (rc: number | null) => {
      clearTimeout(t);
      const lines = out.trim().split('\n').filter(Boolean);
      const line = lines.length ? lines[lines.length - 1]! : '';
      resolve({ kv: parseKV(line), line, rc, stderr: err.trim(), timedOut });
    };
    child.on('error', (e) => {
      err += String(e);
      finish(null);
    });
    child.on('close', (code) => finish(code));
  });
}
