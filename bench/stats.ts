/** Small statistics helpers for the benchmark harness. */

export function median(xs: readonly (number | null | undefined)[]): number | null {
  const v = xs.filter((x): x is number => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const m = v.length >> 1;
  return v.length % 2 ? v[m]! : (v[m - 1]! + v[m]!) / 2;
}

/** Nearest-rank percentile of an already sorted array (q in [0, 1]). */
export function percentileSorted(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

/** Latency recorder with microsecond resolution; stores every sample (runs are bounded). */
export class Latencies {
  private readonly us: number[] = [];
  add(ns: bigint): void {
    this.us.push(Number(ns) / 1000);
  }
  get count(): number {
    return this.us.length;
  }
  summary(): { p50_us: number | null; p99_us: number | null; p999_us: number | null; max_us: number | null } {
    const s = this.us.slice().sort((a, b) => a - b);
    const r = (x: number | null) => (x === null ? null : Math.round(x * 10) / 10);
    return {
      p50_us: r(percentileSorted(s, 0.5)),
      p99_us: r(percentileSorted(s, 0.99)),
      p999_us: r(percentileSorted(s, 0.999)),
      max_us: r(s.length ? s[s.length - 1]! : null),
    };
  }
}

/** Jain's fairness index of per-client throughputs: 1 = perfectly fair, 1/n = one client wins all. */
export function jain(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  let s = 0;
  let s2 = 0;
  for (const x of xs) {
    s += x;
    s2 += x * x;
  }
  return s2 === 0 ? null : (s * s) / (xs.length * s2);
}

export function round(x: number | null | undefined, digits = 1): number | null {
  if (x === null || x === undefined || !Number.isFinite(x)) return null;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
