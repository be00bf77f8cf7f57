/**
 * What the git history costs (xsgit only; the peers keep no history). This workload starts its
 * own xsgit daemons, so that it can pass them options (`--history off`, `--git-dir DIR`), each
 * in a temporary run directory, over the client library (src/client):
 *
 * - commits/s: one client keeps 64 writes in flight for `secs` on a 10k-node store; commits are
 *   counted from `control history stats --json` after the daemon went idle;
 * - write latency with history on vs off: sequential writes (one in flight) on a 10k-node store,
 *   the daemons alternating run by run (`--history off` for the "off" side);
 * - export objects/s: `control history export DIR`, then polling `control history job ID --json`;
 * - live-mirror lag: xsgit with `--git-dir DIR` under a steady 2,000 commits/s (batches of 100
 *   every 50 ms), `mirror.lastLagMs` sampled every 500 ms, the first batch (the seeding) ignored.
 *
 * Replaces the standalone bench/history.ts.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '../../src/client/index.js';
import { settle, sleep } from '../proc.js';
import { start, stop } from '../ownDaemon.js';
import { RowSet } from '../measure.js';
import { percentileSorted } from '../stats.js';
import type { Ctx, RawRun, Workload, WorkloadResult } from '../types.js';

async function seed(c: Client, n: number): Promise<void> {
  for (let i = 0; i < n; i += 1000) {
    const b: Promise<void>[] = [];
    for (let j = i; j < Math.min(n, i + 1000); j++) b.push(c.write(`/local/domain/${j % 100}/data/k${Math.floor(j / 100)}`, `v${j}`));
    await Promise.all(b);
  }
}

const pct = (xs: number[], q: number) => percentileSorted([...xs].sort((a, b) => a - b), q) ?? 0;
const r2 = (x: number) => Math.round(x * 100) / 100;

async function stats(c: Client): Promise<{ commits: number; mirror: { lastLagMs: number; batches: number; objects: number } | null }> {
  return JSON.parse(await c.control('history', 'stats', '--json')) as { commits: number; mirror: { lastLagMs: number; batches: number; objects: number } | null };
}

/** Sequential writes (one in flight): latency per write in µs. */
async function latencies(c: Client, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    await c.write(`/local/domain/${i % 100}/data/hot`, String(i));
    out.push(Number(process.hrtime.bigint() - t) / 1000);
  }
  return out;
}

async function commitRate(secs: number): Promise<Record<string, number>> {
  const d = await start([]);
  try {
    await seed(d.c, 10_000);
    await settle(d.pid, { capMs: 5000 });
    const before = (await stats(d.c)).commits;
    const t0 = performance.now();
    const end = t0 + secs * 1000;
    let writes = 0;
    const inflight = new Set<Promise<void>>();
    while (performance.now() < end) {
      const k = writes++;
      const p: Promise<void> = d.c.write(`/local/domain/${k % 100}/data/c${k % 1000}`, String(k)).then(() => {
        inflight.delete(p);
      });
      inflight.add(p);
      if (inflight.size >= 64) await Promise.race(inflight);
    }
    await Promise.all(inflight);
    const wall = (performance.now() - t0) / 1000;
    const st = await settle(d.pid, { capMs: 5000 });
    const after = (await stats(d.c)).commits;
    return { writes, commits: after - before, secs: r2(wall), writes_per_s: Math.round(writes / wall), commits_per_s: Math.round((after - before) / wall), settle_ms: st.waitedMs };
  } finally {
    await stop(d);
  }
}

async function exportRate(commits: number): Promise<Record<string, number>> {
  const out = mkdtempSync(join(tmpdir(), 'xsgit-hbench-git-'));
  const d = await start([], [out]);
  try {
    await seed(d.c, 10_000);
    for (let i = 0; i < commits; i += 500) {
      const b: Promise<void>[] = [];
      for (let k = i; k < i + 500; k++) b.push(d.c.write(`/local/domain/${k % 100}/data/counter`, String(k)));
      await Promise.all(b);
    }
    await settle(d.pid, { capMs: 5000 });
    const t = performance.now();
    const id = await d.c.control('history', 'export', join(out, 'h.git'));
    let job: { state: string; objects: number; commits: number; ms: number; error?: string } = { state: 'running', objects: 0, commits: 0, ms: 0 };
    const deadline = Date.now() + 120_000;
    while (job.state === 'running' || job.state === 'queued') {
      if (Date.now() > deadline) throw new Error('export did not finish in 120 s');
      await sleep(50);
      job = JSON.parse(await d.c.control('history', 'job', id, '--json')) as typeof job;
    }
    if (job.state !== 'done' && job.error) throw new Error(`export ${job.state}: ${job.error}`);
    const wall = performance.now() - t;
    return { objects: job.objects, commits_exported: job.commits, export_ms: Math.round(job.ms), objects_per_s: Math.round(job.objects / (job.ms / 1000)), wall_ms: Math.round(wall) };
  } finally {
    await stop(d);
  }
}

