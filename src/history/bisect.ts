/**
 * Bisection over a line of commits, as `git bisect` does it, independent of how a commit is
 * judged (the daemon compares a value at once; the CLI runs a command and waits).
 *
 * `line` is the first-parent line from just after the good commit to the bad one, oldest
 * first; both ends must have been judged first (the caller checks that the good commit is
 * good and the last of `line` bad, as `git bisect` refuses to start otherwise). The first bad
 * commit then lies in line[lo..hi]; each verdict halves that range. A skipped commit (`git
 * bisect run`'s exit 125: cannot be judged) is stepped around; when only skipped commits
 * remain between lo and hi the answer is ambiguous: any of them, or line[hi].
 */

export type Verdict = 'good' | 'bad' | 'skip';

export type BisectResult<T> = { readonly first: T } | { readonly candidates: readonly T[] };

export class Bisection<T> {
  private lo = 0;
  private hi: number;
  private readonly skipped = new Set<number>();

  constructor(readonly line: readonly T[]) {
    if (line.length === 0) throw new Error('Bisection: an empty line has no first bad commit');
    this.hi = line.length - 1;
  }

  /** The index to judge next, or null when the range is settled (see result()). */
  next(): number | null {
    if (this.lo >= this.hi) return null;
    const mid = (this.lo + this.hi) >>> 1;
    // The nearest index to mid in [lo, hi) not skipped yet, alternating below and above.
    for (let d = 0; d <= this.hi - this.lo; d++) {
      for (const i of [mid - d, mid + d]) if (i >= this.lo && i < this.hi && !this.skipped.has(i)) return i;
    }
    return null;
  }

  /** Records the verdict on line[i] (an index next() gave). */
  mark(i: number, v: Verdict): void {
    if (v === 'skip') this.skipped.add(i);
    else if (v === 'good') this.lo = Math.max(this.lo, i + 1);
    else this.hi = Math.min(this.hi, i);
  }

  /** The first bad commit, or the candidates when skipped commits hide it. Call once next()
   *  is null. */
  result(): BisectResult<T> {
    if (this.lo >= this.hi) return { first: this.line[this.hi] };
    return { candidates: this.line.slice(this.lo, this.hi + 1) };
  }

  /** How many steps are left at most (for progress lines), as git prints it. */
  get remaining(): number {
    return Math.ceil(Math.log2(this.hi - this.lo + 1));
  }
}
