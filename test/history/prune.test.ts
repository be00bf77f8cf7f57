/** Retention in the running daemon: bounded history, ids that stay valid, dry runs, pins. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../../src/client/index.js';
import { historyQuery } from '../../src/cli/history.js';
import { startDaemon, TEST_PEER, type DaemonHandle } from '../helpers/daemon.js';

const onlyXsgit = TEST_PEER === 'xsgit' ? describe : describe.skip;

interface Stats {
  retained: number;
  commits: number;
  tiers: { tier: string; rows: number; capacity: number }[];
}

onlyXsgit('history retention in the daemon', () => {
  let d: DaemonHandle;
  let c: Client;
  beforeAll(async () => {
    d = await startDaemon({ args: ['--history', 'all:20,1s:3,1h:2'] });
    c = await Client.connect({ path: d.socket });
  });
  afterAll(async () => {
    await c?.close();
    await d?.stop();
  });

  const stats = async () => JSON.parse(await c.control('history', 'stats', '--json')) as Stats;

  it('keeps at most the bound of retained commits while writes go on, and old ids stay valid', async () => {
    await c.write('/keep/v', 'pinned-value');
    const pinned = await c.control('history', 'tag', 'keep-me');
    let seen = '';
    for (let i = 0; i < 400; i++) {
      await c.write(`/soak/k${i % 10}`, String(i));
      if (i === 390) seen = (JSON.parse(await c.control('history', 'log', '-n', '1', '--json')) as { commit: string }[])[0].commit;
    }
    // The pruner runs between batches of requests; give it a few turns.
    let s = await stats();
    for (let i = 0; i < 50 && s.tiers[0].rows > 20 + 16; i++) {
      await new Promise((r) => setTimeout(r, 20));
      s = await stats();
    }
    expect(s.commits).toBeGreaterThanOrEqual(401);
    expect(s.tiers[0].capacity).toBe(20);
    expect(s.tiers[0].rows).toBeLessThanOrEqual(20 + 16);
    expect(s.retained).toBeLessThanOrEqual(20 + 16 + 3 + 2);
    // A retained commit's id (seen before the prunes) still names the same state.
    expect(await c.control('history', 'cat', seen, '/soak/k0')).toBe('390');
    // The pinned commit survives, with its id.
    expect(await c.control('history', 'cat', pinned, '/keep/v')).toBe('pinned-value');
    // main's log ends where the window ends.
    const log = JSON.parse(await historyQuery(c, ['log', '--json'])) as unknown[];
    expect(log.length).toBeLessThanOrEqual(20 + 16);
  });

  it('prune --dry-run lists what would go without dropping it; prune drops it', async () => {
    await c.control('history', 'prune'); // main back to its 20: the next 10 stay under the batch size
    for (let i = 0; i < 10; i++) await c.write('/dry/x', String(i));
    const listed = (await c.control('history', 'prune', '--dry-run')).split('\n').filter((l) => l.length > 0);
    const before = await stats();
    const excess = before.tiers.reduce((n, t) => n + Math.max(0, t.rows - t.capacity), 0);
    expect(excess).toBeGreaterThan(0);
    expect(listed.length).toBe(excess);
    expect((await stats()).retained).toBe(before.retained); // a dry run drops nothing
    expect(await c.control('history', 'prune')).toMatch(/^\d+ commits pruned, \d+ retained\n$/);
    const after = await stats();
    expect(after.tiers[0].rows).toBe(20);
  });
});