async function mirrorLag(seconds: number, rate = 2000): Promise<Record<string, number | null>> {
  const gitDir = mkdtempSync(join(tmpdir(), 'xsgit-hbench-mirror-'));
  const d = await start(['--git-dir', join(gitDir, 'm.git')], [gitDir]);
  try {
    await seed(d.c, 10_000);
    const lags: number[] = [];
    const end = Date.now() + seconds * 1000;
    let n = 0;
    let lastSample = Date.now();
    const t0 = performance.now();
    let batchesSeen = 0;
    let tick = Date.now();
    while (Date.now() < end) {
      const b: Promise<void>[] = [];
      for (let k = 0; k < rate / 20; k++, n++) b.push(d.c.write(`/local/domain/${n % 100}/data/counter`, String(n)));
      await Promise.all(b);
      if (Date.now() - lastSample >= 500) {
        lastSample = Date.now();
        const s = await stats(d.c);
        // The first batch carries the seeding; the steady state is what the bound is about.
        if (s.mirror !== null && s.mirror.batches > 1) lags.push(s.mirror.lastLagMs);
        if (s.mirror !== null) batchesSeen = s.mirror.batches;
      }
      // Paced on an absolute schedule (a batch of rate/20 every 50 ms), so the rate holds.
      tick += 50;
      await sleep(Math.max(0, tick - Date.now()));
    }
    const achieved = n / ((performance.now() - t0) / 1000);
    return {
      rate_per_s: rate,
      achieved_per_s: Math.round(achieved),
      commits: n,
      samples: lags.length,
      batches: batchesSeen,
      lag_p50_ms: lags.length ? pct(lags, 0.5) : null,
      lag_max_ms: lags.length ? Math.max(...lags) : null,
    };
  } finally {
    await stop(d);
  }
}

