/**
 * Start a daemon for a test: xsgit (`node bin/xsgit.js daemon --run-dir <tmp>`), or,
 * with XSGIT_TEST_PEER=c, Debian's C xenstored through ../shared/peers/peers.sh, so
 * the same suite can be checked against the reference daemon.
 */

import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, rmdirSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll } from 'vitest';
import { Client } from '../../src/client/index.js';

export type DaemonKind = 'xsgit' | 'c' | 'ocaml';

/** The repository root. */
export const REPO_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/** Which daemon the suite runs against: $XSGIT_TEST_PEER (c, ocaml), else xsgit. */
export const TEST_PEER: DaemonKind = parseKind(process.env['XSGIT_TEST_PEER']);

/** True when the suite runs against the C reference daemon (for documented divergences). */
export const AGAINST_C = TEST_PEER === 'c';

function parseKind(v: string | undefined): DaemonKind {
  if (v === undefined || v === '' || v === 'xsgit') return 'xsgit';
  if (v === 'c' || v === 'xenstored') return 'c';
  if (v === 'ocaml' || v === 'oxenstored') return 'ocaml';
  throw new Error(`XSGIT_TEST_PEER=${v}: expected c, ocaml or xsgit`);
}

/** Arguments every xsgit daemon of the run gets ($XSGIT_TEST_DAEMON_ARGS, space-separated):
 *  the `history-off` project of vitest.config.ts runs the protocol suite with `--history off`. */
const EXTRA_ARGS = (process.env['XSGIT_TEST_DAEMON_ARGS'] ?? '').split(' ').filter((a) => a !== '');

export interface StartOptions {
  /** Extra command-line arguments for `xsgit daemon` (ignored for peers). */
  args?: string[];
  /** Default: TEST_PEER. */
  kind?: DaemonKind;
  /** Extra environment for the daemon. */
  env?: Record<string, string>;
  /** How long to wait for the socket (ms). Default 20000. */
  timeoutMs?: number;
  /** Keep the run directory after stop(). */
  keepDir?: boolean;
}

export interface StopResult {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface DaemonHandle {
  kind: DaemonKind;
  /** The run directory (fresh, under the system temp dir). */
  dir: string;
  socket: string;
  /** process.env plus XENSTORED_PATH=socket, for clients. */
  env: NodeJS.ProcessEnv;
  pid: number;
  /** What the daemon printed so far (xsgit only; peers log to dir/daemon.log). */
  stdout(): string;
  stderr(): string;
  /** A new client connection. */
  connect(): Promise<Client>;
  /** SIGTERM, then wait for the exit (SIGKILL after 10 s). */
  stop(): Promise<StopResult>;
}

// ---------------------------------------------------------------- peers

/** ../shared/peers (override: $XSGIT_PEERS_DIR). */
export const PEERS_DIR = process.env['XSGIT_PEERS_DIR'] ?? resolve(REPO_ROOT, '..', 'shared', 'peers');

/** Where peers.sh puts its build: $PEERS_BUILD, else a folder in the temp dir (../shared may be read-only). */
export const PEERS_BUILD = process.env['PEERS_BUILD'] || join(tmpdir(), `xsgit-peers-build-${process.getuid?.() ?? 0}`);

/** Runs a command to completion; rejects with its output when it fails or takes too long. */
export function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    execFile(cmd, args, { env, timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')} failed: ${err.message}\n${stdout}\n${stderr}`));
      else resolvePromise({ stdout, stderr });
    });
  });
}

/**
 * Runs `build` once across test files running in parallel: `done()` says whether the result is
 * there; a lock folder `dir/.lock` lets one file build while the others wait (a lock left by a
 * killed build is taken over after a minute). Throws after two minutes of waiting.
 */
export async function buildOnce(dir: string, done: () => boolean, build: () => Promise<unknown>): Promise<void> {
  if (done()) return;
  mkdirSync(dir, { recursive: true });
  const lock = join(dir, '.lock');
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (done()) return;
      try {
        if (Date.now() - statSync(lock).mtimeMs > 60_000) rmdirSync(lock);
      } catch {
        /* gone meanwhile */
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for the build lock ${lock}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  try {
    if (!done()) await build();
  } finally {
    rmdirSync(lock);
  }
}

/** Build the peers' LD_PRELOAD shim once. */
export async function ensurePeersBuilt(): Promise<void> {
  await buildOnce(
    PEERS_BUILD,
    () => existsSync(join(PEERS_BUILD, 'xenshim.so')),
    () => run('bash', [join(PEERS_DIR, 'peers.sh'), 'build'], { ...process.env, PEERS_BUILD }, 120_000),
  );
}

// ---------------------------------------------------------------- helpers

const live = new Set<{ kill(): void }>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const l of live) l.kill();
  });
}

function canConnect(socket: string): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const s = connect({ path: socket });
    s.once('connect', () => {
      s.destroy();
      resolvePromise(true);
    });
    s.once('error', () => resolvePromise(false));
  });
}

function freshDir(): string {
  // Short, so that DIR/socket stays far below the 108-byte sun_path limit.
  return mkdtempSync(join(tmpdir(), 'xsgit-'));
}

function clientEnv(socket: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, XENSTORED_PATH: socket };
  delete env['XENSTORED_RUNDIR'];
  return env;
}

