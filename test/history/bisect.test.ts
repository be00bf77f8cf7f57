/** The bisection state machine (src/history/bisect.ts), against every first-bad position and
 *  skip pattern of short lines. */
import { describe, expect, it } from 'vitest';
import { Bisection, type Verdict } from '../../src/history/bisect.js';

function bisect(n: number, firstBad: number, skipped: ReadonlySet<number>): { result: ReturnType<Bisection<number>['result']>; steps: number } {
  const line = Array.from({ length: n }, (_, i) => i);
  const b = new Bisection(line);
  let steps = 0;
  for (let i = b.next(); i !== null; i = b.next()) {
    const v: Verdict = skipped.has(i) ? 'skip' : i < firstBad ? 'good' : 'bad';
    b.mark(i, v);
    steps++;
    if (steps > 2 * n) throw new Error('does not end');
  }
  return { result: b.result(), steps };
}

describe('Bisection', () => {
  it('finds every first bad commit in about log2(n) steps without skips', () => {
    for (let n = 1; n <= 40; n++) {
      for (let f = 0; f < n; f++) {
        const { result, steps } = bisect(n, f, new Set());
        expect(result).toEqual({ first: f });
        expect(steps).toBeLessThanOrEqual(Math.ceil(Math.log2(n)));
      }
    }
  });

  it('steps around skipped commits, and lists the candidates when skips hide the answer', () => {
    for (let n = 2; n <= 9; n++) {
      for (let f = 0; f < n; f++) {
        for (let mask = 0; mask < 1 << (n - 1); mask++) {
          const skipped = new Set([...Array(n - 1).keys()].filter((i) => mask & (1 << i)));
          const { result } = bisect(n, f, skipped);
          if ('first' in result) {
            expect(result.first).toBe(f);
          } else {
            // The true answer is among the candidates, which are skipped ones plus the last.
            expect(result.candidates).toContain(f);
            expect(result.candidates.slice(0, -1).every((i) => skipped.has(i))).toBe(true);
            expect(result.candidates.length).toBeGreaterThan(1);
          }
        }
      }
    }
  });
});
