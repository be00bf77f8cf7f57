/**
 * `npm run bench` (= node dist/bench/run.js): benchmarks xsgit side by side with the C xenstored
 * and oxenstored, prints one table with ratios, saves bench/results/<date>.json and regenerates
 * the README block between <!-- bench:start --> and <!-- bench:end --> from that file.
 *
 *   --quick            every workload, reduced (under a minute)
 *   --smoke            xsgit only, seconds; asserts the harness works end to end (for CI)
 *   --only NAME[,..]   run only these workloads (see --list)
 *   --daemons LIST     xsgit,c,ocaml by default; the first is compared with the others
 *   --render FILE      print the table of a saved results file and regenerate the README from it
 *   --merge-into FILE  also merge this run's workloads into a saved results file (replacing the
 *                      workloads of the same name) and regenerate the README from that file
 *   --merge-file RUN   with --merge-into: merge a saved run instead of running (long runs made
 *                      with --out, e.g. the mirror workload at 3,000 guests)
 *
 * See docs/benchmarks.md.
 */
import { Command, Option } from 'commander';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { alive, statusKb } from './proc.js';
import { ALL_KINDS, DAEMON_LABEL, startDaemon, type Daemon, type DaemonKind } from './daemons.js';
import { SCHEMA, computeTargets, tableCells, textTable, summaryLines, updateReadme, type ResultsFile } from './report.js';
import type { Ctx, Settings, WorkloadResult } from './types.js';
import { WORKLOADS } from './workloads/index.js';
import { locateTools } from './xsload.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

const list = (s: string) => s.split(',').map((x) => x.trim()).filter(Boolean);
const nums = (s: string) => list(s).map((x) => {
  const m = /^(\d+(?:\.\d+)?)([kKmM]?)$/.exec(x);
  if (!m) throw new Error(`not a number: ${x}`);
  return Math.round(Number(m[1]) * (m[2] ? (m[2].toLowerCase() === 'k' ? 1e3 : 1e6) : 1));
});

/** A quarter of the machine's memory, at most 6 GiB. */
function defaultMaxRss(): number {
  return Math.min(6144, Math.floor(os.totalmem() / 2 ** 20 / 4));
}

function presets(mode: Settings['mode']): Settings {
  switch (mode) {
    case 'full':
      return {
        mode, reps: 3, secs: 3, warmupSecs: 1, clients: [1, 4, 16], contendClients: [4, 16],
        idleLevels: [0, 512, 4096], idleModes: ['read', 'write'], growthSizes: [1e3, 1e4, 1e5, 1e6], growthSecs: 2, createMax: 20_000,
        seedBudgetSecs: 300, maxRssMib: defaultMaxRss(), watchCounts: [1000, 10_000], watchSecs: 2, settleCapMs: 5000,
      };
    case 'quick':
      return {
        mode, reps: 3, secs: 0.25, warmupSecs: 0.2, clients: [4], contendClients: [16],
        idleLevels: [0, 512], idleModes: ['read'], growthSizes: [1e3, 5e4], growthSecs: 0.15, createMax: 1000,
        seedBudgetSecs: 15, maxRssMib: defaultMaxRss(), watchCounts: [10_000], watchSecs: 0.2, settleCapMs: 1000,
      };
    case 'smoke':
      return {
        mode, reps: 1, secs: 0.25, warmupSecs: 0.1, clients: [1, 4], contendClients: [4],
        idleLevels: [0, 64], idleModes: ['read', 'write'], growthSizes: [1000, 5000], growthSecs: 0.2, createMax: 500,
        seedBudgetSecs: 20, maxRssMib: defaultMaxRss(), watchCounts: [200], watchSecs: 0.2, settleCapMs: 1000,
      };
  }
}