export const history: Workload = {
  name: 'history',
  title: 'History: commits/s, write latency on/off, export objects/s, live-mirror lag (xsgit only)',
  implemented: true,
  smoke: false,
  async run(ctx: Ctx): Promise<WorkloadResult> {
    const s = ctx.settings;
    const rows = new RowSet();
    const runs: RawRun[] = [];
    const notes: string[] = [];
    const W = 'history';
    const X = 'xsgit';
    const full = s.mode === 'full';
    const reps = s.mode === 'smoke' ? 1 : s.reps;
    const latN = full ? 10_000 : 2000;
    const rateSecs = full ? 3 : s.mode === 'quick' ? 1 : 0.5;
    const exportCommits = full ? 20_000 : 5000;
    const mirrorSecs = full ? 10 : 4;

    // commits/s
    for (let rep = 0; rep < reps; rep++) {
      const r = await commitRate(rateSecs);
      runs.push({ workload: W, variant: 'commits/s', daemon: X, rep, tool: 'ts', result: r });
      ctx.log(`  xsgit commit rate rep ${rep}: ${r.commits_per_s} commits/s (${r.writes_per_s} writes/s, 64 in flight)`);
      const v = '1 client, 64 writes in flight, 10k nodes';
      rows.add('history.commits', { workload: W, variant: v, metric: 'commits/s ↑', better: 'higher' }, X, r.commits_per_s);
      rows.add('history.commit_writes', { workload: W, variant: v, metric: 'writes/s ↑', better: 'higher', hidden: true }, X, r.writes_per_s);
    }

    // write latency, history on vs off, alternating
    const on: number[] = [];
    const off: number[] = [];
    for (let rep = 0; rep < reps; rep++) {
      const order: [string, string[], number[]][] = [['on', [], on], ['off', ['--history', 'off'], off]];
      if (rep % 2 === 1) order.reverse();
      for (const [side, args, into] of order) {
        const d = await start(args);
        try {
          await seed(d.c, 10_000);
          await latencies(d.c, 500); // warm-up
          const l = await latencies(d.c, latN);
          into.push(...l);
          runs.push({ workload: W, variant: `write latency, history ${side}`, daemon: X, rep, tool: 'ts', result: { writes: latN, p50_us: r2(pct(l, 0.5)), p99_us: r2(pct(l, 0.99)) } });
        } finally {
          await stop(d);
        }
      }
    }
    {
      const v = '1 client, sequential writes, 10k nodes';
      const p50on = pct(on, 0.5);
      const p50off = pct(off, 0.5);
      ctx.log(`  xsgit write p50 on/off ${p50on.toFixed(1)}/${p50off.toFixed(1)} µs, p99 ${pct(on, 0.99).toFixed(0)}/${pct(off, 0.99).toFixed(0)} µs`);
      rows.set('history.lat.p50_on', { workload: W, variant: v, metric: 'write p50 µs, history on ↓', better: 'lower', digits: 1 }, X, p50on);
      rows.set('history.lat.p50_off', { workload: W, variant: v, metric: 'write p50 µs, history off ↓', better: 'lower', digits: 1 }, X, p50off);
      rows.set('history.lat.p99_on', { workload: W, variant: v, metric: 'write p99 µs, history on ↓', better: 'lower' }, X, pct(on, 0.99));
      rows.set('history.lat.p99_off', { workload: W, variant: v, metric: 'write p99 µs, history off ↓', better: 'lower' }, X, pct(off, 0.99));
      rows.set('history.lat.ratio', { workload: W, variant: v, metric: 'p50 on ÷ off ↓', better: 'lower', digits: 2 }, X, p50off > 0 ? p50on / p50off : null);
    }

    // export
    for (let rep = 0; rep < (full ? reps : 1); rep++) {
      try {
        const r = await exportRate(exportCommits);
        runs.push({ workload: W, variant: 'export', daemon: X, rep, tool: 'ts', result: r });
        ctx.log(`  xsgit export rep ${rep}: ${r.objects} objects in ${r.export_ms} ms = ${r.objects_per_s} objects/s`);
        const v = `export of the retained history (${r.commits_exported.toLocaleString('en-US')} commits, 10k nodes)`;
        rows.add('history.export.ops', { workload: W, variant: v, metric: 'objects/s ↑', better: 'higher' }, X, r.objects_per_s);
        rows.add('history.export.objects', { workload: W, variant: v, metric: 'objects', better: 'none', hidden: true }, X, r.objects);
      } catch (e) {
        notes.push(`export failed: ${(e as Error).message}`);
      }
    }

    // live mirror
    try {
      const r = await mirrorLag(mirrorSecs);
      runs.push({ workload: W, variant: 'live mirror', daemon: X, rep: 0, tool: 'ts', result: r });
      ctx.log(`  xsgit mirror at ${r.achieved_per_s} commits/s: lag p50 ${r.lag_p50_ms} ms, max ${r.lag_max_ms} ms (${r.samples} samples, ${r.batches} batches)`);
      const v = `live mirror (--git-dir), 2,000 commits/s for ${mirrorSecs} s`;
      rows.set('history.mirror.p50', { workload: W, variant: v, metric: 'mirror lag p50 ms ↓', better: 'lower' }, X, r.lag_p50_ms);
      rows.set('history.mirror.max', { workload: W, variant: v, metric: 'mirror lag max ms ↓', better: 'lower' }, X, r.lag_max_ms);
      rows.set('history.mirror.rate', { workload: W, variant: v, metric: 'commits/s achieved', better: 'none', hidden: true }, X, r.achieved_per_s);
      if (!r.samples) notes.push('live mirror: no steady-state lag sample (the mirror wrote no batch after the seeding one)');
    } catch (e) {
      notes.push(`live mirror failed: ${(e as Error).message}`);
    }

    return {
      name: W,
      title: this.title,
      params: { reps, seed_nodes: 10_000, latency_writes: latN, commit_rate_secs: rateSecs, export_commits: exportCommits, mirror_secs: mirrorSecs, mirror_rate: 2000, daemon: 'own xsgit processes (history default / --history off / --git-dir)', tool: 'ts (src/client)' },
      rows: rows.list(ctx.daemons.map((d) => d.name)),
      runs,
      notes,
    };
  },
};
