/**
 * The mirror lag of every commit written (ms from the commit to the end of the batch that
 * wrote it), as a histogram of logarithmic buckets (each 5 % wider than the one before): fixed
 * memory, percentiles over the daemon's whole life, within 5 %. (A ring of recent samples would
 * forget a storm's backlog once the tail of quick batches has filled it.)
 */
const RATIO = 1.05;
const BUCKETS = 400; // 1.05^400 ms ≈ 3 days: everything above lands in the last bucket

export class LagSamples {
  private readonly counts = new Float64Array(BUCKETS);
  private total = 0;

  add(ms: number): void {
    const b = ms < 1 ? 0 : Math.min(BUCKETS - 1, 1 + Math.floor(Math.log(ms) / Math.log(RATIO)));
    this.counts[b]++;
    this.total++;
  }

  /** The q-quantile (0..1) in ms (the upper edge of its bucket), or null before the first. */
  percentile(q: number): number | null {
    if (this.total === 0) return null;
    const want = Math.max(1, Math.ceil(q * this.total));
    let seen = 0;
    for (let b = 0; b < BUCKETS; b++) {
      seen += this.counts[b];
      if (seen >= want) return b === 0 ? 1 : Math.round(RATIO ** b);
    }
    return Math.round(RATIO ** BUCKETS);
  }
}
