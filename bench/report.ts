/**
 * Rendering a results file: the one comparison table (console text or markdown), the issue-6
 * target checks, and the README block between <!-- bench:start --> and <!-- bench:end -->.
 * Everything here reads only the results JSON, so the README can be regenerated from a saved
 * file at any time (`node dist/bench/run.js --render bench/results/<date>.json`).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Row, Settings, WorkloadResult } from './types.js';

export const SCHEMA = 'xsgit-bench/1';

export interface ResultsFile {
  schema: string;
  date: string;
  started_at: string;
  finished_at: string;
  duration_s: number;
  command: string;
  argv: string[];
  mode: Settings['mode'];
  settings: Settings;
  machine: Record<string, unknown>;
  daemons: { name: string; label: string; version: string }[];
  skipped_daemons: { name: string; reason: string }[];
  /** The daemon the ratio columns compare against the others (xsgit when present). */
  subject: string;
  workloads: WorkloadResult[];
  targets: Target[];
  notes: string[];
}

export interface Target {
  target: string;
  status: 'met' | 'missed' | 'n/a';
  detail: string;
}

const LABEL: Record<string, string> = { xsgit: 'xsgit', c: 'C', ocaml: 'ocaml' };
const label = (d: string) => LABEL[d] ?? d;

export function fmtNum(v: number | null | undefined, digits: number): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  if (digits === 0) return Math.round(v).toLocaleString('en-US');
  return v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function ratio(a: number | null | undefined, b: number | null | undefined): string {
  if (a === null || a === undefined || b === null || b === undefined || b === 0) return '–';
  return `${(a / b).toFixed(2)}×`;
}

/** Rows that take a ratio column (not counts that must be zero, not percentages around zero). */
function wantsRatio(r: Row): boolean {
  return !/lost|errors|slowdown|ratio/.test(r.id);
}

export function allRows(res: ResultsFile): Row[] {
  return res.workloads.flatMap((w) => w.rows);
}

export function tableColumns(res: ResultsFile): { daemons: string[]; others: string[] } {
  const daemons = res.daemons.map((d) => d.name);
  return { daemons, others: daemons.filter((d) => d !== res.subject) };
}

/** The comparison table as rows of cells (header first). */
export function tableCells(res: ResultsFile): string[][] {
  const { daemons, others } = tableColumns(res);
  const head = ['workload', 'variant', 'metric', ...daemons.map(label), ...others.map((o) => `${label(res.subject)}/${label(o)}`)];
  const out = [head];
  let lastW = '';
  let lastV = '';
  for (const r of allRows(res)) {
    if (r.hidden) continue;
    const w = r.workload === lastW ? '' : r.workload;
    const v = w === '' && r.variant === lastV ? '' : r.variant;
    lastW = r.workload;
    lastV = r.variant;
    out.push([
      w,
      v,
      r.metric,
      ...daemons.map((d) => fmtNum(r.values[d], r.digits)),
      ...others.map((o) => (wantsRatio(r) ? ratio(r.values[res.subject], r.values[o]) : '')),
    ]);
  }
  return out;
}

export function textTable(cells: string[][]): string {
  const widths = cells[0]!.map((_, i) => Math.max(...cells.map((r) => [...(r[i] ?? '')].length)));
  const numeric = (i: number) => i >= 3;
  const line = (r: string[]) =>
    r
      .map((c, i) => {
        const pad = widths[i]! - [...c].length;
        return numeric(i) ? ' '.repeat(pad) + c : c + ' '.repeat(pad);
      })
      .join('  ')
      .trimEnd();
  const sep = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(cells[0]!), sep, ...cells.slice(1).map(line)].join('\n');
}

export function markdownTable(cells: string[][]): string {
  const esc = (c: string) => c.replace(/\|/g, '\\|');
  const head = `| ${cells[0]!.map(esc).join(' | ')} |`;
  const sep = `|${cells[0]!.map((_, i) => (i >= 3 ? ' ---: ' : ' --- ')).join('|')}|`;
  return [head, sep, ...cells.slice(1).map((r) => `| ${r.map(esc).join(' | ')} |`)].join('\n');
}

// ---------------------------------------------------------------------------------------------
// Targets of issue 6, checked for the subject daemon (xsgit).

