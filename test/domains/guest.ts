/**
 * Guests without a hypervisor: an xsgit daemon started with --guest-sockets, a dom0 client
 * on its main socket, and helpers that prepare a domain the way the toolstack does and
 * connect to RUNDIR/domains/N/socket as that domain.
 */

import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
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
 * True when the suites run over rings (XSGIT_TEST_GUESTS=ring): tests of what only a
 * socket-served guest has (its socket file, the daemon closing its connections at RELEASE)
 * or of INTRODUCE without a hypervisor (domains that do not exist, fake ports: a real
 * backend refuses them) are skipped then. Everything else runs over both.
 */
export const SOCKET_ONLY = process.env['XSGIT_TEST_GUESTS'] === 'ring';

/** A daemon serving guest sockets, with the default history retention. With
 *  XSGIT_TEST_GUESTS=ring, guests reach it over their ring pages instead (xsgit --xen on
 *  xensim, test/xen/ringGuests.ts). */
export async function startGuestDaemon(args: string[] = []): Promise<GuestDaemon> {
  if (process.env['XSGIT_TEST_GUESTS'] === 'ring') return (await import('../xen/ringGuests.js')).startRingGuestDaemon(args);
  const daemon = await startDaemon({ kind: 'xsgit', args: ['--guest-sockets', ...args] });
  return guestHarness(daemon, await daemon.connect(), (domid) => join(daemon.dir, 'domains', String(domid), 'socket'), {
    introduce: (dom0, domid) => introduceGuest(dom0, domid),
    stop: () => daemon.stop().then(() => undefined),
  });
}

/** How guests are made and the daemon stopped, for guestHarness(). */
export interface GuestTransport {
  /** Prepares and INTRODUCEs domain `domid`, after which its socket answers. */
  introduce(dom0: Client, domid: number): Promise<void>;
  stop(): Promise<void>;
}

/** A GuestDaemon over `daemon`, whose guest `domid` is reached on `socket(domid)` (a guest
 *  socket of --guest-sockets, or a relay to its ring). */
export function guestHarness(daemon: DaemonHandle, dom0: Client, socket: (domid: number) => string, how: GuestTransport): GuestDaemon {
  const clients: Client[] = [dom0];
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
    introduce: (domid) => how.introduce(dom0, domid),
    rss: () => rssOf(daemon.pid),
    usage: async (domid) => parseUsage(await dom0.control('quota', String(domid))),
    stop: async () => {
      for (const c of clients) await c.close().catch(() => undefined);
      await how.stop();
    },
  };
}

/**
 * The toolstack's part (libxl__domain_make, much reduced): the home `/local/domain/N`
 * owned by dom0 and readable by N, its `name` (the same perms), a guest-writable `data`
 * directory owned by N; then INTRODUCE.
 */
export async function introduceGuest(dom0: Client, domid: number, mfn = 0, port = 1): Promise<void> {
  const home = `/local/domain/${domid}`;
  await dom0.rm(home).catch(() => undefined);
  await dom0.write(home, '');
  await dom0.setPerms(home, ['n0', `r${domid}`]);
  await dom0.write(`${home}/name`, `guest${domid}`);
  await dom0.mkdir(`${home}/data`);
  await dom0.setPerms(`${home}/data`, [`n${domid}`]);
  await dom0.introduce(domid, mfn, port);
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

/** What dom0 went through while a guest flooded it with conflicting transactions. */
export interface FloodRun {
  /** dom0's commit latency per transaction, retries included (ms). */
  readonly lat: number[];
  readonly retries: number;
  readonly seconds: number;
  readonly guestCommits: number;
}

/**
 * `guests` connections of domain `domid` commit transactions rewriting its `data/hot` in a
 * tight loop, while dom0 runs `commits` transactions that read that node and write `writes`
 * nodes of its own, retrying on EAGAIN (XSA-206's scenario).
 */
export async function conflictFlood(g: GuestDaemon, domid: number, guests: number, commits: number, writes: number): Promise<FloodRun> {
  const hot = `/local/domain/${domid}/data/hot`;
  await g.dom0.write(hot, '0');
  await g.dom0.setPerms(hot, [`n${domid}`]);
  const conns: Client[] = [];
  for (let i = 0; i < guests; i++) conns.push(await g.guest(domid));
  let stop = false;
  let guestCommits = 0;
  const loops = conns.map(async (c, k) => {
    for (let i = 0; !stop; i++) {
      try {
        const tx = await c.transactionStart();
        await c.write('data/hot', `${k}:${i}`, tx);
        await c.transactionEnd(tx);
        guestCommits++;
      } catch (err) {
        if (!isXsError(err)) throw err;
      }
    }
  });
  await sleep(50);
  const lat: number[] = [];
  let retries = 0;
  const t0 = performance.now();
  for (let k = 0; k < commits; k++) {
    const start = performance.now();
    for (;;) {
      if (performance.now() - start > 5000) throw new Error('dom0 starved for 5 s');
      const tx = await g.dom0.transactionStart();
      await g.dom0.read(hot, tx);
      for (let j = 0; j < writes; j++) await g.dom0.write(`/fair/${domid}/${k}/${j}`, 'x', tx);
      const r = await outcome(g.dom0.transactionEnd(tx));
      if (r === 'OK') break;
      if (r !== 'EAGAIN') throw new Error(`dom0 commit: ${r}`);
      retries++;
    }
    lat.push(performance.now() - start);
  }
  const seconds = (performance.now() - t0) / 1000;
  stop = true;
  await Promise.all(loops);
  return { lat, retries, seconds, guestCommits };
}

/** A connection that reads nothing until told to (its replies pile up in the kernel, then in
 *  the daemon). */
export function mute(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ path });
    s.once('connect', () => {
      s.pause();
      resolve(s);
    });
    s.once('error', reject);
  });
}
