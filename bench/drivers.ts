/**
 * Load drivers written over the raw wire client (bench/wire.ts), for what xsload cannot drive:
 * contention with per-client fairness, create latency, idle connections, watch fan-out, and a
 * fallback read/write/txn load for when xsload cannot be built.
 *
 * Every driver is bounded: by a deadline, a maximum count, or both.
 */
import { Latencies, jain } from './stats.js';
import { sleep } from './proc.js';
import { XsConn, bulkWrite, errorOf, text, type Reply } from './wire.js';

const hr = () => process.hrtime.bigint();
const secsToNs = (s: number) => BigInt(Math.round(s * 1e9));
const elapsedS = (t0: bigint) => Number(hr() - t0) / 1e9;

async function connectMany(socket: string, n: number, concurrency = 32): Promise<XsConn[]> {
  const out: XsConn[] = [];
  for (let i = 0; i < n; i += concurrency) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(concurrency, n - i) }, () => XsConn.connect(socket)),
    );
    out.push(...batch);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Contention: every client increments one node in a transaction, retrying on EAGAIN.

export interface ContendResult {
  [k: string]: unknown;
  clients: number;
  secs: number;
  ops: number;
  ops_per_s: number;
  eagain: number;
  eagain_per_commit: number;
  errors: number;
  lost_updates: number;
  jain: number | null;
  per_client: number[];
  p50_us: number | null;
  p99_us: number | null;
}

export async function contend(socket: string, clients: number, secs: number, node = '/bench/hot'): Promise<ContendResult> {
  const admin = await XsConn.connect(socket);
  let r = await admin.read(node);
  if (errorOf(r) === 'ENOENT') {
    await admin.write(node, '0');
    r = await admin.read(node);
  }
  const before = Number(text(r)) || 0;
  const conns = await connectMany(socket, clients);
  const lat = new Latencies();
  const commits = new Array<number>(clients).fill(0);
  let eagain = 0;
  let errors = 0;
  const t0 = hr();
  const deadline = t0 + secsToNs(secs);
  await Promise.all(
    conns.map(async (c, i) => {
      while (hr() < deadline) {
        const start = hr();
        for (;;) {
          let tx: number;
          try {
            tx = await c.txStart();
          } catch {
            errors++;
            return;
          }
          const rd = await c.read(node, tx);
          let e = errorOf(rd);
          if (!e) {
            const n = Number(text(rd)) || 0;
            e = errorOf(await c.write(node, String(n + 1), tx));
            if (!e) e = await c.txEnd(tx, true);
            else await c.txEnd(tx, false);
          } else {
            await c.txEnd(tx, false);
          }
          if (e === null) {
            commits[i]!++;
            lat.add(hr() - start);
            break;
          }
          if (e === 'EAGAIN') {
            eagain++;
            if (hr() >= deadline) return;
            continue;
          }
          errors++;
          return;
        }
      }
    }),
  );
  const el = elapsedS(t0);
  for (const c of conns) c.close();
  const after = Number(text(await admin.read(node))) || 0;
  admin.close();
  const ops = commits.reduce((a, b) => a + b, 0);
  return {
    clients,
    secs: el,
    ops,
    ops_per_s: ops / el,
    eagain,
    eagain_per_commit: ops ? eagain / ops : 0,
    errors,
    lost_updates: before + ops - after,
    jain: jain(commits),
    per_client: commits,
    ...lat.summary(),
  };
}

// ---------------------------------------------------------------------------------------------
// Create latency: one client creates fresh leaf nodes one at a time under `base`.

export interface CreateResult {
  [k: string]: unknown;
  ops: number;
  secs: number;
  ops_per_s: number;
  errors: number;
  p50_us: number | null;
  p99_us: number | null;
}