function daemonEnv(extra: Record<string, string> | undefined): NodeJS.ProcessEnv {
  // A client's XENSTORED_PATH left in the environment must not steer the daemon.
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  delete env['XENSTORED_PATH'];
  delete env['XENSTORED_RUNDIR'];
  return env;
}

// ---------------------------------------------------------------- start

export async function startDaemon(options: StartOptions = {}): Promise<DaemonHandle> {
  const kind = options.kind ?? TEST_PEER;
  installExitHook();
  return kind === 'xsgit' ? startXsgit(options) : startPeer(kind, options);
}

async function startXsgit(options: StartOptions): Promise<DaemonHandle> {
  const dir = freshDir();
  const socket = join(dir, 'socket');
  const timeoutMs = options.timeoutMs ?? 20_000;
  const bin = join(REPO_ROOT, 'bin', 'xsgit.js');
  const child: ChildProcess = spawn(process.execPath, [bin, 'daemon', '--run-dir', dir, ...EXTRA_ARGS, ...(options.args ?? [])], {
    cwd: REPO_ROOT,
    env: daemonEnv(options.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<StopResult>((resolvePromise) => {
    child.once('exit', (code, signal) => resolvePromise({ code, signal }));
  });
  let hasExited = false;
  void exited.then(() => (hasExited = true));
  const entry = { kill: () => void child.kill('SIGKILL') };
  live.add(entry);

  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (hasExited || child.exitCode !== null) {
      live.delete(entry);
      const r = await exited;
      if (!options.keepDir) rmSync(dir, { recursive: true, force: true });
      throw new Error(
        `xsgit daemon exited (code ${r.code}, signal ${r.signal}) before accepting connections on ${socket}\n` +
          `stdout:\n${out}\nstderr:\n${err}`,
      );
    }
    if (existsSync(socket) && (await canConnect(socket))) {
      // The daemon prints its export line when ready; the pipe may deliver it a moment after
      // the socket answers. Give it a little time (a missing line is for the CLI tests to catch).
      const lineBy = Date.now() + 2000;
      while (!out.includes('export XENSTORED_PATH=') && !hasExited && Date.now() < lineBy) {
        await new Promise((r) => setTimeout(r, 10));
      }
      break;
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      await exited;
      live.delete(entry);
      if (!options.keepDir) rmSync(dir, { recursive: true, force: true });
      throw new Error(`xsgit daemon did not accept connections on ${socket} within ${timeoutMs} ms\nstdout:\n${out}\nstderr:\n${err}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }

  let stopped: Promise<StopResult> | undefined;
  return {
    kind: 'xsgit',
    dir,
    socket,
    env: clientEnv(socket),
    pid: child.pid ?? -1,
    stdout: () => out,
    stderr: () => err,
    connect: () => Client.connect({ path: socket }),
    stop: () => {
      stopped ??= (async () => {
        if (!hasExited) child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        const r = await exited;
        clearTimeout(timer);
        live.delete(entry);
        if (!options.keepDir) rmSync(dir, { recursive: true, force: true });
        return r;
      })();
      return stopped;
    },
  };
}

async function startPeer(kind: 'c' | 'ocaml', options: StartOptions): Promise<DaemonHandle> {
  await ensurePeersBuilt();
  const dir = freshDir();
  const socket = join(dir, 'socket');
  const peers = join(PEERS_DIR, 'peers.sh');
  const env = { ...daemonEnv(options.env), PEERS_BUILD };
  try {
    await run('bash', [peers, 'start', kind, dir], env, options.timeoutMs ?? 30_000);
  } catch (err) {
    await run('bash', [peers, 'stop', dir], env, 20_000).catch(() => undefined);
    if (!options.keepDir) rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const pid = Number.parseInt(readFileSync(join(dir, 'pid'), 'utf8').trim(), 10);
  const entry = {
    kill: () => {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    },
  };
  live.add(entry);
  let stopped: Promise<StopResult> | undefined;
  const logFile = join(dir, 'daemon.log');
  const readLog = (): string => {
    try {
      return readFileSync(logFile, 'utf8');
    } catch {
      return '';
    }
  };
  return {
    kind,
    dir,
    socket,
    env: clientEnv(socket),
    pid,
    stdout: readLog,
    stderr: () => '',
    connect: () => Client.connect({ path: socket }),
    stop: () => {
      stopped ??= (async () => {
        await run('bash', [peers, 'stop', dir], env, 20_000);
        live.delete(entry);
        if (!options.keepDir) rmSync(dir, { recursive: true, force: true });
        return { code: null, signal: 'SIGTERM' as NodeJS.Signals };
      })();
      return stopped;
    },
  };
}

/** One daemon and one client for a whole test file (started in beforeAll, stopped in
 *  afterAll); read `daemon` and `c` inside the tests. */
export function sharedClient(options: StartOptions = {}): { readonly daemon: DaemonHandle; readonly c: Client } {
  const t = {} as { daemon: DaemonHandle; c: Client };
  beforeAll(async () => {
    t.daemon = await startDaemon(options);
    t.c = await t.daemon.connect();
  });
  afterAll(async () => {
    await t.c?.close();
    await t.daemon?.stop();
  });
  return t;
}
