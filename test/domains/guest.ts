/**
 * Guests without a hypervisor: an xsgit daemon started with --guest-sockets, a dom0 client
 * on its main socket, and helpers that prepare a domain the way the toolstack does and
 * connect to RUNDIR/domains/N/socket as that domain.
 */

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, isXsError } from '../../src/client/index.js';
import { startDaemon, type DaemonHandle } from '../helpers/daemon.js';
import { RawConn } from '../helpers/raw.js';

export interface GuestDaemon {
  daemon: DaemonHandle;
  /** A dom0 (privileged) client on the main socket. */
  dom0: Client;
  /** RUNDIR/domains/<domid>/socket. */
  socket(domid: number): string;
  /** A client connected as domain `domid`. */
  guest(domid: number): Promise<Client>;
  /** A raw-protocol connection as domain `domid`. */
  raw(domid: number): Promise<RawConn>;
  /** The environment that points the Debian tools and pyxs at domain `domid`'s socket. */
  env(domid: number): NodeJS.ProcessEnv;
  /** Prepares /local/domain/<domid> as libxl does and INTRODUCEs it. */
  introduce(domid: number): Promise<void>;
  /** The daemon's resident set size in bytes. */
  rss(): number;
  /** CONTROL quota <domid>, parsed: name → used. */
  usage(domid: number): Promise<Record<string, number>>;
  stop(): Promise<void>;
}

/**
 * A daemon serving guest sockets. History pruning is pushed out of reach
 * (`--history all:1000000`): with the default retention, pruning after a few thousand
 * commits stalls the event loop for seconds (measured: 1.2 s and 5.9 s after 5,000 dom0
 * writes), which would swamp the latencies these tests measure.
 */
export async function startGuestDaemon(args: string[] = []): Promise<GuestDaemon> {
  const daemon = await startDaemon({ kind: 'xsgit', args: ['--guest-sockets', '--history', 'all:1000000', ...args] });
  const dom0 = await daemon.connect();
  const clients: Client[] = [dom0];
  const socket = (domid: number): string => join(daemon.dir, 'domains', String(domid), 'socket');
  return {
    daemon,
    dom0,
    socket,
    guest: async (domid) => {
      const c = await Client.connect({ path: socket(domid) });
      clients.push(c);
      return c;
    },
    raw: (domid) => RawConn.connect(socket(domid)),
    env: (domid) => ({ ...daemon.env, XENSTORED_PATH: socket(domid) }),
    introduce: (domid) => introduceGuest(dom0, domid),
    rss: () => rssOf(daemon.pid),
    usage: async (domid) => parseUsage(await dom0.control('quota', String(domid))),
    stop: async () => {
      for (const c of clients) await c.close().catch(() => undefined);
      await daemon.stop();
    },
  };
}

/**
 * The toolstack's part (libxl__domain_make, much reduced): the home `/local/domain/N`
 * owned by dom0 and readable by N, its `name` (the same perms), a guest-writable `data`
 * directory owned by N; then INTRODUCE.
 */
export async function introduceGuest(dom0: Client, domid: number): Promise<void> {
  const home = `/local/domain/${domid}`;
  await dom0.rm(home).catch(() => undefined);
  await dom0.write(home, '');
  await dom0.setPerms(home, ['n0', `r${domid}`]);
  await dom0.write(`${home}/name`, `guest${domid}`);
  await dom0.mkdir(`${home}/data`);
  await dom0.setPerms(`${home}/data`, [`n${domid}`]);
  await dom0.introduce(domid, 0, 1);
}

/** The error name a promise rejects with, or 'OK'. */
export async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'OK';
  } catch (err) {
    if (isXsError(err)) return err.code;
    throw err;
  }
}

export function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  if (m === null) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]) * 1024;
}

/** `name: value ...` lines of CONTROL quota <domid>. */
export function parseUsage(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = /^(\S+)\s*:\s*(-?\d+)/.exec(line);
    if (m !== null) out[m[1]] = Number(m[2]);
  }
  return out;
}

/** Counts the nodes under `path` (inclusive) whose owner is `domid`, as dom0 sees them. */
export async function ownedUnder(dom0: Client, path: string, domid: number): Promise<number> {
  let n = 0;
  const stack = [path];
  while (stack.length > 0) {
    const p = stack.pop()!;
    const perms = await dom0.getPerms(p);
    if (perms[0].slice(1) === String(domid)) n++;
    for (const k of await dom0.directory(p)) stack.push(p === '/' ? `/${k}` : `${p}/${k}`);
  }
  return n;
}

export const MiB = 1024 * 1024;

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** p-th percentile (0..100) of numbers. */
export function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}
