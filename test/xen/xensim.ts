/**
 * xensim (../shared/xensim, a simulated hypervisor) for the ring tests: build it once (into
 * $XENSIM_BUILD, else a temp folder: ../shared is read-only in CI), start xsgit on it
 * (`daemon --xen`) or the C daemon 4.17 (`peers.sh start c-ring`), and run the guest
 * scenarios of guest.py against either.
 */

import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildOnce, PEERS_BUILD, PEERS_DIR, REPO_ROOT, run, startDaemon, type DaemonHandle } from '../helpers/daemon.js';

export const XENSIM_SRC = process.env['XSGIT_XENSIM_SRC'] ?? resolve(REPO_ROOT, '..', 'shared', 'xensim');
export const PYTHON = '/usr/bin/python3';
const GUEST_PY = fileURLToPath(new URL('./guest.py', import.meta.url));

function built(dir: string): boolean {
  return existsSync(join(dir, 'lib', 'libxensim.so.1')) && existsSync(join(dir, 'xensim-preload.so')) && existsSync(join(dir, 'lib', 'libxenctrl.so.4.17'));
}


/** Builds xensim if needed; returns its build folder, or why it cannot be had (the only
 *  reason these tests skip). A lock folder guards test files building in parallel. */
export async function ensureXensim(): Promise<{ build: string } | { skip: string }> {
  const given = process.env['XENSIM_BUILD'];
  if (given !== undefined && given !== '' && built(given)) return { build: given };
  const build = given !== undefined && given !== '' ? given : join(tmpdir(), `xsgit-xensim-build-${process.getuid?.() ?? 0}`);
  if (built(build)) return { build };
  if (!existsSync(join(XENSIM_SRC, 'build.sh'))) return { skip: `xensim not found at ${XENSIM_SRC} (../shared/xensim)` };
  if (!existsSync(PYTHON)) return { skip: `${PYTHON} is missing (xensim's guests are Python)` };
  try {
    await buildOnce(build, () => built(build), () => run('bash', [join(XENSIM_SRC, 'build.sh')], { ...process.env, XENSIM_BUILD: build }, 120_000));
  } catch (err) {
    return { skip: `xensim cannot be built (gcc, libxen-dev?): ${(err as Error).message.split('\n').slice(0, 6).join(' ')}` };
  }
  return built(build) ? { build } : { skip: `xensim's build.sh produced no libraries in ${build}` };
}

/** A daemon serving a simulated machine. */
export interface RingDaemon {
  kind: 'xsgit' | 'c-ring' | 'ocaml-ring';
  /** $XENSIM_DIR of the machine. */
  xenDir: string;
  socket: string;
  /** xsgit only: its handle (stderr, stop). */
  handle?: DaemonHandle;
  stop(): Promise<void>;
}

/** xsgit on xensim: `XENSIM_DIR=… LD_LIBRARY_PATH=$XENSIM_BUILD/lib LD_PRELOAD=…preload.so
 *  xsgit daemon --xen --run-dir DIR`. */
export async function startXsgitOnXensim(build: string, args: string[] = []): Promise<RingDaemon> {
  const sim = mkdtempSync(join(tmpdir(), 'xsgit-sim-'));
  const xenDir = join(sim, 'xen');
  const handle = await startDaemon({
    kind: 'xsgit',
    args: ['--xen', ...args],
    env: { XENSIM_DIR: xenDir, LD_LIBRARY_PATH: join(build, 'lib'), LD_PRELOAD: join(build, 'xensim-preload.so') },
  });
  return {
    kind: 'xsgit',
    xenDir,
    socket: handle.socket,
    handle,
    stop: async () => {
      await handle.stop();
      rmSync(sim, { recursive: true, force: true });
    },
  };
}

/** Debian's C xenstored 4.17 on xensim (`peers.sh start c-ring DIR`), or oxenstored 4.17
 *  (`ocaml-ring`). */
export async function startCOnXensim(build: string, kind: 'c-ring' | 'ocaml-ring' = 'c-ring'): Promise<RingDaemon> {
  const dir = mkdtempSync(join(tmpdir(), 'xsgit-cring-'));
  const env: NodeJS.ProcessEnv = { ...process.env, XENSIM_BUILD: build, PEERS_BUILD };
  delete env['XENSTORED_PATH'];
  await run('bash', [join(PEERS_DIR, 'peers.sh'), 'start', kind, dir], env, 60_000);
  return {
    kind,
    xenDir: join(dir, 'xen'),
    socket: join(dir, 'socket'),
    stop: async () => {
      await run('bash', [join(PEERS_DIR, 'peers.sh'), 'stop', dir], env, 30_000).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs one scenario of guest.py against a daemon; its JSON result. */
export async function scenario<T = Record<string, unknown>>(d: RingDaemon, build: string, name: string, domid: number): Promise<T> {
  const env: NodeJS.ProcessEnv = { ...process.env, XENSIM_BUILD: build };
  delete env['XENSTORED_PATH'];
  const { stdout } = await run(PYTHON, [GUEST_PY, name, '--xensim', XENSIM_SRC, '--dir', d.xenDir, '--socket', d.socket, '--domid', String(domid)], env, 60_000);
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]) as T;
}
