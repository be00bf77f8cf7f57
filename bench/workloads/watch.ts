/**
 * Watch fan-out (B3, reduced): 1,000 guests, each with narrow watches (one on its backend
 * `state`, the rest on keys nobody writes), plus one wide watch on the whole subtree; total
 * 1k / 10k watches over connections of at most 100 watches each. One writer churns the guests'
 * `state` nodes as fast as it can; every write must produce two events. Reports writes/s, write
 * latency, event-delivery latency (write sent -> event received), lost events and daemon CPU
 * per write. Driven by the TS wire driver.
 */
import { WatchFanout } from '../drivers.js';
import { collector, guarded, live, measured, num, rotated } from '../measure.js';
import { settle } from '../proc.js';
import type { Ctx, Workload, WorkloadResult } from '../types.js';
import { fmtSize } from './growth.js';

export const watch: Workload = {
  name: 'watch',
  title: 'Watch fan-out under backend state churn',
  implemented: true,
  smoke: true,
  async run(ctx: Ctx): Promise<WorkloadResult> {
    const s = ctx.settings;
    const { rows, runs, notes } = collector();
    const W = 'watch';
    for (const n of s.watchCounts) {
      const variant = `${fmtSize(n)} watches`;
      // Watches are registered once per daemon and count, then the churn runs are interleaved.
      const setups = new Map<string, WatchFanout>();
      try {
        for (const d of live(ctx.daemons)) {
          const f = await guarded(ctx, d, notes, `registering ${n} watches`, () => WatchFanout.setup(d.socket, n));
          if (!f) continue;
          setups.set(d.name, f);
          await settle(d.pid, { capMs: s.settleCapMs });
          ctx.log(`  ${d.name.padEnd(5)} holds ${f.watches} watches (registered in ${f.registerSecs.toFixed(2)} s${f.errors ? `, ${f.errors} errors` : ''})`);
          rows.add(`watch.w${n}.register_s`, { workload: W, variant, metric: 'registration s ↓', better: 'lower', digits: 2, hidden: true }, d.name, f.registerSecs);
        }
        for (let rep = 0; rep < s.reps; rep++) {
          for (const d of rotated(live(ctx.daemons), rep)) {
            const f = setups.get(d.name);
            if (!f) continue;
            const r = await guarded(ctx, d, notes, `${variant} rep ${rep}`, () => measured(ctx, d, 'writes', () => f.churn(s.watchSecs)));
            if (!r) continue;
            runs.push({ workload: W, variant, daemon: d.name, rep, tool: 'ts', result: r });
            ctx.log(`  ${d.name.padEnd(5)} ${variant.padEnd(14)} rep ${rep}: ${Math.round(r.writes_per_s)} writes/s, write p50 ${r.write_p50_us} us, event p50/p99 ${r.event_p50_us}/${r.event_p99_us} us, events ${r.events_received}/${r.events_expected}`);
            rows.add(`watch.w${n}.ops`, { workload: W, variant, metric: 'writes/s ↑', better: 'higher' }, d.name, r.writes_per_s);
            rows.add(`watch.w${n}.event_p50`, { workload: W, variant, metric: 'event latency p50 µs ↓', better: 'lower' }, d.name, r.event_p50_us);
            rows.add(`watch.w${n}.event_p99`, { workload: W, variant, metric: 'event latency p99 µs ↓', better: 'lower' }, d.name, r.event_p99_us);
            rows.add(`watch.w${n}.write_p50`, { workload: W, variant, metric: 'write p50 µs ↓', better: 'lower', hidden: true }, d.name, r.write_p50_us);
            rows.add(`watch.w${n}.wide_p50`, { workload: W, variant, metric: 'wide-watch event p50 µs ↓', better: 'lower', hidden: true }, d.name, r.wide_event_p50_us);
            rows.add(`watch.w${n}.cpu`, { workload: W, variant, metric: 'daemon CPU µs/write ↓', better: 'lower', digits: 1 }, d.name, num(r, 'cpu_us_per_op'));
            rows.add(`watch.w${n}.lost`, { workload: W, variant, metric: 'events lost, all runs (must be 0)', better: 'lower', agg: 'sum' }, d.name, r.events_expected - r.events_received);
            rows.add(`watch.w${n}.errors`, { workload: W, variant, metric: 'errors, all runs', better: 'lower', agg: 'sum' }, d.name, r.errors);
          }
        }
      } finally {
        for (const [name, f] of setups) {
          await f.teardown().catch(() => undefined);
          const d = ctx.daemons.find((x) => x.name === name);
          if (d) await settle(d.pid, { capMs: 10_000 });
        }
      }
    }
    const all = rows.list(ctx.daemons.map((d) => d.name));
    return {
      name: W,
      title: this.title,
      params: { watches: s.watchCounts, guests: 1000, reps: s.reps, secs: s.watchSecs, max_watches_per_conn: 100, tool: 'ts' },
      rows: all.filter((r) => !r.id.endsWith('.errors') || Object.values(r.values).some((v) => (v ?? 0) > 0)),
      runs,
      notes,
    };
  },
};
