/**
 * Cost as the store grows: the store is seeded (pipelined, untimed) to 1k, 10k, 100k and 1M nodes
 * (/bench/seed/d<i/1000>/n<i%1000>); at each size one client measures
 *   - write: overwrite a random seeded node (xsload seedwrite), latency p50/p99;
 *   - create: create fresh leaf nodes one at a time (TS driver), latency p50/p99, then remove them;
 * and the daemon's RSS (VmRSS) once it is idle, giving memory per 100k nodes.
 * Seeding has a time budget per daemon (--seed-budget): C xenstored 4.17 creates nodes at only
 * ~2k/s beyond ~300k nodes, so it may not reach 1M; sizes not reached are reported as such.
 */
import type { Daemon } from '../daemons.js';
import { createLatency, removeTree, tsSeed } from '../drivers.js';
import { RowSet, guarded, live, measured, num, rotated, xsloadPlain, type Result } from '../measure.js';
import { alive, settle, statusKb } from '../proc.js';
import type { Ctx, RawRun, Workload, WorkloadResult } from '../types.js';
import { loadRun, prepareSmallTree } from './throughput.js';

export function fmtSize(n: number): string {
  if (n >= 1e6 && n % 1e6 === 0) return `${n / 1e6}M`;
  if (n >= 1e3 && n % 1e3 === 0) return `${n / 1e3}k`;
  return String(n);
}

const FAN = 1000;

async function seedChunk(ctx: Ctx, d: Daemon, from: number, to: number, timeoutMs: number): Promise<Result> {
  if (ctx.xsload) return xsloadPlain(ctx, d, ['seed', from, to, FAN], timeoutMs);
  return tsSeed(d.socket, from, to, FAN);
}

