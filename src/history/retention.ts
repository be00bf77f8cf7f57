/**
 * RRD-style retention (rrdtool's round-robin archives with the LAST consolidation function):
 * the newest commits of `main` at full resolution, then one state per time bucket in each
 * coarser tier, each tier a bounded number of rows. So the history stays within
 * `all + Σ rows` commits (plus pins), whatever the write rate or the uptime.
 */

export interface Tier {
  /** `all` for the full-resolution window of main, else the bucket width, e.g. `10m`. */
  readonly name: string;
  /** Bucket width in ms (0 for `all`). */
  readonly resolution: number;
  /** How many commits (rows) the tier keeps. */
  readonly rows: number;
}

/** The default: the last 1,024 commits; a state per minute for 2 h, per 10 minutes for a
 *  day, per hour for a week, per day for a month. At most 1,486 retained commits. */
export const DEFAULT_RETENTION = 'all:1024,1m:120,10m:144,1h:168,1d:30';

const UNITS: Record<string, number> = { s: 1e3, m: 6e4, h: 36e5, d: 864e5, w: 6048e5 };

/** Parses `all:1024,1m:120,…`. Coarser tiers must come after finer ones. */
export function parseRetention(spec: string): Tier[] {
  const tiers: Tier[] = [];
  for (const part of spec.split(',')) {
    const m = /^(all|(\d+)([smhdw])):(\d+)$/.exec(part.trim());
    if (m === null) throw new Error(`bad retention tier "${part}" (expected all:N or <n><s|m|h|d|w>:N)`);
    const rows = Number(m[4]);
    if (rows < 1) throw new Error(`retention tier "${part}" keeps no rows`);
    const resolution = m[1] === 'all' ? 0 : Number(m[2]) * UNITS[m[3]];
    if (m[1] !== 'all' && resolution === 0) throw new Error(`retention tier "${part}" has no width`);
    const prev = tiers[tiers.length - 1];
    if (prev !== undefined && resolution <= prev.resolution) throw new Error(`retention tiers must grow coarser: "${part}"`);
    tiers.push({ name: m[1], resolution, rows });
  }
  if (tiers.length === 0 || tiers[0].resolution !== 0) throw new Error('retention must start with all:N');
  return tiers;
}

/** How many commits each chain keeps under `spec` (`off`: none but the head), by the name
 *  of its branch: `main` for the window, `history/<tier>` for the coarse tiers. A restart
 *  reads that many back from the repository (cli/daemon.ts). */
export function chainRows(spec: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const t of parseRetention(spec === 'off' ? 'all:1' : spec)) out.set(t.resolution === 0 ? 'main' : `history/${t.name}`, t.rows);
  return out;
}

/** The most commits a retention keeps, pins aside. */
export function retentionBound(tiers: readonly Tier[]): number {
  return tiers.reduce((n, t) => n + t.rows, 0);
}

/**
 * One coarse tier's bookkeeping, independent of what a commit is: which bucket is filling,
 * the last entry seen in it (LAST consolidation) and how many it stands for.
 */
export class Bucketer<T> {
  private bucket = -Infinity;
  private last: T | null = null;
  private count = 0;

  constructor(readonly tier: Tier) {}

  /**
   * Offers an entry made at `time`. Returns the finished previous bucket (its last entry, the
   * number of entries it covers, and its start time) when `time` falls in a later bucket.
   * A clock that jumps back is treated as still in the current bucket, so order is kept.
   */
  offer(entry: T, time: number): { last: T; covers: number; bucketStart: number } | null {
    const b = Math.floor(time / this.tier.resolution);
    let done: { last: T; covers: number; bucketStart: number } | null = null;
    if (b > this.bucket && this.last !== null) done = { last: this.last, covers: this.count, bucketStart: this.bucket * this.tier.resolution };
    if (b > this.bucket || this.last === null) {
      this.bucket = Math.max(b, this.bucket);
      this.count = 0;
    }
    this.last = entry;
    this.count++;
    return done;
  }

  /** The bucket still filling (shown by `stats`, not yet a row). */
  pending(): { last: T; covers: number } | null {
    return this.last === null ? null : { last: this.last, covers: this.count };
  }
}
