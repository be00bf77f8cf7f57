/**
 * The retention soak (issue 4), in two phases.
 * 1. Memory: a store of 100k nodes, then 1,000,000 commits through the socket as fast as they
 *    go, default retention, no mirror. Every sample records the retained commits (must stay ≤
 *    the retention bound), heap and RSS (must plateau): bench/results/soak-<date>.csv and .png.
 * 2. Repository: a daemon with the live mirror and second-scale tiers (so they fill within
 *    the run), 3,000 guests' worth of large directories, takes a steady stream of commits the
 *    mirror keeps up with; lag, repository bytes per commit, exit status 0, then `git fsck
 *    --strict` and every tier branch must be readable.
 *
 *   npm run build && node dist/bench/soak.js [--commits N] [--nodes N] [--sample N]
 *                                            [--mirror-seconds S] [--mirror-rate R] [--mirror-guests G]
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '../src/client/index.js';
import { DEFAULT_RETENTION, parseRetention, retentionBound } from '../src/history/retention.js';
import { lineChart } from './png.js';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(name);
  return i < 0 ? dflt : Number(process.argv[i + 1]);
}

interface Stats {
  retained: number;
  commits: number;
  heapBytes: number;
  rssBytes: number;
  tiers: { tier: string; rows: number; capacity: number }[];
}

async function waitFor(path: string): Promise<void> {
  for (let i = 0; i < 200 && !existsSync(path); i++) await new Promise((r) => setTimeout(r, 50));
}

async function daemon(runDir: string, args: string[]): Promise<{ child: ChildProcess; c: Client }> {
  const child = spawn(process.execPath, ['--expose-gc', join(ROOT, 'bin/xsgit.js'), 'daemon', '--run-dir', runDir, '--log-level', 'warn', ...args], { stdio: 'inherit' });
  await waitFor(join(runDir, 'pid'));
  return { child, c: await Client.connect({ path: join(runDir, 'socket') }) };
}

async function stop(child: ChildProcess): Promise<number | null> {
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  child.kill('SIGTERM');
  return exited;
}

interface MirrorJson {
  state: string;
  backlogCommits: number;
  lagP50Ms: number | null;
  lagP99Ms: number | null;
  lostCommits: number;
}

/**
 * Phase 2: `guests` guests' worth of large directories (`/local/domain`, `/vm`, `/libxl`, the
 * vbd backend, one entry per guest), then a steady `rate` commits/s for `seconds` spread over
 * the guests (each one writes a new version of `/local/domain`), with the mirror and
 * second-scale tiers. Then: lag, repository bytes per commit, exit status, `git fsck --strict`,
 * every tier branch readable.
 */