export async function createLatency(socket: string, base: string, secs: number, maxOps: number): Promise<CreateResult> {
  const c = await XsConn.connect(socket);
  const lat = new Latencies();
  const fan = 100;
  let errors = 0;
  let i = 0;
  const t0 = hr();
  const deadline = t0 + secsToNs(secs);
  let timedNs = 0n;
  try {
    while (i < maxOps && hr() < deadline) {
      if (i % fan === 0) {
        // The parent directory is made untimed: every timed request creates exactly one node.
        if (errorOf(await c.write(`${base}/d${i / fan}`, ''))) errors++;
      }
      const p = `${base}/d${Math.floor(i / fan)}/n${i % fan}`;
      const s = hr();
      const r = await c.write(p, 'value-0123456789');
      const d = hr() - s;
      if (errorOf(r)) errors++;
      else {
        lat.add(d);
        timedNs += d;
      }
      i++;
    }
  } finally {
    c.close();
  }
  const el = elapsedS(t0);
  return { ops: lat.count, secs: el, ops_per_s: lat.count / (Number(timedNs) / 1e9 || 1), errors, ...lat.summary() };
}

/** Removes a subtree (setup/cleanup, not measured). */
export async function removeTree(socket: string, p: string): Promise<void> {
  const c = await XsConn.connect(socket);
  try {
    await c.rm(p);
  } finally {
    c.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Idle connections: N extra connections that connect and then stay silent (like a libxenstore
// client that opened a handle and sent nothing). A request on each would cost the peers O(N) per
// request while opening, i.e. O(N^2) in all; instead the caller waits until the daemon holds them
// (see daemonFds).

export interface IdleSet {
  conns: XsConn[];
  close(): void;
}

export async function openIdle(socket: string, n: number): Promise<IdleSet> {
  const conns: XsConn[] = [];
  const close = () => {
    for (const c of conns) c.close();
    conns.length = 0;
  };
  try {
    const concurrency = 64;
    for (let i = 0; i < n; i += concurrency) {
      const batch = await Promise.all(Array.from({ length: Math.min(concurrency, n - i) }, () => XsConn.connect(socket, 2000)));
      conns.push(...batch);
    }
  } catch (e) {
    close();
    throw e;
  }
  return { conns, close };
}

// ---------------------------------------------------------------------------------------------
// Fallback throughput load (read / write / txn), used only when xsload is not available.

export interface LoadResult {
  [k: string]: unknown;
  mode: string;
  clients: number;
  secs: number;
  ops: number;
  ops_per_s: number;
  eagain: number;
  errors: number;
  p50_us: number | null;
  p99_us: number | null;
}

export async function tsPrepare(socket: string, keys: number): Promise<void> {
  const c = await XsConn.connect(socket);
  try {
    const items: [string, string][] = [];
    for (let i = 0; i < keys; i++) items.push([`/bench/r/${i}`, 'some-value-0123456789']);
    for (let i = 0; i < 256; i++) items.push([`/bench/t/${i}`, '0'], [`/bench/w/${i}`, '']);
    items.push(['/bench/hot', '0']);
    const errs = await bulkWrite(c, items);
    if (errs) throw new Error(`prepare: ${errs} writes failed`);
  } finally {
    c.close();
  }
}

export async function tsLoad(socket: string, mode: 'read' | 'write' | 'txn', clients: number, secs: number, keys = 100): Promise<LoadResult> {
  const conns = await connectMany(socket, clients);
  const lat = new Latencies();
  let ops = 0;
  let eagain = 0;
  let errors = 0;
  const t0 = hr();
  const deadline = t0 + secsToNs(secs);
  await Promise.all(
    conns.map(async (c, id) => {
      let i = 0;
      let seed = 12345 + id;
      while (hr() < deadline) {
        const s = hr();
        let e: string | null = null;
        if (mode === 'read') {
          seed = (seed * 1103515245 + 12345) >>> 0;
          e = errorOf(await c.read(`/bench/r/${(seed >>> 8) % keys}`));
        } else if (mode === 'write') {
          e = errorOf(await c.write(`/bench/w/${id}/${i % keys}`, String(i)));
        } else {
          const p = `/bench/t/${id}`;
          const tx = await c.txStart();
          const v = await c.read(p, tx);
          e = errorOf(v) ?? errorOf(await c.write(p, String((Number(text(v)) || 0) + 1), tx));
          if (e) await c.txEnd(tx, false);
          else e = await c.txEnd(tx, true);
          if (e === 'EAGAIN') eagain++;
        }
        if (e) errors++;
        else {
          ops++;
          lat.add(hr() - s);
        }
        i++;
      }
    }),
  );
  const el = elapsedS(t0);
  for (const c of conns) c.close();
  return { mode, clients, secs: el, ops, ops_per_s: ops / el, eagain, errors, ...lat.summary() };
}

// ---------------------------------------------------------------------------------------------
// Watch fan-out: G guests, each with `perGuest` narrow watches (one on its backend `state`, the
// rest on keys nobody writes, like a guest's control/* watches), plus one wide subtree watch (a
// dom0 backend driver). One writer churns the guests' `state` nodes; every write must produce two
// events (narrow + wide). At most 100 watches per connection (below every daemon's quota).
// Set up once (setup), measured any number of times (churn), then torn down (teardown).

export interface FanoutResult {
  [k: string]: unknown;
  watches: number;
  watch_conns: number;
  register_secs: number;
  writes: number;
  secs: number;
  writes_per_s: number;
  write_p50_us: number | null;
  write_p99_us: number | null;
  event_p50_us: number | null;
  event_p99_us: number | null;
  wide_event_p50_us: number | null;
  wide_event_p99_us: number | null;
  events_expected: number;
  events_received: number;
  errors: number;
}

export class WatchFanout {
  static readonly base = '/bench/fan';
  private readonly sendAt: bigint[];
  private narrow = new Latencies();
  private wide = new Latencies();
  private received = 0;
  private counting = false;
  private initial = 0;
  private seq = 0;
  errors = 0;
  registerSecs = 0;

  private constructor(
    private readonly writer: XsConn,
    private readonly conns: XsConn[],
    readonly watches: number,
    private readonly guests: number,
  ) {
    this.sendAt = new Array<bigint>(guests).fill(0n);
  }

  static async setup(socket: string, watches: number, guests = 1000): Promise<WatchFanout> {
    const base = WatchFanout.base;
    const perGuest = Math.max(1, Math.round((watches - 1) / guests));
    const writer = await XsConn.connect(socket);
    const items: [string, string][] = [];
    for (let g = 0; g < guests; g++) items.push([`${base}/g${g}/state`, '1']);
    const setupErrors = await bulkWrite(writer, items);
    const list: { path: string; token: string }[] = [];
    for (let g = 0; g < guests; g++) {
      list.push({ path: `${base}/g${g}/state`, token: 'n' });
      for (let k = 1; k < perGuest; k++) list.push({ path: `${base}/g${g}/ctl${k}`, token: 'q' });
    }
    const perConn = 100;
    const nConns = Math.ceil(list.length / perConn) + 1;
    const conns = await connectMany(socket, nConns);
    const f = new WatchFanout(writer, conns, list.length + 1, guests);
    f.errors = setupErrors;
    const listener = (p: string, token: string, at: bigint) => f.onEvent(p, token, at);
    for (const c of conns) c.onWatch = listener;
    const t0 = hr();
    // Registration, pipelined per connection; the wide watch goes on the last connection.
    const regs: Promise<Reply>[] = [];
    for (let i = 0; i < list.length; i++) regs.push(conns[Math.floor(i / perConn)]!.watch(list[i]!.path, list[i]!.token));
    regs.push(conns[nConns - 1]!.watch(base, 'w'));
    for (const r of await Promise.all(regs)) if (errorOf(r)) f.errors++;
    // Each registration fires one initial event; wait for them (bounded) before measuring.
    for (let i = 0; i < 400 && f.initial < f.watches; i++) await sleep(25);
    f.registerSecs = elapsedS(t0);
    return f;
  }

  private onEvent(p: string, token: string, at: bigint): void {
    if (!this.counting) {
      this.initial++;
      return;
    }
    if (token === 'q') return;
    const base = WatchFanout.base;
    const g = Number(p.slice(base.length + 2, p.indexOf('/', base.length + 2)));
    const s = this.sendAt[g];
    if (s === undefined || s === 0n) return;
    this.received++;
    (token === 'w' ? this.wide : this.narrow).add(at - s);
  }

  /** One measurement: the writer churns `state` nodes for `secs`. */
  async churn(secs: number): Promise<FanoutResult> {
    this.narrow = new Latencies();
    this.wide = new Latencies();
    this.received = 0;
    this.sendAt.fill(0n);
    this.counting = true;
    const errors0 = this.errors;
    const lat = new Latencies();
    let writes = 0;
    const t0 = hr();
    const deadline = t0 + secsToNs(secs);
    while (hr() < deadline) {
      const g = this.seq % this.guests;
      const s = hr();
      this.sendAt[g] = s;
      const r = await this.writer.write(`${WatchFanout.base}/g${g}/state`, String(this.seq++));
      if (errorOf(r)) this.errors++;
      else lat.add(hr() - s);
      writes++;
    }
    const el = elapsedS(t0);
    const expected = writes * 2;
    for (let i = 0; i < 100 && this.received < expected; i++) await sleep(10);
    const n = this.narrow.summary();
    const w = this.wide.summary();
    const wl = lat.summary();
    return {
      watches: this.watches,
      watch_conns: this.conns.length,
      register_secs: this.registerSecs,
      writes,
      secs: el,
      writes_per_s: writes / el,
      write_p50_us: wl.p50_us,
      write_p99_us: wl.p99_us,
      event_p50_us: n.p50_us,
      event_p99_us: n.p99_us,
      wide_event_p50_us: w.p50_us,
      wide_event_p99_us: w.p99_us,
      events_expected: expected,
      events_received: this.received,
      errors: this.errors - errors0,
    };
  }

  async teardown(): Promise<void> {
    for (const c of this.conns) c.close();
    await this.writer.rm(WatchFanout.base);
    this.writer.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Fallbacks for the growth workload when xsload is not available (same node layout as
// `xsload seed` / `xsload seedwrite`: /bench/seed/d<i/fan>/n<i%fan>).

export async function tsSeed(socket: string, from: number, to: number, fan = 1000): Promise<{ [k: string]: unknown; writes_per_s: number; errors: number }> {
  const c = await XsConn.connect(socket);
  const t0 = hr();
  try {
    function* items(): Generator<[string, string]> {
      for (let i = from; i < to; i++) yield [`/bench/seed/d${Math.floor(i / fan)}/n${i % fan}`, `value-${String(i).padStart(8, '0')}`];
    }
    const errors = await bulkWrite(c, items(), 32);
    return { from, to, writes_per_s: (to - from) / elapsedS(t0), errors };
  } finally {
    c.close();
  }
}

export async function tsSeedWrite(socket: string, size: number, secs: number, fan = 1000): Promise<LoadResult> {
  const c = await XsConn.connect(socket);
  const lat = new Latencies();
  let ops = 0;
  let errors = 0;
  let seed = 4242;
  const t0 = hr();
  const deadline = t0 + secsToNs(secs);
  try {
    while (hr() < deadline) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      const r = seed % size;
      const s = hr();
      const e = errorOf(await c.write(`/bench/seed/d${Math.floor(r / fan)}/n${r % fan}`, `v${ops}`));
      if (e) errors++;
      else {
        ops++;
        lat.add(hr() - s);
      }
    }
  } finally {
    c.close();
  }
  const el = elapsedS(t0);
  return { mode: 'seedwrite', clients: 1, secs: el, ops, ops_per_s: ops / el, eagain: 0, errors, ...lat.summary() };
}
