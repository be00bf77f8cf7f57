/** Shared types of the benchmark harness. */
import type { Daemon } from './daemons.js';

export interface Settings {
  mode: 'full' | 'quick' | 'smoke';
  reps: number;
  /** Seconds per throughput / idle measurement. */
  secs: number;
  warmupSecs: number;
  clients: number[];
  contendClients: number[];
  idleLevels: number[];
  /** What the active client does beside the idle connections. */
  idleModes: ('read' | 'write')[];
  growthSizes: number[];
  growthSecs: number;
  /** Most creates timed per create-latency run. */
  createMax: number;
  /** Seconds each daemon may spend seeding nodes for the growth workload (0 = unlimited). */
  seedBudgetSecs: number;
  /** Seeding stops for a daemon whose RSS exceeds this (MiB), to protect the machine. */
  maxRssMib: number;
  watchCounts: number[];
  watchSecs: number;
  /** Longest wait for a daemon to go idle after a run (its deferred work is charged to the run). */
  settleCapMs: number;
}

export type Better = 'higher' | 'lower' | 'none';

/** One line of the results table: a metric of one workload variant, per daemon. */
export interface Row {
  id: string;
  workload: string;
  variant: string;
  metric: string;
  better: Better;
  digits: number;
  /** Medians (or the single value) per daemon; null = not measured. */
  values: Record<string, number | null>;
  /** Kept in the results file but left out of the printed table. */
  hidden?: boolean;
  /** Per-run values per daemon, in run order. */
  samples: Record<string, (number | null)[]>;
}

export interface RawRun {
  workload: string;
  variant: string;
  daemon: string;
  rep: number;
  tool: 'xsload' | 'ts';
  args?: (string | number)[];
  result: Record<string, unknown>;
}

export interface WorkloadResult {
  name: string;
  title: string;
  params: Record<string, unknown>;
  rows: Row[];
  runs: RawRun[];
  notes: string[];
  /** Each daemon's VmRSS / VmHWM (kB) when the workload ended (filled in by run.ts). */
  memory_after?: Record<string, { rss_kb: number | null; hwm_kb: number | null }>;
  duration_s?: number;
}

export interface Ctx {
  daemons: Daemon[];
  settings: Settings;
  xsload: string | null;
  log: (s: string) => void;
}

export interface Workload {
  name: string;
  title: string;
  /** false = a placeholder listed for --only and in the docs, skipped by default. */
  implemented: boolean;
  /** Part of --smoke (xsgit only, seconds). */
  smoke: boolean;
  /** Needs freshly started daemons (e.g. memory measurements): run.ts restarts them first. */
  fresh?: boolean;
  run(ctx: Ctx): Promise<WorkloadResult>;
}
