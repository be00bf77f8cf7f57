/**
 * Wrapping one measured run: the daemon's own CPU time (utime + stime from /proc/PID/stat, as
 * ../shared/peers/cpu_per_op.sh does) over the run, plus whatever CPU it keeps using after the
 * last reply until it goes idle (deferred work such as history commits is charged to the run).
 */
import type { Daemon } from './daemons.js';
import { alive, cpuTicks, settle, ticksPerSecond } from './proc.js';
import { median, round } from './stats.js';
import type { Better, Ctx, RawRun, Row } from './types.js';
import { runXsload } from './xsload.js';

export type Result = Record<string, unknown>;

export function num(r: Result, k: string): number | null {
  const v = r[k];
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

export async function measured<T extends Result>(ctx: Ctx, d: Daemon, opsKey: string, fn: () => Promise<T>): Promise<T & Result> {
  const t0 = cpuTicks(d.pid);
  const r = await fn();
  const t1 = cpuTicks(d.pid);
  const st = await settle(d.pid, { capMs: ctx.settings.settleCapMs });
  const hz = ticksPerSecond();
  const ops = num(r, opsKey) ?? 0;
  const out: Result = { ...r };
  if (t0 !== null && t1 !== null && ops > 0) {
    out.cpu_us_per_op_window = round(((t1 - t0) / hz) * 1e6 / ops, 2);
    out.cpu_us_per_op = round(((t1 - t0 + st.ticks) / hz) * 1e6 / ops, 2);
    out.cpu_deferred_ms = round((st.ticks / hz) * 1000, 0);
  } else {
    out.cpu_us_per_op = null;
  }
  if (!st.idle) out.settle_capped_ms = st.waitedMs;
  return out as T & Result;
}

/** One xsload run with CPU accounting. Returns its key=value output plus cpu fields and rc. */
export async function xsloadRun(ctx: Ctx, d: Daemon, args: (string | number)[], secs: number): Promise<Result> {
  if (!ctx.xsload) throw new Error('xsload is not available');
  const xs = ctx.xsload;
  return measured(ctx, d, 'ops', async () => {
    const r = await runXsload(xs, d.socket, d.pid, args, (secs + 60) * 1000);
    const out: Result = { ...r.kv, rc: r.rc };
    if (r.stderr) out.stderr = r.stderr.slice(0, 500);
    if (r.timedOut) out.timed_out = true;
    if (r.rc !== 0 && typeof out.errors !== 'number') out.errors = 1;
    return out;
  });
}

/** Untimed xsload helper (prepare, seed, ...): throws when it fails. */
export async function xsloadPlain(ctx: Ctx, d: Daemon, args: (string | number)[], timeoutMs: number): Promise<Result> {
  if (!ctx.xsload) throw new Error('xsload is not available');
  const r = await runXsload(ctx.xsload, d.socket, d.pid, args, timeoutMs);
  if (r.rc !== 0) throw new Error(`xsload ${args.join(' ')} on ${d.name}: rc=${r.rc}${r.timedOut ? ' (timed out)' : ''} ${r.stderr}`);
  return { ...r.kv };
}

/** The daemons still running (one that died is left out of the rest of the run). */
export function live(daemons: readonly Daemon[]): Daemon[] {
  return daemons.filter((d) => alive(d.pid));
}

/**
 * Runs one step for one daemon; a failure (or the daemon dying) becomes a note instead of losing
 * the other daemons' results. Returns null on failure.
 */
export async function guarded<T>(ctx: Ctx, d: Daemon, notes: string[], what: string, fn: () => Promise<T>): Promise<T | null> {
  try {
    return await fn();
  } catch (e) {
    const msg = `${d.name}: ${what} failed: ${(e as Error).message}${alive(d.pid) ? '' : ' (the daemon is gone)'}`;
    notes.push(msg);
    ctx.log(`  ${msg}`);
    return null;
  }
}

/** Daemons in a rotated order, so that no daemon always runs first (or right after another). */
export function rotated<T>(xs: readonly T[], rep: number): T[] {
  const k = xs.length ? rep % xs.length : 0;
  return [...xs.slice(k), ...xs.slice(0, k)];
}

export interface RowMeta {
  workload: string;
  variant: string;
  metric: string;
  better: Better;
  digits?: number;
  /** How the samples become the table value: median (default), sum or max. */
  agg?: 'median' | 'sum' | 'max';
  /** In the results file only, not in the table. */
  hidden?: boolean;
}

/** Collects per-run samples per (row, daemon) and turns them into table rows. */
export class RowSet {
  private readonly rows = new Map<string, { meta: RowMeta; samples: Record<string, (number | null)[]>; fixed: Record<string, number | null> }>();

  private get(id: string, meta: RowMeta) {
    let r = this.rows.get(id);
    if (!r) {
      r = { meta, samples: {}, fixed: {} };
      this.rows.set(id, r);
    }
    return r;
  }

  /** Adds one run's value. */
  add(id: string, meta: RowMeta, daemon: string, v: number | null | undefined): void {
    const r = this.get(id, meta);
    (r.samples[daemon] ??= []).push(v ?? null);
  }

  /** Sets a value directly (single measurements, derived values). */
  set(id: string, meta: RowMeta, daemon: string, v: number | null | undefined): void {
    const r = this.get(id, meta);
    r.fixed[daemon] = v ?? null;
  }

  /** The current table value of a row for a daemon. */
  value(id: string, daemon: string): number | null {
    const r = this.rows.get(id);
    if (!r) return null;
    if (daemon in r.fixed) return r.fixed[daemon]!;
    const s = r.samples[daemon];
    if (!s) return null;
    const agg = r.meta.agg ?? 'median';
    const v = s.filter((x): x is number => x !== null);
    if (agg === 'median') return median(s);
    if (v.length === 0) return null;
    return agg === 'sum' ? v.reduce((a, b) => a + b, 0) : Math.max(...v);
  }

  list(daemons: readonly string[]): Row[] {
    const out: Row[] = [];
    for (const [id, r] of this.rows) {
      const values: Record<string, number | null> = {};
      for (const d of daemons) values[d] = round(this.value(id, d), r.meta.digits ?? 0);
      out.push({
        id,
        workload: r.meta.workload,
        variant: r.meta.variant,
        metric: r.meta.metric,
        better: r.meta.better,
        digits: r.meta.digits ?? 0,
        ...(r.meta.hidden ? { hidden: true } : {}),
        values,
        samples: r.samples,
      });
    }
    return out;
  }
}

/** What a workload's run collects: per-run samples (medians later), raw runs, notes. */
export function collector(): { rows: RowSet; runs: RawRun[]; notes: string[] } {
  return { rows: new RowSet(), runs: [], notes: [] };
}
