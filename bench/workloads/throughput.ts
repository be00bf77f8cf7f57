/**
 * Read, write and short-transaction throughput at 1, 4 and 16 clients (xsload, libxenstore).
 * read: READ of a random one of 100 nodes; write: WRITE of /bench/w/<client>/<i % 100>;
 * txn: TRANSACTION_START, READ, WRITE, TRANSACTION_END on the client's own node (no conflicts).
 * Every run also records the daemon's CPU µs per operation.
 */
import type { Daemon } from '../daemons.js';
import { tsLoad, tsPrepare, tsSeedWrite } from '../drivers.js';
import { collector, guarded, live, measured, num, rotated, xsloadPlain, xsloadRun, type Result } from '../measure.js';
import type { Ctx, Workload, WorkloadResult } from '../types.js';

const MODES = ['read', 'write', 'txn'] as const;
type Mode = (typeof MODES)[number];

export async function prepareSmallTree(ctx: Ctx, d: Daemon): Promise<void> {
  if (ctx.xsload) await xsloadPlain(ctx, d, ['-k', 100, 'prepare'], 60_000);
  else await tsPrepare(d.socket, 100);
}

/** One measured load run through xsload, or the TS fallback driver when xsload is missing. */
export async function loadRun(ctx: Ctx, d: Daemon, mode: Mode | 'seedwrite', clients: number, secs: number, keys = 100): Promise<{ args: (string | number)[]; tool: 'xsload' | 'ts'; r: Result }> {
  const args: (string | number)[] = ['-c', clients, '-d', secs, '-k', keys, mode];
  if (ctx.xsload) return { args, tool: 'xsload', r: await xsloadRun(ctx, d, args, secs) };
  if (mode === 'seedwrite') {
    return { args, tool: 'ts', r: await measured(ctx, d, 'ops', () => tsSeedWrite(d.socket, keys, secs)) };
  }
  return { args, tool: 'ts', r: await measured(ctx, d, 'ops', () => tsLoad(d.socket, mode, clients, secs, keys)) };
}

export const throughput: Workload = {
  name: 'throughput',
  title: 'Read, write and short-transaction throughput',
  implemented: true,
  smoke: true,
  async run(ctx: Ctx): Promise<WorkloadResult> {
    const s = ctx.settings;
    const { rows, runs, notes } = collector();
    for (const d of live(ctx.daemons)) await guarded(ctx, d, notes, 'prepare', () => prepareSmallTree(ctx, d));
    // Warm-up (not recorded): creates every /bench/w/<c>/<k> so that measured writes are
    // overwrites, and lets a JIT settle.
    const maxC = Math.max(...s.clients);
    for (const d of live(ctx.daemons)) for (const m of MODES) await guarded(ctx, d, notes, 'warm-up', () => loadRun(ctx, d, m, maxC, s.warmupSecs));
    for (const mode of MODES) {
      for (const c of s.clients) {
        const variant = `${mode}, ${c} client${c > 1 ? 's' : ''}`;
        for (let rep = 0; rep < s.reps; rep++) {
          for (const d of rotated(live(ctx.daemons), rep)) {
            const got = await guarded(ctx, d, notes, `${variant} rep ${rep}`, () => loadRun(ctx, d, mode, c, s.secs));
            if (!got) continue;
            const { args, tool, r } = got;
            runs.push({ workload: 'throughput', variant, daemon: d.name, rep, tool, args, result: r });
            ctx.log(`  ${d.name.padEnd(5)} ${variant.padEnd(20)} rep ${rep}: ${fmt(num(r, 'ops_per_s'))} ops/s, cpu ${num(r, 'cpu_us_per_op') ?? '-'} us/op, p50 ${num(r, 'p50_us') ?? '-'} us`);
            const unit = mode === 'txn' ? 'txn/s' : 'ops/s';
            rows.add(`throughput.${mode}.c${c}.ops`, { workload: 'throughput', variant, metric: `${unit} ↑`, better: 'higher' }, d.name, num(r, 'ops_per_s'));
            rows.add(`throughput.${mode}.c${c}.cpu`, { workload: 'throughput', variant, metric: `daemon CPU µs/${mode === 'txn' ? 'txn' : 'op'} ↓`, better: 'lower', digits: 1 }, d.name, num(r, 'cpu_us_per_op'));
            rows.add(`throughput.${mode}.c${c}.p50`, { workload: 'throughput', variant, metric: 'p50 latency µs ↓', better: 'lower', hidden: true }, d.name, num(r, 'p50_us'));
            rows.add(`throughput.${mode}.c${c}.p99`, { workload: 'throughput', variant, metric: 'p99 latency µs ↓', better: 'lower', hidden: true }, d.name, num(r, 'p99_us'));
            rows.add(`throughput.${mode}.c${c}.errors`, { workload: 'throughput', variant, metric: 'errors', better: 'lower', agg: 'sum' }, d.name, num(r, 'errors'));
          }
        }
      }
    }
    if (!ctx.xsload) notes.push('xsload was not available: the TS fallback driver measured these (client overhead differs from libxenstore).');
    const all = rows.list(ctx.daemons.map((d) => d.name));
    // Error rows stay in the JSON, and only reach the table when some daemon had errors.
    return {
      name: 'throughput',
      title: this.title,
      params: { clients: s.clients, reps: s.reps, secs: s.secs, keys: 100, tool: ctx.xsload ? 'xsload' : 'ts' },
      rows: all.filter((r) => !r.id.endsWith('.errors') || Object.values(r.values).some((v) => (v ?? 0) > 0)),
      runs,
      notes,
    };
  },
};

function fmt(x: number | null): string {
  return x === null ? '-' : Math.round(x).toString();
}
