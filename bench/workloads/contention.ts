/**
 * Contention on one node: every client increments /bench/hot in a transaction (start, read,
 * write, commit) and retries on EAGAIN. Reports commits/s, EAGAIN per commit, Jain's fairness
 * index over the clients' commit counts, and lost updates (counter before + commits - counter
 * after; must be 0). Driven by the TS wire driver (bench/drivers.ts).
 */
import { contend } from '../drivers.js';
import { collector, guarded, live, measured, num, rotated } from '../measure.js';
import type { Ctx, Workload, WorkloadResult } from '../types.js';
import { prepareSmallTree } from './throughput.js';

export const contention: Workload = {
  name: 'contention',
  title: 'Transaction contention on one node',
  implemented: true,
  smoke: true,
  async run(ctx: Ctx): Promise<WorkloadResult> {
    const s = ctx.settings;
    const { rows, runs, notes } = collector();
    for (const d of live(ctx.daemons)) await guarded(ctx, d, notes, 'prepare', () => prepareSmallTree(ctx, d));
    // Warm-up, not recorded.
    for (const d of live(ctx.daemons)) await guarded(ctx, d, notes, 'warm-up', () => contend(d.socket, Math.max(...s.contendClients), s.warmupSecs));
    for (const c of s.contendClients) {
      const variant = `${c} clients, one node`;
      for (let rep = 0; rep < s.reps; rep++) {
        for (const d of rotated(live(ctx.daemons), rep)) {
          const r = await guarded(ctx, d, notes, `${variant} rep ${rep}`, () => measured(ctx, d, 'ops', () => contend(d.socket, c, s.secs)));
          if (!r) continue;
          runs.push({ workload: 'contention', variant, daemon: d.name, rep, tool: 'ts', result: r });
          ctx.log(`  ${d.name.padEnd(5)} ${variant.padEnd(20)} rep ${rep}: ${Math.round(r.ops_per_s)} commits/s, EAGAIN/commit ${r.eagain_per_commit.toFixed(2)}, lost ${r.lost_updates}, errors ${r.errors}`);
          const w = 'contention';
          rows.add(`contention.c${c}.ops`, { workload: w, variant, metric: 'commits/s ↑', better: 'higher' }, d.name, r.ops_per_s);
          rows.add(`contention.c${c}.eagain`, { workload: w, variant, metric: 'EAGAIN per commit ↓', better: 'lower', digits: 2 }, d.name, r.eagain_per_commit);
          rows.add(`contention.c${c}.jain`, { workload: w, variant, metric: "fairness (Jain's index) ↑", better: 'higher', digits: 2 }, d.name, r.jain);
          rows.add(`contention.c${c}.cpu`, { workload: w, variant, metric: 'daemon CPU µs/commit ↓', better: 'lower', digits: 1 }, d.name, num(r, 'cpu_us_per_op'));
          rows.add(`contention.c${c}.p99`, { workload: w, variant, metric: 'commit p99 µs (incl. retries) ↓', better: 'lower', hidden: true }, d.name, r.p99_us);
          rows.add(`contention.c${c}.lost`, { workload: w, variant, metric: 'lost updates, all runs (must be 0)', better: 'lower', agg: 'sum' }, d.name, r.lost_updates);
          rows.add(`contention.c${c}.errors`, { workload: w, variant, metric: 'errors, all runs', better: 'lower', agg: 'sum' }, d.name, r.errors);
        }
      }
    }
    const all = rows.list(ctx.daemons.map((d) => d.name));
    return {
      name: 'contention',
      title: this.title,
      params: { clients: s.contendClients, reps: s.reps, secs: s.secs, node: '/bench/hot', tool: 'ts' },
      rows: all.filter((r) => !r.id.endsWith('.errors') || Object.values(r.values).some((v) => (v ?? 0) > 0)),
      runs,
      notes,
    };
  },
};