function find(res: ResultsFile, id: string): Row | undefined {
  return allRows(res).find((r) => r.id === id);
}

export function computeTargets(res: ResultsFile): Target[] {
  const s = 'xsgit';
  const out: Target[] = [];
  const has = res.daemons.some((d) => d.name === s);
  const val = (id: string, d: string) => find(res, id)?.values[d] ?? null;
  const na = (target: string, detail: string) => out.push({ target, status: 'n/a', detail });
  const check = (target: string, ok: boolean, detail: string) => out.push({ target, status: ok ? 'met' : 'missed', detail });

  for (const [mode, unit] of [['read', 'op'], ['write', 'op'], ['txn', 'txn']] as const) {
    const t1 = `${mode} throughput at 4 clients ≥ 1.0× C`;
    const t2 = `${mode}: daemon CPU per ${unit} ≤ C's`;
    const a = val(`throughput.${mode}.c4.ops`, s);
    const c = val(`throughput.${mode}.c4.ops`, 'c');
    const ca = val(`throughput.${mode}.c4.cpu`, s);
    const cc = val(`throughput.${mode}.c4.cpu`, 'c');
    if (!has || a === null || c === null) na(t1, 'not measured in this run');
    else check(t1, a >= c, `${(a / c).toFixed(2)}× (${fmtNum(a, 0)} vs ${fmtNum(c, 0)}/s)`);
    if (!has || ca === null || cc === null) na(t2, 'not measured in this run');
    else check(t2, ca <= cc, `${ca.toFixed(1)} vs ${cc.toFixed(1)} µs (${(ca / cc).toFixed(2)}×)`);
  }
  {
    const t = 'contention: lost updates = 0';
    const rows = allRows(res).filter((r) => /^contention\.c\d+\.lost$/.test(r.id));
    const v = rows.map((r) => r.values[s]).filter((x): x is number => typeof x === 'number');
    if (!has || v.length === 0) na(t, 'not measured in this run');
    else check(t, v.every((x) => x === 0), `${v.reduce((a, b) => a + b, 0)} lost`);
  }
  {
    const t = 'write p50 at 1M nodes ≤ 1.2× write p50 at 1k';
    const a = val('growth.n1000.write.p50', s);
    const b = val('growth.n1000000.write.p50', s);
    if (!has || a === null || b === null) na(t, 'not measured in this run (needs the 1k and 1M sizes)');
    else check(t, b <= 1.2 * a, `${(b / a).toFixed(2)}× (${b} vs ${a} µs)`);
  }
  {
    const t = "memory per 100k nodes ≤ oxenstored's";
    const sizes = allRows(res)
      .filter((r) => /^growth\.mem\.n\d+$/.test(r.id) && r.values[s] != null && r.values.ocaml != null)
      .sort((x, y) => Number(y.id.split('.n')[1]) - Number(x.id.split('.n')[1]));
    const r = sizes[0];
    if (!has || !r) na(t, 'not measured in this run (needs xsgit and oxenstored at ≥ 100k nodes)');
    else check(t, r.values[s]! <= r.values.ocaml!, `${r.variant}: ${r.values[s]} vs ${r.values.ocaml} MiB per 100k nodes`);
  }
  {
    const t = '4,096 idle connections slow the active client by ≤ 10 %';
    const rows = ['read', 'write'].map((m) => find(res, `idle.${m}.slowdown`)).filter((r): r is Row => !!r && r.variant.includes('4096 idle'));
    const v = rows.map((r) => r.values[s]).filter((x): x is number => typeof x === 'number');
    if (!has || v.length === 0) na(t, 'not measured in this run (needs 0 and 4,096 idle)');
    else check(t, v.every((x) => x <= 10), rows.map((r) => `${r.variant.split(':')[0]} ${fmtNum(r.values[s], 1)} %`).join(', '));
  }
  {
    const t = 'boot storm N = 1,000, P = 8: wall time ≤ 0.5× the faster peer';
    const a = val('bootstorm.n1000.p8.wall', s);
    const peers = (['c', 'ocaml'] as const).map((d) => [d, val('bootstorm.n1000.p8.wall', d)] as const).filter((x): x is readonly ['c' | 'ocaml', number] => x[1] !== null);
    const best = peers.sort((x, y) => x[1] - y[1])[0];
    if (!has || a === null || !best) na(t, 'not measured in this run (needs N = 1,000, P = 8 for xsgit and a peer)');
    else check(t, a <= 0.5 * best[1], `${(a / best[1]).toFixed(2)}× (${fmtNum(a, 2)} s vs ${fmtNum(best[1], 2)} s for ${label(best[0])})`);
  }
  {
    const t = 'boot storm: zero EAGAIN between transactions of different guests';
    const rows = allRows(res).filter((r) => /^bootstorm\.n\d+\.p\d+\.xeagain$/.test(r.id) && typeof r.values[s] === 'number');
    if (!has || rows.length === 0) na(t, 'not measured in this run');
    else check(t, rows.every((r) => r.values[s] === 0), rows.map((r) => `${r.variant}: ${r.values[s]}`).join(', '));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

function machineLine(res: ResultsFile): string {
  const m = res.machine as Record<string, string | number>;
  return `${m.cpu_model ?? '?'}, ${m.cpus ?? '?'} cores, ${m.mem_gib ?? '?'} GiB RAM, ${m.os ?? 'Linux'} (kernel ${m.kernel ?? '?'}), Node ${m.node ?? '?'}`;
}

export function summaryLines(res: ResultsFile): string[] {
  const lines: string[] = [];
  for (const t of res.targets) lines.push(`- ${t.status === 'met' ? '✅ met' : t.status === 'missed' ? '❌ missed' : '— n/a'}: ${t.target} — ${t.detail}`);
  return lines;
}

export function readmeBlock(res: ResultsFile, resultsPath: string): string {
  const rel = resultsPath;
  const daemons = res.daemons.map((d) => `${label(d.name)} = ${d.version}`).join('; ');
  const parts: string[] = [];
  parts.push('<!-- Generated by `npm run bench` from the results file below; do not edit by hand. -->');
  parts.push('');
  parts.push(`Run on ${res.date} (${res.mode} run, ${res.settings.reps} interleaved runs per cell, medians) on ${machineLine(res)}.`);
  parts.push(`Command: \`${res.command}\`. Results: [\`${rel}\`](${rel}). Daemons: ${daemons}.`);
  if (res.skipped_daemons.length) parts.push(`Not run: ${res.skipped_daemons.map((d) => `${label(d.name)} (${d.reason})`).join('; ')}.`);
  parts.push('');
  parts.push(markdownTable(tableCells(res)));
  parts.push('');
  parts.push('↑ higher is better, ↓ lower is better; ratio columns divide the first daemon by the others. Daemon CPU is its own user+system time per operation, including any work it does after the last reply. See docs/benchmarks.md for the method.');
  const notes = [...res.notes, ...res.workloads.flatMap((w) => w.notes.map((n) => `${w.name}: ${n}`))];
  if (notes.length) {
    parts.push('');
    parts.push('Notes:');
    for (const n of notes) parts.push(`- ${n}`);
  }
  parts.push('');
  parts.push(`Targets of issue 6 (${label(res.subject)}):`);
  parts.push('');
  parts.push(...summaryLines(res));
  return parts.join('\n');
}

export const START = '<!-- bench:start -->';
export const END = '<!-- bench:end -->';

/** Replaces the marked README block. Returns a message saying what happened. */
export function updateReadme(root: string, res: ResultsFile, resultsPath: string): string {
  const readme = path.join(root, 'README.md');
  if (!existsSync(readme)) return `README.md not found in ${root}: benchmark block not written (add a README with the markers ${START} and ${END} on their own lines)`;
  const text = readFileSync(readme, 'utf8');
  const a = text.indexOf(START);
  const b = text.indexOf(END);
  if (a < 0 || b < 0 || b < a) return `README.md has no ${START} … ${END} markers: benchmark block not written`;
  const out = `${text.slice(0, a + START.length)}\n${readmeBlock(res, resultsPath)}\n${text.slice(b)}`;
  if (out !== text) writeFileSync(readme, out);
  return `README.md benchmark block regenerated from ${resultsPath}`;
}
