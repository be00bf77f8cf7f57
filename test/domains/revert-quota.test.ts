/**
 * Every change of the store keeps the quota accounting true (issue 9, defect 1): after
 * `revert-to`, a domain's node count is what the reverted tree gives it.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outcome, ownedUnder, startGuestDaemon, type GuestDaemon } from './guest.js';

let g: GuestDaemon;

beforeAll(async () => {
  g = await startGuestDaemon(['--quota', 'nodes=20']);
});

afterAll(async () => {
  await g?.stop();
});

describe('revert-to and the node quota', () => {
  it('a guest that filled its quota gets back the room the revert gave it', async () => {
    await g.introduce(5);
    const guest = await g.guest(5);
    await guest.write('/local/domain/5/data/a', '1');
    // data and data/a: 2 nodes owned by domain 5.
    expect(await ownedUnder(g.dom0, '/local/domain/5', 5)).toBe(2);
    const tag = (await g.dom0.control('history', 'tag', 'two-nodes')).trim();
    let filled = 0;
    while ((await outcome(guest.write(`/local/domain/5/data/f${filled}`, 'x'))) === 'OK') filled++;
    expect(filled).toBe(18);
    expect((await g.usage(5)).nodes).toBe(20);

    await g.dom0.control('history', 'revert-to', tag);
    expect(await g.dom0.directory('/local/domain/5/data')).toEqual(['a']);
    // One commit by dom0, made of the operations the revert ran: 18 removals.
    const [head] = JSON.parse(await g.dom0.control('history', 'log', '-n', '1', '--json')) as { domid: number; changes: { op: string; path: string }[] }[];
    expect(head.domid).toBe(0);
    expect(head.changes.map((c) => c.op)).toEqual(Array.from({ length: 18 }, () => 'rm'));
    expect((await g.usage(5)).nodes).toBe(2);
    let again = 0;
    while ((await outcome(guest.write(`/local/domain/5/data/g${again}`, 'x'))) === 'OK') again++;
    expect(again).toBe(18);
    expect((await g.usage(5)).nodes).toBe(20);
  });

});
