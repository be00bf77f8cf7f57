/**
 * The mirror lag of the last SAMPLES commits (ms from the commit to the end of the batch that
 * wrote it), in a ring: fixed memory, percentiles on demand (a sort of at most SAMPLES).
 */
const SAMPLES = 10_000;

export class LagSamples {
  private readonly ring = new Float64Array(SAMPLES);
  private count = 0;

  add(ms: number): void {
    this.ring[this.count % SAMPLES] = ms;
    this.count++;
  }

  /** The q-quantile (0..1) of the samples, or null before the first. */
  percentile(q: number): number | null {
    const n = Math.min(this.count, SAMPLES);
    if (n === 0) return null;
    const sorted = this.ring.slice(0, n).sort();
    return sorted[Math.min(n - 1, Math.floor(q * n))];
  }
}
