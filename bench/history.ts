/**
 * What the git history costs (issue 3): write latency with history on vs off, export
 * throughput in objects/s, and the live mirror's lag under a steady load.
 *
 *   npm run build && node dist/bench/history.js [--quick]
 *
 * Prints a table and saves bench/results/history-<date>.json.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '../src/client/index.js';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const quick = process.argv.includes('--quick');

interface Running {
  child: ChildProcess;
  c: Client;
}

async function start(args: string[]): Promise<Running> {
  const dir = mkdtempSync(join(tmpdir(), 'xsgit-hbench-'));
  const child = spawn(process.execPath, [join(ROOT, 'bin/xsgit.js'), 'daemon', '--run-dir', dir, '--log-level', 'warn', ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
  for (let i = 0; i < 200 && !existsSync(join(dir, 'pid')); i++) await new Promise((r) => setTimeout(r, 25));
  return { child, c: await Client.connect({ path: join(dir, 'socket') }) };
}

async function stop(r: Running): Promise<void> {
  await r.c.close();
  r.child.kill('SIGTERM');
  await new Promise((res) => r.child.once('exit', res));
}

async function seed(c: Client, n: number): Promise<void> {
  for (let i = 0; i < n; i += 1000) {
    const b: Promise<void>[] = [];
    for (let j = i; j < Math.min(n, i + 1000); j++) b.push(c.write(`/local/domain/${j % 100}/data/k${Math.floor(j / 100)}`, `v${j}`));
    await Promise.all(b);
  }
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

/** Sequential writes (one in flight), latency per write in µs. */
async function latencies(c: Client, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    await c.write(`/local/domain/${i % 100}/data/hot`, String(i));
    out.push(Number(process.hrtime.bigint() - t) / 1000);
  }
  return out;
}

async function writeLatency(): Promise<Record<string, number>> {
  const runs = quick ? 1 : 3;
  const n = quick ? 2000 : 10000;
  const on: number[] = [];
  const off: number[] = [];
  for (let r = 0; r < runs; r++) {
    for (const [args, into] of [[[], on], [['--history', 'off'], off]] as [string[], number[]][]) {
      const d = await start(args);
      await seed(d.c, 10000);
      await latencies(d.c, 500); // warm-up
      into.push(...(await latencies(d.c, n)));
      await stop(d);
    }
  }
  return { p50_on_us: pct(on, 50), p99_on_us: pct(on, 99), p50_off_us: pct(off, 50), p99_off_us: pct(off, 99), p50_ratio: pct(on, 50) / pct(off, 50) };
}

async function exportThroughput(): Promise<Record<string, number>> {
  const d = await start([]);
  await seed(d.c, 10000);
  const commits = quick ? 5000 : 20000;
  for (let i = 0; i < commits; i += 500) {
    const b: Promise<void>[] = [];
    for (let k = i; k < i + 500; k++) b.push(d.c.write(`/local/domain/${k % 100}/data/counter`, String(k)));
    await Promise.all(b);
  }
  const dir = join(mkdtempSync(join(tmpdir(), 'xsgit-hbench-git-')), 'h.git');
  const t = Date.now();
  const id = await d.c.control('history', 'export', dir);
  let job: { state: string; objects: number; ms: number } = { state: 'running', objects: 0, ms: 0 };
  while (job.state === 'running') {
    await new Promise((r) => setTimeout(r, 50));
    job = JSON.parse(await d.c.control('history', 'job', id, '--json')) as typeof job;
  }
  const wall = Date.now() - t;
  await stop(d);
  return { objects: job.objects, export_ms: job.ms, objects_per_s: Math.round(job.objects / (job.ms / 1000)), wall_ms: wall };
}

async function mirrorLag(): Promise<Record<string, number>> {
  const dir = join(mkdtempSync(join(tmpdir(), 'xsgit-hbench-mirror-')), 'm.git');
  const d = await start(['--git-dir', dir]);
  await seed(d.c, 10000);
  const rate = 2000;
  const seconds = quick ? 4 : 10;
  const lags: number[] = [];
  const end = Date.now() + seconds * 1000;
  let n = 0;
  let lastSample = Date.now();
  while (Date.now() < end) {
    const tick = Date.now();
    const b: Promise<void>[] = [];
    for (let k = 0; k < rate / 20; k++, n++) b.push(d.c.write(`/local/domain/${n % 100}/data/counter`, String(n)));
    await Promise.all(b);
    if (Date.now() - lastSample >= 500) {
      lastSample = Date.now();
      const s = JSON.parse(await d.c.control('history', 'stats', '--json')) as { mirror: { lastLagMs: number; batches: number } | null };
      // The first batch carries the seeding; the steady state is what the bound is about.
      if (s.mirror !== null && s.mirror.batches > 1) lags.push(s.mirror.lastLagMs);
    }
    await new Promise((r) => setTimeout(r, Math.max(0, 50 - (Date.now() - tick))));
  }
  await stop(d);
  return { rate_per_s: rate, commits: n, lag_p50_ms: lags.length > 0 ? pct(lags, 50) : -1, lag_max_ms: lags.length > 0 ? Math.max(...lags) : -1 };
}

const result = { date: new Date().toISOString(), command: `node dist/bench/history.js${quick ? ' --quick' : ''}`, writeLatency: await writeLatency(), export: await exportThroughput(), mirror: await mirrorLag() };
const out = join(ROOT, 'bench', 'results');
mkdirSync(out, { recursive: true });
writeFileSync(join(out, `history-${result.date.slice(0, 10)}.json`), JSON.stringify(result, null, 2) + '\n');
const w = result.writeLatency;
console.log('| history workload | value |\n| --- | --- |');
console.log(`| write p50, history on / off (1 client, 10k nodes) | ${w.p50_on_us.toFixed(0)} µs / ${w.p50_off_us.toFixed(0)} µs (×${w.p50_ratio.toFixed(2)}) |`);
console.log(`| write p99, history on / off | ${w.p99_on_us.toFixed(0)} µs / ${w.p99_off_us.toFixed(0)} µs |`);
console.log(`| export (${result.export.objects} objects) | ${result.export.objects_per_s} objects/s |`);
console.log(`| live-mirror lag at ${result.mirror.rate_per_s} commits/s | p50 ${result.mirror.lag_p50_ms} ms, max ${result.mirror.lag_max_ms} ms |`);
