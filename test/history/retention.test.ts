/** The RRD tier algorithm with a fake clock, and the pruner's promises: bounded history,
 *  stable ids, pins kept. */
import { describe, expect, it } from 'vitest';
import { commitIdOf, encodeCommitOf } from '../../src/history/commitId.js';
import { hashObject } from '../../src/git/utils/hashObject.js';
import type { Change } from '../../src/store/change.js';
import type { Commit } from '../../src/history/commit.js';
import { History } from '../../src/history/history.js';
import { Bucketer, DEFAULT_RETENTION, parseRetention, retentionBound } from '../../src/history/retention.js';
import { lookup } from '../../src/store/tree.js';
import { Store } from '../../src/history/store.js';
import * as ops from '../../src/store/ops.js';

const dom0 = { domid: 0, privileged: true, target: -1, home: '/local/domain/0' };
/** Every domain live, nothing counted: what a privileged caller's operations need. */
const live: ops.DomainCheck = { isLive: () => true, counting: false, limit: () => 0, owned: () => 0, account: () => {} };

/** A store on a fake clock, and a function writing one value per call. */
function fixture(retention: string) {
  let now = 1_700_000_000_000;
  const store = new Store({ clock: () => now, retention });
  const write = (path: string, value: string, advance = 1000) => {
    now += advance;
    const v = store.begin();
    const log: Change[] = [];
    expect(ops.write(v, live, dom0, null, log, path, value)).toBeNull();
    store.publish(v, 0, log, null);
  };
  return { store, write, clock: { set: (t: number) => (now = t), get: () => now } };
}

describe('retention spec', () => {
  it('parses the default and bounds it', () => {
    const t = parseRetention(DEFAULT_RETENTION);
    expect(t.map((x) => x.name)).toEqual(['all', '1m', '10m', '1h', '1d']);
    expect(t[2].resolution).toBe(600_000);
    expect(retentionBound(t)).toBe(1024 + 120 + 144 + 168 + 30);
  });

  it('refuses specs that are not tiers growing coarser', () => {
    for (const bad of ['1m:10', 'all:10,1h:5,1m:5', 'all:0', 'all:10,0m:3', 'all:10,5x:3', '']) expect(() => parseRetention(bad)).toThrow();
  });
});

describe('bucketing (LAST of each bucket)', () => {
  const tier = parseRetention('all:1,1m:10')[1];

  it('closes a bucket at its edge and reports what it covered', () => {
    const b = new Bucketer<string>(tier);
    expect(b.offer('a', 0)).toBeNull();
    expect(b.offer('b', 59_999)).toBeNull();
    expect(b.offer('c', 60_000)).toEqual({ last: 'b', covers: 2, bucketStart: 0 });
    expect(b.pending()).toEqual({ last: 'c', covers: 1 });
  });

  it('a jump over empty buckets closes one row; a clock jumping back stays in the bucket', () => {
    const b = new Bucketer<string>(tier);
    b.offer('a', 10_000);
    expect(b.offer('b', 600_000)).toEqual({ last: 'a', covers: 1, bucketStart: 0 });
    expect(b.offer('c', 5_000)).toBeNull(); // back in time: counted in the current bucket
    expect(b.offer('d', 660_000)).toEqual({ last: 'c', covers: 2, bucketStart: 600_000 });
  });
});

describe('History with retention', () => {
  it('stays within the bound whatever the number of commits', () => {
    const { store, write } = fixture('all:20,10s:5,1m:4');
    for (let i = 0; i < 2000; i++) {
      write(`/a/k${i % 7}`, String(i), 1000);
      if (store.history.needsPrune()) store.history.prune();
    }
    store.history.prune();
    const h = store.history;
    expect(h.retained).toBeLessThanOrEqual(20 + 5 + 4);
    expect(h.occupancy()).toEqual([
      { tier: 'all', rows: 20, capacity: 20 },
      { tier: '10s', rows: 5, capacity: 5 },
      { tier: '1m', rows: 4, capacity: 4 },
    ]);
    // main's line really ends at the window: nothing older is reachable.
    let n = 0;
    for (let c: Commit | undefined = h.head; c !== undefined; c = c.parents[0]) n++;
    expect(n).toBe(20);
  });

  it('a tier row holds the last state of its bucket and says how many commits it covers', () => {
    const { store, write } = fixture('all:5,10s:50');
    for (let i = 0; i < 25; i++) write('/t/v', String(i), 1000); // t = 1s … 25s after the start
    const row = store.history.tierHeads().get('history/10s')!;
    expect(row.tierNote?.covers).toBeGreaterThan(0);
    const origin = row.tierNote!.origin as Commit;
    expect(lookup(row.root, '/t/v')?.value).toBe(lookup(origin.root, '/t/v')?.value);
    expect(row.root).toBe(origin.root); // the tree is shared, not copied
  });

  it('a commit id seen before a prune is still valid after it, when that commit is retained', () => {
    const { store, write } = fixture('all:10,1m:3');
    for (let i = 0; i < 30; i++) write('/s/x', String(i));
    const kept = store.history.head.parents[0].parents[0]; // stays in the window of 10
    const id = commitIdOf(kept);
    const tierRow = store.history.tierHeads().get('history/1m');
    const tierId = tierRow === undefined ? undefined : commitIdOf(tierRow);
    for (let i = 0; i < 6; i++) write('/s/x', `more${i}`);
    expect(store.history.prune()).toBeGreaterThan(0);
    expect(commitIdOf(kept)).toBe(id);
    // The encoding still names the cut-off parents, so the bytes hash to the same id.
    let oldest: Commit = store.history.head;
    while (oldest.parents[0] !== undefined) oldest = oldest.parents[0];
    expect(oldest.cutParentIds).not.toBeNull();
    expect(hashObject('commit', encodeCommitOf(oldest))).toBe(commitIdOf(oldest));
    expect(hashObject('commit', encodeCommitOf(kept))).toBe(id);
    if (tierRow !== undefined) expect(commitIdOf(tierRow)).toBe(tierId);
  });

  it('keeps pinned commits whatever the retention, with their ids', () => {
    const { store, write } = fixture('all:5,1h:2');
    write('/p/x', 'pinned');
    const pinned = store.history.head;
    const id = commitIdOf(pinned);
    store.history.tags.set('keep', pinned);
    for (let i = 0; i < 100; i++) write('/p/x', String(i));
    store.history.prune();
    expect(store.history.tags.get('keep')).toBe(pinned);
    expect(commitIdOf(pinned)).toBe(id);
    expect(lookup(pinned.root, '/p/x')?.value).toBe('pinned');
    expect(pinned.parents).toEqual([]); // nothing older is held through it
  });

  it('History alone: record() on a fresh chain starts with the root commit', () => {
    const h = new History(new Store().root, () => 0, 'all:3');
    expect(h.head.parents).toEqual([]);
    expect(h.retained).toBe(1);
  });
});
