/** The persistent child map against a plain sorted model, through random operations. */
import { describe, expect, it } from 'vitest';
import { ChildMap } from '../../src/store/childmap.js';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('ChildMap', () => {
  it('agrees with a sorted model through 20,000 random sets and deletes, old versions untouched', () => {
    const r = rng(7);
    let m = ChildMap.empty<number>();
    const model = new Map<string, number>();
    const snapshots: [ChildMap<number>, [string, number][]][] = [];
    for (let i = 0; i < 20_000; i++) {
      const k = `n${Math.floor(r() * 3000)}`;
      if (r() < 0.3) {
        m = m.delete(k);
        model.delete(k);
      } else {
        m = m.set(k, i);
        model.set(k, i);
      }
      if (i % 2000 === 0) snapshots.push([m, [...model].sort((a, b) => (a[0] < b[0] ? -1 : 1))]);
    }
    const sorted = [...model].sort((a, b) => (a[0] < b[0] ? -1 : 1));
    expect(m.size).toBe(model.size);
    expect(m.bytes).toBe(sorted.reduce((n, [k]) => n + k.length + 1, 0));
    const seen: [string, number][] = [];
    m.forEach((k, v) => {
      seen.push([k, v]);
    });
    expect(seen).toEqual(sorted);
    for (const [k, v] of model) expect(m.get(k)).toBe(v);
    expect(m.get('absent')).toBeUndefined();
    expect(m.joined()).toBe(sorted.map(([k]) => `${k}\0`).join(''));
    for (const [snap, want] of snapshots) {
      const got: [string, number][] = [];
      snap.forEach((k, v) => {
        got.push([k, v]);
      });
      expect(got).toEqual(want);
    }
  });

  it('shares structure: one update of a 10,000-entry map leaves the old version and copies little', () => {
    let m = ChildMap.empty<number>();
    for (let i = 0; i < 10_000; i++) m = m.set(String(i).padStart(5, '0'), i);
    const m2 = m.set('05000', -1);
    expect(m.get('05000')).toBe(5000);
    expect(m2.get('05000')).toBe(-1);
    expect(m2.get('09999')).toBe(9999);
    expect(m2.sameKeys(m)).toBe(true);
    expect(m.set('05000', 5000)).toBe(m); // same value: same map
    expect(m2.delete('nope')).toBe(m2);
  });

  it('empties to the shared empty map and stops a walk early', () => {
    let m = ChildMap.empty<string>().set('b', 'B').set('a', 'A').set('c', 'C');
    const firstTwo: string[] = [];
    m.forEach((k) => {
      firstTwo.push(k);
      return firstTwo.length < 2;
    });
    expect(firstTwo).toEqual(['a', 'b']);
    m = m.delete('a').delete('b').delete('c');
    expect(m).toBe(ChildMap.empty());
    expect(m.joined()).toBe('');
  });
});
