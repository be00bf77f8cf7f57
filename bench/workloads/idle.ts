/**
 * Idle connections (B2 connection sweep, anchor P4): one active libxenstore client reads, then
 * writes, while N other connections are open and silent (the harness waits until the daemon's
 * fd count shows it has accepted them all). Reports the active client's ops/s and the slowdown at the
 * largest N against N = 0 (target: at most 10 % at 4,096).
 */
import { readFileSync } from 'node:fs';
import type { Daemon } from '../daemons.js';
import { openIdle, type IdleSet } from '../drivers.js';
import { collector, guarded, live, num, rotated } from '../measure.js';
import { fdCount, settle, sleep } from '../proc.js';
import type { Ctx, Workload, WorkloadResult } from '../types.js';
import { loadRun, prepareSmallTree } from './throughput.js';

interface Held {
  ok: boolean;
  set: IdleSet | null;
  openMs: number;
  fds: number | null;
}

function openFileLimit(): number {
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return m ? (m[1] === 'unlimited' ? Infinity : Number(m[1])) : 1024;
  } catch {
    return 1024;
  }
}

async function openAndWait(ctx: Ctx, d: Daemon, n: number, notes: string[]): Promise<Held> {
  const t0 = Date.now();
  const fds0 = fdCount(d.pid);
  let set: IdleSet;
  try {
    set = await openIdle(d.socket, n);
  } catch (e) {
    const msg = `${d.name}: opening ${n} idle connections failed: ${(e as Error).message}`;
    notes.push(msg);
    ctx.log(`  ${msg}`);
    return { ok: false, set: null, openMs: Date.now() - t0, fds: fdCount(d.pid) };
  }
  // Wait (bounded) until the daemon has accepted them all: its fd count grows by n.
  let fds = fdCount(d.pid);
  const deadline = Date.now() + 120_000;
  while (fds0 !== null && fds !== null && fds < fds0 + n && Date.now() < deadline) {
    await sleep(50);
    fds = fdCount(d.pid);
  }
  await settle(d.pid, { capMs: ctx.settings.settleCapMs });
  const openMs = Date.now() - t0;
  if (fds0 !== null && fds !== null && fds < fds0 + n) notes.push(`${d.name}: only ${fds - fds0} of ${n} idle connections accepted after ${openMs} ms`);
  if (n > 0) ctx.log(`  ${d.name.padEnd(5)} holds ${n} idle connections (accepted in ${openMs} ms)`);
  return { ok: true, set, openMs, fds };
}

async function closeAndSettle(d: Daemon, h: Held): Promise<void> {
  if (!h.set) return;
  h.set.close();
  h.set = null;
  // Closing thousands of connections costs the daemon CPU: let it finish before measuring others.
  await settle(d.pid, { capMs: 60_000, windowMs: 100 });
}

export const idle: Workload = {
  name: 'idle',
  title: 'One active client beside idle connections',
  implemented: true,
  smoke: true,
  async run(ctx: Ctx): Promise<WorkloadResult> {
    const s = ctx.settings;
    const { rows, runs, notes } = collector();
    const modes = s.idleModes;
    for (const d of live(ctx.daemons)) await guarded(ctx, d, notes, 'prepare', () => prepareSmallTree(ctx, d));
    // Idle connections cost the peers O(N) per loop, so opening thousands takes them seconds: open
    // each level once for every daemon and interleave the runs, if the harness may hold that many
    // descriptors; otherwise open and close around every run.
    const fdLimit = openFileLimit();
    for (const n of s.idleLevels) {
      const holdAll = n * ctx.daemons.length + 512 <= fdLimit;
      const held = new Map<string, Held>();
      try {
        if (holdAll) for (const d of live(ctx.daemons)) held.set(d.name, await openAndWait(ctx, d, n, notes));
        for (let rep = 0; rep < s.reps; rep++) {
          for (const d of rotated(live(ctx.daemons), rep)) {
            const h = holdAll ? held.get(d.name) : await openAndWait(ctx, d, n, notes);
            if (!h) continue;
            try {
              if (!h.ok) continue;
              for (const mode of modes) {
                const variant = `${mode}, 1 client + ${n} idle`;
                const got = await guarded(ctx, d, notes, `${variant} rep ${rep}`, () => loadRun(ctx, d, mode, 1, s.secs));
                if (!got) continue;
                const { args, tool, r } = got;
                r.idle_connections = n;
                r.idle_open_ms = h.openMs;
                r.daemon_fds = h.fds;
                runs.push({ workload: 'idle', variant, daemon: d.name, rep, tool, args, result: r });
                ctx.log(`  ${d.name.padEnd(5)} ${variant.padEnd(26)} rep ${rep}: ${Math.round(num(r, 'ops_per_s') ?? 0)} ops/s, p50 ${num(r, 'p50_us') ?? '-'} us`);
                rows.add(`idle.${mode}.i${n}.ops`, { workload: 'idle', variant, metric: 'ops/s ↑', better: 'higher' }, d.name, num(r, 'ops_per_s'));
                rows.add(`idle.${mode}.i${n}.p50`, { workload: 'idle', variant, metric: 'p50 µs ↓', better: 'lower', hidden: true }, d.name, num(r, 'p50_us'));
                rows.add(`idle.${mode}.i${n}.p99`, { workload: 'idle', variant, metric: 'p99 µs ↓', better: 'lower', hidden: true }, d.name, num(r, 'p99_us'));
                rows.add(`idle.${mode}.i${n}.errors`, { workload: 'idle', variant, metric: 'errors', better: 'lower', agg: 'sum' }, d.name, num(r, 'errors'));
              }
            } finally {
              if (!holdAll) await closeAndSettle(d, h);
            }
          }
        }
      } finally {
        for (const d of ctx.daemons) {
          const h = held.get(d.name);
          if (h) await closeAndSettle(d, h);
        }
      }
    }
    const lo = Math.min(...s.idleLevels);
    const hi = Math.max(...s.idleLevels);
    if (hi > lo) {
      for (const mode of modes) {
        for (const d of ctx.daemons) {
          const a = rows.value(`idle.${mode}.i${lo}.ops`, d.name);
          const b = rows.value(`idle.${mode}.i${hi}.ops`, d.name);
          rows.set(`idle.${mode}.slowdown`, { workload: 'idle', variant: `${mode}: ${hi} idle vs ${lo}`, metric: 'slowdown % ↓', better: 'lower', digits: 1 }, d.name, a && b !== null ? (1 - b / a) * 100 : null);
        }
      }
    }
    const all = rows.list(ctx.daemons.map((d) => d.name));
    return {
      name: 'idle',
      title: this.title,
      params: { idle: s.idleLevels, reps: s.reps, secs: s.secs, tool: ctx.xsload ? 'xsload' : 'ts' },
      rows: all.filter((r) => !r.id.endsWith('.errors') || Object.values(r.values).some((v) => (v ?? 0) > 0)),
      runs,
      notes,
    };
  },
};
