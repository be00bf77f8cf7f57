/**
 * Guests over shared-memory rings (issue 11), on xensim (../shared/xensim, a simulated
 * hypervisor): xsgit (`daemon --xen`) against Debian's C xenstored 4.17 (`peers.sh start
 * c-ring`), each on its own simulated machine. The guests are xensim.py's (Python, in one
 * process, in lock step: every guest sends a request, then every guest takes its reply;
 * READ and WRITE alternate), driven by test/xen/guest.py's `bench` scenario. Rows: ring
 * requests/s for 1 and 8 guests, and one active guest's round trip with 1,000 idle
 * introduced guests against none (target ≤ 1.1×). The C daemon is reported in the `c`
 * column. Skipped (with a note) when xensim cannot be built. Not part of --smoke.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { collector } from '../measure.js';
import type { Ctx, Workload, WorkloadResult } from '../types.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const XENSIM_SRC = path.resolve(ROOT, '..', 'shared', 'xensim');
const PEERS_SH = path.resolve(ROOT, '..', 'shared', 'peers', 'peers.sh');
const GUEST_PY = path.join(ROOT, 'test', 'xen', 'guest.py');

function sh(cmd: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<string> {
  return new Promise((ok, fail) => {
    execFile(cmd, args, { env, timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) fail(new Error(`${cmd} ${args.join(' ')}: ${err.message}\n${stderr}`));
      else ok(stdout);
    });
  });
}

async function xensimBuild(): Promise<string> {
  const b = process.env.XENSIM_BUILD || path.join(tmpdir(), `xsgit-xensim-build-${process.getuid?.() ?? 0}`);
  if (!existsSync(path.join(b, 'lib', 'libxensim.so.1'))) {
    mkdirSync(b, { recursive: true });
    await sh('bash', [path.join(XENSIM_SRC, 'build.sh')], { ...process.env, XENSIM_BUILD: b }, 120_000);
  }
  return b;
}

interface Machine {
  name: 'xsgit' | 'c';
  xenDir: string;
  socket: string;
  stop(): Promise<void>;
}

async function startXsgit(build: string): Promise<Machine> {
  const dir = mkdtempSync(path.join(tmpdir(), 'xsgit-ringbench-'));
  const env: NodeJS.ProcessEnv = { ...process.env, XENSIM_DIR: path.join(dir, 'xen'), LD_LIBRARY_PATH: path.join(build, 'lib'), LD_PRELOAD: path.join(build, 'xensim-preload.so') };
  delete env.XENSTORED_PATH;
  const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'xsgit.js'), 'daemon', '--xen', '--run-dir', dir, '--log-level', 'warn'], { env, stdio: 'ignore' });
  const socket = path.join(dir, 'socket');
  for (let i = 0; i < 200 && !existsSync(path.join(dir, 'pid')); i++) await new Promise((r) => setTimeout(r, 50));
  if (!existsSync(socket)) throw new Error('xsgit --xen did not start');
  return {
    name: 'xsgit',
    xenDir: path.join(dir, 'xen'),
    socket,
    stop: async () => {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await gone;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function startC(build: string): Promise<Machine> {
  const dir = mkdtempSync(path.join(tmpdir(), 'xsgit-ringbench-c-'));
  const env: NodeJS.ProcessEnv = { ...process.env, XENSIM_BUILD: build };
  delete env.XENSTORED_PATH;
  await sh('bash', [PEERS_SH, 'start', 'c-ring', dir], env, 60_000);
  return {
    name: 'c',
    xenDir: path.join(dir, 'xen'),
    socket: path.join(dir, 'socket'),
    stop: async () => {
      await sh('bash', [PEERS_SH, 'stop', dir], env, 30_000).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

interface BenchOut {
  ops_per_s: number;
  round_us_p50: number;
  round_us_p99: number;
}

async function bench(build: string, m: Machine, domid: number, guests: number, idle: number, secs: number): Promise<BenchOut> {
  const env: NodeJS.ProcessEnv = { ...process.env, XENSIM_BUILD: build };
  delete env.XENSTORED_PATH;
  const args = [GUEST_PY, 'bench', '--xensim', XENSIM_SRC, '--dir', m.xenDir, '--socket', m.socket, '--domid', String(domid), '--guests', String(guests), '--idle', String(idle), '--secs', String(secs)];
  const out = await sh('/usr/bin/python3', args, env, 600_000);
  const lines = out.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]) as BenchOut;
}

export const ring: Workload = {
  name: 'ring',
  title: 'Guests over shared-memory rings (xensim)',
  implemented: true,
  smoke: false,
  async run(ctx: Ctx): Promise<WorkloadResult> {
    const s = ctx.settings;
    const { rows, runs, notes } = collector();
    const secs = Math.max(2, Math.min(s.secs, 5));
    const idleN = s.mode === 'full' ? 1000 : 200;
    const params = { secs, guests: [1, 8], idle: idleN, reps: s.reps };
    let build: string;
    try {
      if (!existsSync(GUEST_PY) || !existsSync(PEERS_SH)) throw new Error(`needs ${GUEST_PY} and ${PEERS_SH}`);
      build = await xensimBuild();
    } catch (e) {
      notes.push(`skipped: xensim unavailable (${(e as Error).message.split('\n')[0]})`);
      return { name: 'ring', title: this.title, params, rows: rows.list(['xsgit', 'c']), runs, notes };
    }
    const wanted = new Set(ctx.daemons.map((d) => d.name as string));
    const kinds = (['xsgit', 'c'] as const).filter((k) => wanted.has(k) || wanted.size === 0);
    for (let rep = 0; rep < s.reps; rep++) {
      for (const kind of rep % 2 === 0 ? kinds : [...kinds].reverse()) {
        let m: Machine | null = null;
        try {
          m = kind === 'xsgit' ? await startXsgit(build) : await startC(build);
          let domid = 10;
          for (const g of [1, 8]) {
            const r = await bench(build, m, domid, g, 0, secs);
            domid += 20;
            runs.push({ workload: 'ring', variant: `${g} guest${g > 1 ? 's' : ''}`, daemon: kind, rep, tool: 'ts', result: { ...r } });
            ctx.log(`  ${kind.padEnd(5)} ring, ${g} guest(s) rep ${rep}: ${Math.round(r.ops_per_s)} req/s, round p50 ${Math.round(r.round_us_p50)} us`);
            rows.add(`ring.g${g}.ops`, { workload: 'ring', variant: `${g} guest${g > 1 ? 's' : ''}, lock step`, metric: 'ring requests/s ↑', better: 'higher' }, kind, r.ops_per_s);
            rows.add(`ring.g${g}.p50`, { workload: 'ring', variant: `${g} guest${g > 1 ? 's' : ''}, lock step`, metric: 'round p50 µs ↓', better: 'lower', hidden: true }, kind, r.round_us_p50);
          }
          const base = await bench(build, m, domid, 1, 0, secs);
          const loaded = await bench(build, m, domid + 1, 1, idleN, secs);
          const slow = loaded.round_us_p50 / base.round_us_p50;
          runs.push({ workload: 'ring', variant: `1 guest beside ${idleN} idle`, daemon: kind, rep, tool: 'ts', result: { base: { ...base }, loaded: { ...loaded } } });
          ctx.log(`  ${kind.padEnd(5)} ring, 1 guest beside ${idleN} idle rep ${rep}: p50 ${Math.round(loaded.round_us_p50)} us vs ${Math.round(base.round_us_p50)} us alone (${slow.toFixed(2)}×)`);
          rows.add(`ring.idle${idleN}.slowdown`, { workload: 'ring', variant: `1 guest beside ${idleN} idle guests`, metric: 'p50 round trip ÷ alone ↓', better: 'lower', digits: 2 }, kind, slow);
        } catch (e) {
          notes.push(`${kind} rep ${rep}: ${(e as Error).message.split('\n')[0]}`);
          ctx.log(`  ${kind}: ring workload failed: ${(e as Error).message}`);
        } finally {
          await m?.stop();
        }
      }
    }
    notes.push('guests are xensim.py (Python) in one process, in lock step; both daemons run on xensim (a simulated hypervisor: event channels are FIFOs, pages are shared files), so absolute numbers are not those of real Xen');
    return { name: 'ring', title: this.title, params, rows: rows.list(['xsgit', 'c']), runs, notes };
  },
};