function machineInfo(): Record<string, unknown> {
  const cpus = os.cpus();
  let distro = '';
  try {
    distro = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? '';
  } catch {
    /* none */
  }
  return {
    cpu_model: cpus[0]?.model.trim() ?? 'unknown',
    cpus: cpus.length,
    mem_gib: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: distro || os.type(),
    kernel: os.release(),
    node: process.version,
    arch: process.arch,
    loadavg_at_start: os.loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

function localDate(d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

function commandLine(argv: string[]): string {
  const q = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`);
  if (process.env.npm_lifecycle_event === 'bench') return `npm run bench${argv.length ? ` -- ${argv.map(q).join(' ')}` : ''}`;
  return `node dist/bench/run.js${argv.length ? ` ${argv.map(q).join(' ')}` : ''}`;
}

interface Opts {
  quick?: boolean;
  smoke?: boolean;
  only?: string;
  daemons?: string;
  reps?: string;
  secs?: string;
  clients?: string;
  contend?: string;
  idle?: string;
  sizes?: string;
  watches?: string;
  seedBudget?: string;
  maxRss?: string;
  out?: string;
  readme: boolean;
  render?: string;
  mergeInto?: string;
  mergeFile?: string;
  keep?: boolean;
  list?: boolean;
  shared?: string;
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const program = new Command()
    .name('npm run bench --')
    .description('Benchmark xsgit side by side with C xenstored and oxenstored (see docs/benchmarks.md).')
    .option('--quick', 'every workload, reduced: under a minute')
    .option('--smoke', 'xsgit only, a few seconds; exit 1 unless the harness works end to end')
    .option('--only <names>', 'comma-separated workloads to run (see --list)')
    .option('--daemons <list>', 'daemons to run, the first compared with the others (default xsgit,c,ocaml; --smoke: xsgit)')
    .option('--reps <n>', 'interleaved runs per cell (medians)')
    .option('--secs <s>', 'seconds per throughput/contention/idle run')
    .option('--clients <list>', 'client counts for throughput, e.g. 1,4,16')
    .option('--contend <list>', 'client counts for contention')
    .option('--idle <list>', 'idle connection counts, e.g. 0,512,4096')
    .option('--sizes <list>', 'store sizes for growth, e.g. 1k,10k,100k,1M')
    .option('--watches <list>', 'watch counts for the fan-out, e.g. 1k,10k')
    .option('--seed-budget <s>', 'seconds each daemon may spend seeding the growth store (0 = no limit)')
    .option('--max-rss <mib>', 'stop seeding a daemon once its RSS exceeds this many MiB')
    .option('--out <file>', 'results file (default bench/results/<date>[-quick|-only-…].json; smoke: a temp file)')
    .option('--no-readme', 'do not regenerate the README block')
    .option('--render <file>', 'print the table of a saved results file and regenerate the README from it; no run')
    .option('--merge-into <file>', 'merge this run\'s workloads into a saved results file (same name = replaced) and regenerate the README from it')
    .option('--merge-file <run>', 'with --merge-into: merge this saved run instead of running anything')
    .option('--keep', 'keep the daemons\' run directories (logs, history) after the run')
    .option('--list', 'list the workloads and exit')
    .addOption(new Option('--shared <dir>', 'the shared folder holding peers/ (default ../shared)').env('XSGIT_SHARED'))
    .exitOverride();
  try {
    program.parse(process.argv);
  } catch (e) {
    return (e as { exitCode?: number }).exitCode ?? 2;
  }
  const o = program.opts<Opts>();
  const log = (s: string) => process.stderr.write(`${s}\n`);

  if (o.list) {
    for (const w of WORKLOADS) console.log(`${w.name.padEnd(11)} ${w.implemented ? '' : '(not implemented yet) '}${w.title}`);
    return 0;
  }
  if (o.mergeFile) {
    // Merge a saved run (for example a long one made with --out) into a results file.
    if (!o.mergeInto) throw new Error('--merge-file needs --merge-into FILE');
    const run = JSON.parse(readFileSync(o.mergeFile, 'utf8')) as ResultsFile;
    const merged = mergeResults(JSON.parse(readFileSync(o.mergeInto, 'utf8')) as ResultsFile, run, path.relative(ROOT, path.resolve(o.mergeFile)));
    writeFileSync(o.mergeInto, `${JSON.stringify(merged, null, 1)}\n`);
    log(`merged ${run.workloads.map((w) => w.name).join(', ')} into ${o.mergeInto}`);
    if (o.readme) log(updateReadme(ROOT, merged, path.relative(ROOT, path.resolve(o.mergeInto))));
    return 0;
  }
  if (o.render) {
    const res = JSON.parse(readFileSync(o.render, 'utf8')) as ResultsFile;
    res.targets = computeTargets(res);
    console.log(textTable(tableCells(res)));
    console.log(`\n${summaryLines(res).join('\n')}`);
    if (o.readme) log(updateReadme(ROOT, res, path.relative(ROOT, path.resolve(o.render))));
    return 0;
  }

  const mode: Settings['mode'] = o.smoke ? 'smoke' : o.quick ? 'quick' : 'full';
  const s = presets(mode);
  const positive = (name: string, v: string, zeroOk = false) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0 || (!zeroOk && n === 0)) throw new Error(`--${name}: not a ${zeroOk ? 'non-negative' : 'positive'} number: ${v}`);
    return n;
  };
  if (o.reps) s.reps = Math.max(1, Math.round(positive('reps', o.reps)));
  if (o.secs) s.secs = positive('secs', o.secs);
  if (o.clients) s.clients = nums(o.clients);
  if (o.contend) s.contendClients = nums(o.contend);
  if (o.idle) s.idleLevels = nums(o.idle);
  if (o.sizes) s.growthSizes = nums(o.sizes);
  if (o.watches) s.watchCounts = nums(o.watches);
  if (o.seedBudget) s.seedBudgetSecs = positive('seed-budget', o.seedBudget, true);
  if (o.maxRss) s.maxRssMib = positive('max-rss', o.maxRss);

  let kinds = list(o.daemons ?? 'xsgit,c,ocaml') as DaemonKind[];
  if (mode === 'smoke' && !o.daemons) kinds = ['xsgit'];
  for (const k of kinds) if (!ALL_KINDS.includes(k)) throw new Error(`unknown daemon '${k}' (xsgit, c, ocaml)`);

  let workloads = WORKLOADS.filter((w) => w.implemented && (mode !== 'smoke' || w.smoke));
  if (o.only) {
    const want = list(o.only);
    for (const n of want) {
      const w = WORKLOADS.find((x) => x.name === n);
      if (!w) throw new Error(`unknown workload '${n}' (${WORKLOADS.map((x) => x.name).join(', ')})`);
      if (!w.implemented) {
        log(`workload '${n}' is not implemented yet`);
        return 2;
      }
    }
    workloads = WORKLOADS.filter((w) => want.includes(w.name));
  }

  const shared = path.resolve(o.shared ?? path.join(ROOT, '..', 'shared'));
  const tools = locateTools(shared, log);
  if (!tools.xsload) log('xsload is not available: throughput, idle and growth fall back to the TS driver');
  const started = new Date();
  const t0 = Date.now();
  const runRoot = mkdtempSync(path.join(os.tmpdir(), 'xsgit-bench-'));
  const daemons: Daemon[] = [];
  const skipped: { name: string; reason: string }[] = [];
  let stopping = false;
  const stopAll = async () => {
    if (stopping) return;
    stopping = true;
    for (const d of daemons) await d.stop().catch(() => undefined);
    if (!o.keep) rmSync(runRoot, { recursive: true, force: true });
    else log(`run directories kept in ${runRoot}`);
  };
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      log(`\n${sig}: stopping the daemons`);
      void stopAll().then(() => process.exit(130));
    });
  }

  let failed = false;
  let daemonDied = false;
  const dead = new Set<Daemon>();
  const results: WorkloadResult[] = [];
  const notes: string[] = [];
  try {
    const startAll = async (gen: number) => {
      for (const k of kinds) {
        if (skipped.some((x) => x.name === k)) continue;
        log(`starting ${DAEMON_LABEL[k]} …`);
        try {
          const d = await startDaemon(k, path.join(runRoot, gen ? `${k}-${gen}` : k), { root: ROOT, peersSh: tools.peersSh, peersBuild: tools.peersBuild, log });
          daemons.push(d);
          log(`  ${k}: pid ${d.pid}, socket ${d.socket} (${d.version})`);
        } catch (e) {
          const reason = (e as Error).message;
          skipped.push({ name: k, reason: reason.slice(0, 300) });
          log(`  ${k} skipped: ${reason}`);
        }
      }
    };
    await startAll(0);
    if (mode === 'smoke' && !daemons.some((d) => d.name === 'xsgit') && kinds.includes('xsgit')) {
      log('smoke: xsgit did not start');
      failed = true;
    } else if (daemons.length === 0) {
      log('no daemon could be started');
      failed = true;
    } else {
      const ctx: Ctx = { daemons, settings: s, xsload: tools.xsload, log };
      let gen = 0;
      let used = false;
      for (const w of workloads) {
        if (w.fresh && used) {
          log(`\nrestarting the daemons: ${w.name} needs fresh ones`);
          for (const d of daemons.splice(0)) await d.stop();
          await startAll(++gen);
        }
        used = true;
        log(`\n== ${w.name}: ${w.title}`);
        const wt = Date.now();
        try {
          const r = await w.run(ctx);
          r.duration_s = Math.round((Date.now() - wt) / 100) / 10;
          r.memory_after = Object.fromEntries(daemons.map((d) => [d.name, { rss_kb: statusKb(d.pid, 'VmRSS'), hwm_kb: statusKb(d.pid, 'VmHWM') }]));
          results.push(r);
        } catch (e) {
          failed = true;
          log(`workload ${w.name} failed: ${(e as Error).stack ?? e}`);
          notes.push(`workload ${w.name} failed: ${(e as Error).message}`);
        }
        log(`   (${((Date.now() - wt) / 1000).toFixed(1)} s)`);
        for (const d of daemons) {
          if (!alive(d.pid) && !dead.has(d)) {
            dead.add(d);
            const tail = logTail(d.log, 6);
            notes.push(`${d.name} died during ${w.name}${tail ? `; the end of its log: ${tail}` : ''}`);
            log(`!! ${d.name} is no longer running; the end of its log:\n${tail}`);
            daemonDied = true;
          }
        }
      }
    }
  } finally {
    await stopAll();
  }

  const finished = new Date();
  const subject = daemons[0]?.name ?? kinds[0] ?? 'xsgit';
  const res: ResultsFile = {
    schema: SCHEMA,
    date: localDate(started),
    started_at: started.toISOString(),
    finished_at: finished.toISOString(),
    duration_s: Math.round((Date.now() - t0) / 100) / 10,
    command: commandLine(argv),
    argv: process.argv,
    mode,
    settings: s,
    machine: machineInfo(),
    daemons: daemons.map((d) => ({ name: d.name, label: DAEMON_LABEL[d.name], version: d.version })),
    skipped_daemons: skipped,
    subject,
    workloads: results,
    targets: [],
    notes: [...notes, ...(tools.xsload ? [] : ['xsload was not available; the TS driver replaced it'])],
  };
  res.targets = computeTargets(res);

  let out = o.out;
  if (!out) {
    if (mode === 'smoke') out = path.join(os.tmpdir(), `xsgit-bench-smoke-${process.pid}.json`);
    else {
      const suffix = o.only ? `-only-${list(o.only).join('+')}` : mode === 'quick' ? '-quick' : '';
      out = path.join(ROOT, 'bench', 'results', `${res.date}${suffix}.json`);
    }
  }
  mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
  writeFileSync(out, `${JSON.stringify(res, null, 1)}\n`);

  console.log('');
  console.log(textTable(tableCells(res)));
  const allNotes = [...res.notes, ...results.flatMap((w) => w.notes.map((n) => `${w.name}: ${n}`))];
  if (allNotes.length) console.log(`\nNotes:\n${allNotes.map((n) => `- ${n}`).join('\n')}`);
  if (skipped.length) console.log(`\nNot run: ${skipped.map((d) => `${d.name} (${d.reason})`).join('; ')}`);
  console.log(`\n${summaryLines(res).join('\n')}`);
  console.log(`\nresults: ${out} (${res.duration_s} s)`);

  if (mode === 'smoke') {
    const problems = smokeCheck(res);
    for (const p of problems) console.log(`smoke: FAIL ${p}`);
    if (problems.length || failed || daemonDied) return 1;
    console.log('smoke: ok');
    return 0;
  }
  if (o.mergeInto && results.length) {
    const merged = mergeResults(JSON.parse(readFileSync(o.mergeInto, 'utf8')) as ResultsFile, res, path.relative(ROOT, out));
    writeFileSync(o.mergeInto, `${JSON.stringify(merged, null, 1)}\n`);
    log(`merged ${results.map((w) => w.name).join(', ')} into ${o.mergeInto}`);
    if (o.readme) log(updateReadme(ROOT, merged, path.relative(ROOT, path.resolve(o.mergeInto))));
  } else if (o.readme && !o.only && !o.out && !failed && daemons.length) log(updateReadme(ROOT, res, path.relative(ROOT, out)));
  else if (o.readme) log(`README block not regenerated (${failed ? 'the harness failed' : 'only full or --quick runs of every workload saved to the default file do that'}; --render FILE does it from a saved file)`);
  return failed || daemonDied ? 1 : 0;
}

/**
 * `base` with the workloads of `run` in place of those of the same name (new ones in registry
 * order), a note saying where they came from, and the targets recomputed.
 */
function mergeResults(base: ResultsFile, run: ResultsFile, runFile: string): ResultsFile {
  const names = new Set(run.workloads.map((w) => w.name));
  const order = (n: string) => {
    const i = WORKLOADS.findIndex((w) => w.name === n);
    return i < 0 ? WORKLOADS.length : i;
  };
  const workloads = [...base.workloads.filter((w) => !names.has(w.name)), ...run.workloads].sort((a, b) => order(a.name) - order(b.name));
  const daemons = [...base.daemons];
  for (const d of run.daemons) if (!daemons.some((x) => x.name === d.name)) daemons.push(d);
  const note = `${[...names].join(', ')}: measured separately on ${run.started_at.slice(0, 16).replace('T', ' ')} UTC with \`${run.command}\` (${run.mode} sizes; daemons ${run.daemons.map((d) => d.version).join('; ')}; raw file ${runFile}) and merged into this file`;
  const notes = [...base.notes.filter((n) => ![...names].some((w) => n.startsWith(`${w}:`) || n.startsWith(`${[...names].join(', ')}:`))), note, ...run.notes];
  const merged: ResultsFile = { ...base, daemons, workloads, notes, targets: [] };
  merged.targets = computeTargets(merged);
  return merged;
}

/** The last lines of a log file, joined with " | " (for notes), or ''. */
function logTail(file: string, lines: number): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-lines).map((l) => l.trim()).join(' | ').slice(0, 800);
  } catch {
    return '';
  }
}