export const growth: Workload = {
  name: 'growth',
  title: 'Write and create latency as the store grows; memory per 100k nodes',
  implemented: true,
  smoke: true,
  fresh: true,
  async run(ctx: Ctx): Promise<WorkloadResult> {
    const s = ctx.settings;
    const rows = new RowSet();
    const runs: RawRun[] = [];
    const notes: string[] = [];
    const W = 'growth';
    const baseRss: Record<string, number | null> = {};
    const seeded: Record<string, number> = {};
    const spentMs: Record<string, number> = {};
    const stopped: Record<string, boolean> = {};
    const reachedSizes: Record<string, number[]> = {};
    for (const d of ctx.daemons) {
      seeded[d.name] = 0;
      spentMs[d.name] = 0;
      reachedSizes[d.name] = [];
      const ok = await guarded(ctx, d, notes, 'prepare', async () => {
        await prepareSmallTree(ctx, d);
        await removeTree(d.socket, '/bench/seed');
        await removeTree(d.socket, '/bench/mk');
        return true;
      });
      if (!ok) stopped[d.name] = true;
      await settle(d.pid, { capMs: 30_000 });
      baseRss[d.name] = statusKb(d.pid, 'VmRSS');
    }
    const sizes = [...s.growthSizes].sort((a, b) => a - b);
    for (const size of sizes) {
      const variant = `${fmtSize(size)} nodes`;
      // 1. Seed every daemon to `size`, within its time budget.
      for (const d of ctx.daemons) {
        if (stopped[d.name] || !alive(d.pid)) continue;
        let rate = 20_000;
        while (seeded[d.name]! < size) {
          const budgetMs = s.seedBudgetSecs * 1000;
          const rssNow = statusKb(d.pid, 'VmRSS');
          const overBudget = budgetMs > 0 && spentMs[d.name]! >= budgetMs;
          const overRss = rssNow !== null && rssNow / 1024 > s.maxRssMib;
          if (overBudget || overRss) {
            stopped[d.name] = true;
            const why = overBudget ? `the ${s.seedBudgetSecs} s seeding budget` : `${(spentMs[d.name]! / 1000).toFixed(0)} s, when its RSS passed the ${s.maxRssMib} MiB cap`;
            const msg = `${d.name}: seeded ${seeded[d.name]} nodes in ${why} (last rate ${Math.round(rate)}/s, RSS ${rssNow === null ? '?' : (rssNow / 1024).toFixed(0)} MiB); sizes from ${fmtSize(size)} up not measured`;
            notes.push(msg);
            ctx.log(`  ${msg}`);
            break;
          }
          const from = seeded[d.name]!;
          // Chunks of about 10 s at the last rate, so the budget is checked often enough.
          const to = Math.min(size, from + Math.max(1000, Math.min(250_000, Math.round(rate * 10))));
          const t0 = Date.now();
          let r: Result;
          try {
            r = await seedChunk(ctx, d, from, to, Math.max(120_000, ((to - from) / rate) * 4000));
          } catch (e) {
            stopped[d.name] = true;
            const gone = !alive(d.pid);
            const msg = `${d.name}: seeding ${from}..${to} failed after ${((Date.now() - t0) / 1000).toFixed(0)} s${gone ? ': the daemon died' : ''} (${(e as Error).message.slice(0, 160)}); RSS before the chunk ${rssNow === null ? '?' : (rssNow / 1024).toFixed(0)} MiB; sizes from ${fmtSize(size)} up not measured`;
            notes.push(msg);
            ctx.log(`  ${msg}`);
            break;
          }
          const ms = Date.now() - t0;
          spentMs[d.name]! += ms;
          seeded[d.name] = to;
          rate = num(r, 'writes_per_s') ?? (to - from) / Math.max(0.001, ms / 1000);
          if (num(r, 'errors')) notes.push(`${d.name}: ${num(r, 'errors')} errors seeding ${from}..${to}`);
          runs.push({ workload: W, variant, daemon: d.name, rep: 0, tool: ctx.xsload ? 'xsload' : 'ts', args: ['seed', from, to, FAN], result: { ...r, elapsed_ms: ms } });
        }
        if (seeded[d.name]! < size) continue;
        reachedSizes[d.name]!.push(size);
        const st = await settle(d.pid, { capMs: 30_000, windowMs: 200 });
        const rss = statusKb(d.pid, 'VmRSS');
        const hwm = statusKb(d.pid, 'VmHWM');
        const lastRate = runs.filter((x) => x.daemon === d.name && x.variant === variant).map((x) => num(x.result, 'writes_per_s'));
        ctx.log(`  ${d.name.padEnd(5)} seeded to ${variant}: RSS ${rss ? (rss / 1024).toFixed(1) : '-'} MiB (seeding ${(spentMs[d.name]! / 1000).toFixed(1)} s so far, settled after ${st.waitedMs} ms)`);
        runs.push({ workload: W, variant, daemon: d.name, rep: 0, tool: 'ts', result: { rss_kb: rss, hwm_kb: hwm, settle_ms: st.waitedMs, seeded_total_ms: spentMs[d.name] } });
        rows.set(`growth.n${size}.rss`, { workload: W, variant, metric: 'RSS MiB (idle) ↓', better: 'lower', digits: 1 }, d.name, rss === null ? null : rss / 1024);
        const lr = lastRate.length ? lastRate[lastRate.length - 1] : null;
        rows.set(`growth.n${size}.seedrate`, { workload: W, variant, metric: 'bulk create nodes/s (pipelined) ↑', better: 'higher' }, d.name, lr);
      }
      // 2. Measure, interleaved.
      const here = ctx.daemons.filter((d) => reachedSizes[d.name]!.includes(size));
      for (let rep = 0; rep < s.reps; rep++) {
        for (const d of rotated(live(here), rep)) {
          const got = await guarded(ctx, d, notes, `${variant} write rep ${rep}`, () => loadRun(ctx, d, 'seedwrite', 1, s.growthSecs, size));
          if (!got) continue;
          const { args, tool, r } = got;
          runs.push({ workload: W, variant: `${variant}: write`, daemon: d.name, rep, tool, args, result: r });
          rows.add(`growth.n${size}.write.p50`, { workload: W, variant, metric: 'write p50 µs ↓', better: 'lower' }, d.name, num(r, 'p50_us'));
          rows.add(`growth.n${size}.write.p99`, { workload: W, variant, metric: 'write p99 µs ↓', better: 'lower' }, d.name, num(r, 'p99_us'));
          const base = `/bench/mk/s${size}r${rep}`;
          const c = await guarded(ctx, d, notes, `${variant} create rep ${rep}`, () => measured(ctx, d, 'ops', () => createLatency(d.socket, base, s.growthSecs, s.createMax)));
          if (!c) continue;
          runs.push({ workload: W, variant: `${variant}: create`, daemon: d.name, rep, tool: 'ts', result: c });
          rows.add(`growth.n${size}.create.p50`, { workload: W, variant, metric: 'create p50 µs ↓', better: 'lower' }, d.name, c.p50_us);
          rows.add(`growth.n${size}.create.p99`, { workload: W, variant, metric: 'create p99 µs ↓', better: 'lower' }, d.name, c.p99_us);
          ctx.log(`  ${d.name.padEnd(5)} ${variant.padEnd(12)} rep ${rep}: write p50/p99 ${num(r, 'p50_us')}/${num(r, 'p99_us')} us, create p50/p99 ${c.p50_us}/${c.p99_us} us (${c.ops} creates)`);
          if ((num(r, 'errors') ?? 0) > 0 || c.errors > 0) notes.push(`${d.name} ${variant} rep ${rep}: write errors ${num(r, 'errors')}, create errors ${c.errors}`);
          await guarded(ctx, d, notes, 'removing the created nodes', () => removeTree(d.socket, '/bench/mk'));
          await settle(d.pid, { capMs: s.settleCapMs });
        }
      }
    }
    // 3. Derived rows.
    const lo = sizes[0]!;
    const hi = sizes[sizes.length - 1]!;
    for (const d of ctx.daemons) {
      if (hi > lo) {
        const a = rows.value(`growth.n${lo}.write.p50`, d.name);
        const b = rows.value(`growth.n${hi}.write.p50`, d.name);
        rows.set('growth.write_p50_ratio', { workload: W, variant: `write p50, ${fmtSize(hi)} ÷ ${fmtSize(lo)}`, metric: 'ratio ↓', better: 'lower', digits: 2 }, d.name, a && b !== null ? b / a : null);
        const ca = rows.value(`growth.n${lo}.create.p50`, d.name);
        const cb = rows.value(`growth.n${hi}.create.p50`, d.name);
        rows.set('growth.create_p50_ratio', { workload: W, variant: `create p50, ${fmtSize(hi)} ÷ ${fmtSize(lo)}`, metric: 'ratio ↓', better: 'lower', digits: 2 }, d.name, ca && cb !== null ? cb / ca : null);
      }
      for (const size of sizes.filter((x) => x >= 50_000)) {
        const rss = rows.value(`growth.n${size}.rss`, d.name);
        const b0 = baseRss[d.name];
        rows.set(`growth.mem.n${size}`, { workload: W, variant: `memory at ${fmtSize(size)} nodes`, metric: 'MiB per 100k nodes ↓', better: 'lower', digits: 1 }, d.name, rss !== null && b0 !== null && b0 !== undefined ? ((rss - b0 / 1024) / (size / 100_000)) : null);
      }
    }
    const daemonsOrder = ctx.daemons.map((d) => d.name);
    return {
      name: W,
      title: this.title,
      params: { sizes, reps: s.reps, secs: s.growthSecs, create_max: s.createMax, seed_budget_s: s.seedBudgetSecs, fan: FAN, base_rss_kb: baseRss, seeded, seed_ms: spentMs, tool: ctx.xsload ? 'xsload+ts' : 'ts' },
      rows: rows.list(daemonsOrder),
      runs,
      notes,
    };
  },
};
