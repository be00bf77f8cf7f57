/**
 * The git mirror at host scale (issue 15): the boot storm (bootstorm.ts, P toolstacks, N
 * guests) against two xsgit daemons this workload starts itself, one without a repository and
 * one with `--git-dir`, one after the other (never both at once: the machine has 2 cores).
 * Measured per side: boot wall time, time per guest in the first and last tenth, daemon CPU
 * per boot request (utime + stime of the daemon process, its mirror worker included, over the
 * boot only), peak RSS; with the mirror also: how long after the last boot the repository had
 * every commit, mirror lag p50/p99 (from `history stats --json`, over every commit
 * written), repository bytes per commit (objects/pack after the daemon stopped, no `git gc`),
 * the daemon's exit status, and `git fsck --strict`.
 *
 * Guests: smoke 10 (P=2), quick 100, full 1,000 and 3,000 (P=8); `XSGIT_BENCH_MIRROR_GUESTS`
 * (e.g. `300,1000`) overrides.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RowSet } from '../measure.js';
import { start, stop, type Running } from '../ownDaemon.js';
import { cpuTicks, sleep, ticksPerSecond } from '../proc.js';
import type { Ctx, RawRun, Workload, WorkloadResult } from '../types.js';
import { bootStorm, type StormResult } from './bootstorm.js';

interface MirrorJson {
  state: string;
  backlogCommits: number;
  lagP50Ms: number | null;
  lagP99Ms: number | null;
  packBytes: number;
  objects: number;
  deltas: number;
}

interface Stats {
  commits: number;
  mirror: MirrorJson | null;
}

async function stats(r: Running): Promise<Stats> {
  return JSON.parse(await r.c.control('history', 'stats', '--json')) as Stats;
}

function dirBytes(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    n += e.isDirectory() ? dirBytes(p) : statSync(p).size;
  }
  return n;
}

interface Side extends Record<string, unknown> {
  storm: StormResult;
  cpu_us_per_request: number | null;
  catch_up_s?: number;
  lag_p50_ms?: number | null;
  lag_p99_ms?: number | null;
  repo_bytes?: number;
  commits?: number;
  bytes_per_commit?: number;
  objects?: number;
  deltas?: number;
  exit_code?: number | null;
  fsck_ok?: boolean;
  fsck_output?: string;
  fsck_s?: number;
}

async function run(guests: number, toolstacks: number, withRepo: boolean): Promise<Side> {
  const tmp = withRepo ? mkdtempSync(join(tmpdir(), 'xsgit-mbench-')) : null;
  const gitDir = tmp === null ? null : join(tmp, 'm.git');
  const d = await start(gitDir === null ? [] : ['--git-dir', gitDir], tmp === null ? [] : [tmp]);
  const out: Partial<Side> = {};
  try {
    const hz = ticksPerSecond();
    const c0 = cpuTicks(d.pid);
    let cpuBootS: number | null = null;
    const storm = await bootStorm({ socket: join(d.dir, 'socket'), pid: d.pid }, guests, toolstacks, true, 1, async () => {
      const c1 = cpuTicks(d.pid);
      if (c0 !== null && c1 !== null) cpuBootS = (c1 - c0) / hz;
      if (gitDir === null) return;
      const t = performance.now();
      for (let s = await stats(d); (s.mirror?.backlogCommits ?? 0) > 0 && performance.now() - t < 120_000; s = await stats(d)) await sleep(100);
      out.catch_up_s = Math.round(performance.now() - t) / 1000;
    });
    out.cpu_us_per_request = cpuBootS === null ? null : Math.round(((cpuBootS * 1e6) / Math.max(1, guests * storm.requests_per_guest)) * 10) / 10;
    if (gitDir !== null) {
      for (let s = await stats(d), t = Date.now(); (s.mirror?.backlogCommits ?? 0) > 0 && Date.now() - t < 120_000; s = await stats(d)) await sleep(100);
      const s = await stats(d);
      out.lag_p50_ms = s.mirror?.lagP50Ms ?? null;
      out.lag_p99_ms = s.mirror?.lagP99Ms ?? null;
      out.commits = s.commits;
      out.objects = s.mirror?.objects;
      out.deltas = s.mirror?.deltas;
    }
    const dd = d;
    out.storm = storm;
    if (gitDir !== null) {
      // Stop first (the last batch is written at exit), measure the repository, then remove it.
      d.dirs = d.dirs.filter((x) => x !== tmp);
      out.exit_code = await stop(dd);
      out.repo_bytes = dirBytes(join(gitDir, 'objects'));
      out.bytes_per_commit = Math.round(out.repo_bytes / Math.max(1, out.commits ?? 1));
      const t = performance.now();
      const f = spawnSync('git', ['--git-dir', gitDir, 'fsck', '--strict', '--no-progress'], { encoding: 'utf8', maxBuffer: 64 << 20 });
      out.fsck_ok = f.status === 0 && f.stdout.trim() === '';
      if (!out.fsck_ok) out.fsck_output = `${f.stdout}${f.stderr}`.split('\n').slice(0, 5).join(' | ');
      out.fsck_s = Math.round(performance.now() - t) / 1000;
      spawnSync('rm', ['-rf', tmp as string]);
    }
  } finally {
    if (d.child.exitCode === null) await stop(d);
  }
  return out as Side;
}

function sizes(mode: Ctx['settings']['mode']): number[] {
  const env = process.env.XSGIT_BENCH_MIRROR_GUESTS;
  if (env) return env.split(',').map(Number).filter((n) => n > 0);
  return mode === 'smoke' ? [10] : mode === 'quick' ? [100] : [1000, 3000];
}

export const mirror: Workload = {
  name: 'mirror',
  title: 'Git mirror at host scale: boot storm with and without --git-dir (xsgit only)',
  implemented: true,
  smoke: true,
  async run(ctx: Ctx): Promise<WorkloadResult> {
    const rows = new RowSet();
    const runs: RawRun[] = [];
    const notes: string[] = [];
    const W = 'mirror';
    const X = 'xsgit';
    const P = ctx.settings.mode === 'smoke' ? 2 : 8;
    for (const n of sizes(ctx.settings.mode)) {
      const variant = `boot storm N=${n}, P=${P}`;
      const id = `mirror.n${n}`;
      const none = await run(n, P, false);
      const git = await run(n, P, true);
      runs.push({ workload: W, variant: `${variant}, no repository`, daemon: X, rep: 0, tool: 'ts', result: none });
      runs.push({ workload: W, variant: `${variant}, --git-dir`, daemon: X, rep: 0, tool: 'ts', result: git });
      const a = none.storm;
      const b = git.storm;
      ctx.log(
        `  xsgit ${variant}: wall ${a.boot_wall_s.toFixed(2)} → ${b.boot_wall_s.toFixed(2)} s (×${(b.boot_wall_s / a.boot_wall_s).toFixed(2)}), ` +
          `ms/guest ${b.ms_per_guest_first_decile.toFixed(1)} → ${b.ms_per_guest_last_decile.toFixed(1)}, CPU/request ${none.cpu_us_per_request} → ${git.cpu_us_per_request} µs, ` +
          `lag p50/p99 ${git.lag_p50_ms}/${git.lag_p99_ms} ms, ${git.bytes_per_commit} B/commit (${git.commits} commits), catch-up ${git.catch_up_s} s, exit ${git.exit_code}, fsck ${git.fsck_ok ? 'ok' : 'FAILED'}`,
      );
      const m = (metric: string, better: 'lower' | 'higher' | 'none', digits = 1) => ({ workload: W, variant, metric, better, digits });
      rows.set(`${id}.wall_none`, m('boot wall s, no repository ↓', 'lower', 2), X, a.boot_wall_s);
      rows.set(`${id}.wall_git`, m('boot wall s, --git-dir ↓', 'lower', 2), X, b.boot_wall_s);
      rows.set(`${id}.wall_ratio`, m('wall --git-dir ÷ none ↓ (target ≤ 1.3)', 'lower', 2), X, b.boot_wall_s / a.boot_wall_s);
      rows.set(`${id}.first`, m('ms/guest first 10 %, --git-dir ↓', 'lower'), X, b.ms_per_guest_first_decile);
      rows.set(`${id}.last`, m('ms/guest last 10 %, --git-dir ↓', 'lower'), X, b.ms_per_guest_last_decile);
      rows.set(`${id}.flat`, m('last ÷ first 10 %, --git-dir ↓ (target ≤ 1.2)', 'lower', 2), X, b.ms_per_guest_last_decile / b.ms_per_guest_first_decile);
      rows.set(`${id}.cpu_none`, m('daemon CPU µs/request, no repository ↓', 'lower'), X, none.cpu_us_per_request);
      rows.set(`${id}.cpu_git`, m('daemon CPU µs/request, --git-dir ↓', 'lower'), X, git.cpu_us_per_request);
      rows.set(`${id}.lag50`, m('mirror lag p50 ms ↓', 'lower', 0), X, git.lag_p50_ms ?? null);
      rows.set(`${id}.lag99`, m('mirror lag p99 ms ↓ (target ≤ 1000)', 'lower', 0), X, git.lag_p99_ms ?? null);
      rows.set(`${id}.bpc`, m('repository bytes/commit ↓ (target ≤ 2048)', 'lower', 0), X, git.bytes_per_commit ?? null);
      rows.set(`${id}.rss_none`, m('peak RSS MiB, no repository ↓', 'lower'), X, a.rss_peak_mib);
      rows.set(`${id}.rss_git`, m('peak RSS MiB, --git-dir ↓', 'lower'), X, b.rss_peak_mib);
      rows.set(`${id}.catchup`, m('s after the last boot until the repository has every commit ↓', 'lower', 2), X, git.catch_up_s ?? null);
      rows.set(`${id}.commits`, { ...m('commits', 'none', 0), hidden: true }, X, git.commits ?? null);
      if (git.exit_code !== 0) notes.push(`${variant}: the daemon with --git-dir exited ${git.exit_code}`);
      if (!git.fsck_ok) notes.push(`${variant}: git fsck --strict reported problems: ${git.fsck_output ?? ''}`);
      if (a.errors || b.errors) notes.push(`${variant}: boot errors ${a.errors} / ${b.errors}`);
    }
    return {
      name: W,
      title: this.title,
      params: { guests: sizes(ctx.settings.mode), toolstacks: P, daemons: 'own xsgit processes, one at a time (none, then --git-dir)', tool: 'ts (src/client)' },
      rows: rows.list(ctx.daemons.map((d) => d.name)),
      runs,
      notes,
    };
  },
};