async function mirrorPhase(work: string, seconds: number, rate: number, guests: number): Promise<void> {
  const gitDir = join(work, 'history.git');
  const { child, c } = await daemon(join(work, 'run2'), ['--git-dir', gitDir, '--history', 'all:1024,1s:30,5s:12']);
  for (let g = 1; g <= guests; g += 100) {
    const batch: Promise<void>[] = [];
    for (let n = g; n < Math.min(guests + 1, g + 100); n++) {
      batch.push(c.write(`/local/domain/${n}/name`, `guest-${n}`), c.write(`/vm/00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}/name`, `guest-${n}`));
      batch.push(c.write(`/libxl/${n}/type`, 'pv'), c.write(`/local/domain/0/backend/vbd/${n}/51712/state`, '4'));
    }
    await Promise.all(batch);
  }
  const end = Date.now() + seconds * 1000;
  let n = 0;
  while (Date.now() < end) {
    const tick = Date.now();
    const batch: Promise<void>[] = [];
    for (let k = 0; k < rate / 10; k++, n++) batch.push(c.write(`/local/domain/${1 + (n % guests)}/data/counter`, String(n)));
    await Promise.all(batch);
    await new Promise((r) => setTimeout(r, Math.max(0, 100 - (Date.now() - tick))));
  }
  for (let i = 0; i < 600; i++) {
    const m = (JSON.parse(await c.control('history', 'stats', '--json')) as { mirror: MirrorJson }).mirror;
    if (m.backlogCommits === 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const s = JSON.parse(await c.control('history', 'stats', 'gc', '--json')) as Stats & { mirror: MirrorJson };
  await c.close();
  const code = await stop(child);
  const git = (...a: string[]) => execFileSync('git', ['--git-dir', gitDir, ...a], { encoding: 'utf8', maxBuffer: 64 << 20 }).trim();
  git('fsck', '--strict');
  const tiers = git('for-each-ref', '--format=%(refname)', 'refs/heads/history/').split('\n').filter((l) => l.length > 0);
  for (const t of tiers) git('log', '--format=%H %s', t);
  const packs = join(gitDir, 'objects', 'pack');
  const bytes = readdirSync(packs).reduce((sum, f) => sum + statSync(join(packs, f)).size, 0);
  console.log(`mirror phase: ${guests} guests' directories, then ${n} commits at ${rate}/s; lag p50 ${s.mirror.lagP50Ms} ms, p99 ${s.mirror.lagP99Ms} ms; ` +
    `${Math.round(bytes / s.commits)} repository bytes per commit (${s.commits} commits, no git gc); heap ${(s.heapBytes / 1048576).toFixed(0)} MiB, RSS ${(s.rssBytes / 1048576).toFixed(0)} MiB; exit ${code}`);
  console.log(`git fsck --strict ok; main has ${git('rev-list', '--count', 'main')} commits; tier branches readable: ${tiers.map((t) => `${t.replace('refs/heads/', '')} (${git('rev-list', '--count', t)})`).join(', ')}`);
  if (tiers.length < 2) throw new Error('tier branches missing from the mirror');
  if (code !== 0) throw new Error(`the mirrored daemon exited ${code}`);
}

async function main(): Promise<void> {
  const commits = arg('--commits', 1_000_000);
  const nodes = arg('--nodes', 100_000);
  const every = arg('--sample', Math.max(1000, Math.floor(commits / 50)));
  const work = mkdtempSync(join(tmpdir(), 'xsgit-soak-'));
  const { child, c } = await daemon(join(work, 'run'), []);
  const t0 = Date.now();
  for (let i = 0; i < nodes; i += 1000) {
    const batch: Promise<void>[] = [];
    for (let j = i; j < Math.min(nodes, i + 1000); j++) batch.push(c.write(`/local/domain/${j % 1000}/data/k${Math.floor(j / 1000)}`, `v${j}`));
    await Promise.all(batch);
  }
  console.log(`seeded ${nodes} nodes in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const bound = retentionBound(parseRetention(DEFAULT_RETENTION));
  const rows: string[] = ['commits,seconds,retained,heap_mib,rss_mib'];
  const heap: [number, number][] = [];
  const rss: [number, number][] = [];
  let worst = 0;
  const start = Date.now();
  const sample = async (done: number) => {
    const s = JSON.parse(await c.control('history', 'stats', 'gc', '--json')) as Stats;
    worst = Math.max(worst, s.retained);
    const h = s.heapBytes / 1048576;
    const r = s.rssBytes / 1048576;
    rows.push(`${done},${((Date.now() - start) / 1000).toFixed(2)},${s.retained},${h.toFixed(1)},${r.toFixed(1)}`);
    heap.push([done, h]);
    rss.push([done, r]);
    process.stdout.write(`\r${done} commits, retained ${s.retained}, heap ${h.toFixed(0)} MiB, rss ${r.toFixed(0)} MiB   `);
  };
  await sample(0);
  for (let done = 0; done < commits; ) {
    const batch: Promise<void>[] = [];
    const n = Math.min(500, commits - done);
    for (let k = 0; k < n; k++) batch.push(c.write(`/local/domain/${(done + k) % 1000}/data/counter`, String(done + k)));
    await Promise.all(batch);
    done += n;
    if (done % every === 0 || done === commits) await sample(done);
  }
  const secs = (Date.now() - start) / 1000;
  console.log(`\n${commits} commits in ${secs.toFixed(1)} s (${Math.round(commits / secs)}/s)`);
  await c.close();
  await stop(child);
  const results = join(ROOT, 'bench', 'results');
  mkdirSync(results, { recursive: true });
  const date = new Date().toISOString().slice(0, 10);
  writeFileSync(join(results, `soak-${date}.csv`), rows.join('\n') + '\n');
  writeFileSync(join(results, `soak-${date}.png`), lineChart([{ points: heap, rgb: [200, 40, 40] }, { points: rss, rgb: [40, 40, 200] }]));
  const lastHeap = heap[heap.length - 1][1];
  const midHeap = heap[Math.floor(heap.length / 2)][1];
  console.log(`retained at most ${worst} (bound ${bound}); heap ${midHeap.toFixed(1)} MiB at half-way, ${lastHeap.toFixed(1)} MiB at the end`);
  console.log(`wrote bench/results/soak-${date}.csv and .png (red: heap after GC in MiB, blue: RSS MiB, x: commits)`);
  await mirrorPhase(work, arg('--mirror-seconds', 20), arg('--mirror-rate', 1000), arg('--mirror-guests', 3000));
  if (worst > bound) {
    console.error(`retained ${worst} > bound ${bound}`);
    process.exit(1);
  }
}

await main();