/** What --smoke asserts: every workload ran, measured nonzero work, and saw no errors or losses. */
function smokeCheck(res: ResultsFile): string[] {
  const p: string[] = [];
  const d = res.subject;
  if (res.workloads.length === 0) p.push('no workload ran');
  for (const w of res.workloads) {
    if (w.runs.length === 0) p.push(`${w.name}: no runs`);
    for (const r of w.rows) {
      const v = r.values[d];
      if (/\.(ops)$/.test(r.id) && !(typeof v === 'number' && v > 0)) p.push(`${r.id}: ${v} (expected > 0)`);
      if (/\.(lost|errors)$/.test(r.id) && v !== 0) p.push(`${r.id}: ${v} (expected 0)`);
      if (/\.(p50|create\.p50|write\.p50)$/.test(r.id) && !(typeof v === 'number' && v > 0)) p.push(`${r.id}: ${v} (expected > 0)`);
    }
    for (const run of w.runs) {
      const e = run.result.errors;
      if (typeof e === 'number' && e > 0) p.push(`${w.name} ${run.variant} rep ${run.rep}: ${e} errors`);
    }
  }
  return p;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`bench: ${process.env.BENCH_DEBUG ? ((e as Error).stack ?? e) : ((e as Error).message ?? e)}\n`);
    process.exitCode = 2;
  },
);
