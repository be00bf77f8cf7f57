/**
 * Quotas (issue 5, item 4; reference §7): the C names and defaults, "quota N allows exactly
 * N", ENOSPC (never EQUOTA), dom0 exempt, the node count re-checked at commit; GET_QUOTA /
 * SET_QUOTA, CONTROL quota and --quota NAME=VALUE.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '../../src/client/index.js';
import { startDaemon } from '../helpers/daemon.js';
import { ok, XENSTORE_CONTROL, runTool } from '../helpers/tools.js';
import { outcome, ownedUnder, startGuestDaemon, type GuestDaemon } from './guest.js';

let g: GuestDaemon;

beforeAll(async () => {
  g = await startGuestDaemon();
});

afterAll(async () => {
  await g?.stop();
});

/** Writes data/<prefix><i> for i in [from, to) in one pipelined burst; the outcomes. */
async function burst(c: Client, prefix: string, from: number, to: number): Promise<string[]> {
  const ps: Promise<string>[] = [];
  for (let i = from; i < to; i++) ps.push(outcome(c.write(`data/${prefix}${i}`, '')));
  return Promise.all(ps);
}

/** Creates `count` nodes below data/<prefix>…, in directories of at most 25 (one directory
 *  of 1000 children would break the node-size quota first); one pipelined burst. */
async function fill(c: Client, prefix: string, count: number): Promise<string[]> {
  const ps: Promise<string>[] = [];
  for (let made = 0, k = 0; made < count; k++) {
    ps.push(outcome(c.write(`data/${prefix}${k}`, '')));
    made++;
    for (let j = 0; j < 25 && made < count; j++, made++) ps.push(outcome(c.write(`data/${prefix}${k}/${j}`, '')));
  }
  return Promise.all(ps);
}

describe('defaults', () => {
  it('GET_QUOTA lists the C names with the C defaults', async () => {
    expect(await g.dom0.getQuota()).toBe('nodes watches outstanding memory soft-memory transactions transaction-nodes node-permissions path-max node-size');
    const want: Record<string, string> = {
      nodes: '1000',
      watches: '128',
      outstanding: '20',
      memory: '2621440',
      'soft-memory': '2097152',
      transactions: '10',
      'transaction-nodes': '1024',
      'node-permissions': '5',
      'path-max': '2048',
      'node-size': '2048',
    };
    for (const [name, value] of Object.entries(want)) expect(await g.dom0.getQuota(name)).toBe(value);
  });
});

describe('nodes (1000 owned per domain)', () => {
  it('allows exactly 1000, then ENOSPC; deleting makes room; dom0 is exempt', async () => {
    await g.introduce(80);
    const c = await g.guest(80);
    // the guest owns its data/ directory already: 999 more
    expect((await g.usage(80))['nodes']).toBe(1);
    const r = await fill(c, 'n', 999);
    expect(r.filter((x) => x !== 'OK')).toEqual([]);
    expect(await outcome(c.write('data/one-too-many', ''))).toBe('ENOSPC');
    expect(await outcome(c.mkdir('data/one-too-many'))).toBe('ENOSPC');
    expect((await g.usage(80))['nodes']).toBe(1000);
    expect(await ownedUnder(g.dom0, '/local/domain/80', 80)).toBe(1000);
    // rewriting an existing node creates nothing
    expect(await outcome(c.write('data/n5/0', 'again'))).toBe('OK');
    await c.rm('data/n5/0');
    expect(await outcome(c.write('data/instead', ''))).toBe('OK');
    expect(await outcome(c.write('data/instead2', ''))).toBe('ENOSPC');
    // dom0 writing under the guest's directory is not refused (the node is still the guest's)
    expect(await outcome(g.dom0.write('/local/domain/80/data/by-dom0', ''))).toBe('OK');
    expect((await g.usage(80))['nodes']).toBe(1001);
  });

  it('a write creating several nodes at once is refused whole', async () => {
    await g.introduce(81);
    await g.dom0.setQuota('81', 'nodes', '3');
    const c = await g.guest(81);
    expect(await outcome(c.write('data/a/b/c', ''))).toBe('ENOSPC');
    expect(await g.dom0.exists('/local/domain/81/data/a')).toBe(false);
    expect(await outcome(c.write('data/a/b', ''))).toBe('OK');
    expect((await g.usage(81))['nodes']).toBe(3);
  });

  it('is re-checked at commit', async () => {
    await g.introduce(82);
    await g.dom0.setQuota('82', 'nodes', '3');
    const a = await g.guest(82);
    const b = await g.guest(82);
    await a.write('data/x', '');
    const tx = await a.transactionStart();
    await a.write('data/in-tx', '', tx);
    await b.write('data/outside', '');
    expect(await outcome(a.transactionEnd(tx))).toBe('ENOSPC');
    expect(await g.dom0.exists('/local/domain/82/data/in-tx')).toBe(false);
    expect((await g.usage(82))['nodes']).toBe(3);
  });

  it('0 disables the quota', async () => {
    await g.introduce(83);
    await g.dom0.setQuota('83', 'nodes', '0');
    const c = await g.guest(83);
    expect((await fill(c, 'z', 1100)).filter((x) => x !== 'OK')).toEqual([]);
    expect((await g.usage(83))['nodes']).toBe(1101);
  });
});

describe('node-size (2048-byte records: 16 + 8 per perm entry + value + child names)', () => {
  it('allows exactly 2048 for a domain; dom0 is exempt', async () => {
    await g.introduce(84);
    const c = await g.guest(84);
    // data/v has one perm entry (n84) and no children: 16 + 8 + 2024 = 2048
    expect(await outcome(c.write('data/v', 'x'.repeat(2024)))).toBe('OK');
    expect(await outcome(c.write('data/v', 'x'.repeat(2025)))).toBe('ENOSPC');
    expect(await g.dom0.readString('/local/domain/84/data/v')).toBe('x'.repeat(2024));
    expect(await outcome(c.write('data/new', 'x'.repeat(2025)))).toBe('ENOSPC');
    expect(await g.dom0.exists('/local/domain/84/data/new')).toBe(false);
    expect(await outcome(g.dom0.write('/local/domain/84/data/v', 'x'.repeat(4000)))).toBe('OK');
  });

  it('counts child names: a parent that would grow past it refuses the child', async () => {
    await g.introduce(85);
    await g.dom0.setQuota('85', 'node-size', '64');
    const c = await g.guest(85);
    // data (n85, no value): 16 + 8 + names; each "kNN" name costs 4 bytes → 10 fit (64)
    const r = await burst(c, 'k', 10, 25);
    expect(r.filter((x) => x === 'OK').length).toBe(10);
    expect(r.slice(10).every((x) => x === 'ENOSPC')).toBe(true);
    // removing a child is always allowed
    expect(await outcome(c.rm('data/k10'))).toBe('OK');
  });
});

describe('watches, transactions, permissions, paths, memory', () => {
  it('watches: 128 per domain, over all its connections', async () => {
    await g.introduce(86);
    const a = await g.guest(86);
    const b = await g.guest(86);
    const ws: Promise<string>[] = [];
    for (let i = 0; i < 64; i++) ws.push(outcome(a.watch(`data/w${i}`, 't')), outcome(b.watch(`data/w${i}`, 't')));
    expect((await Promise.all(ws)).every((x) => x === 'OK')).toBe(true);
    expect(await outcome(a.watch('data/more', 't'))).toBe('ENOSPC');
    expect(await outcome(b.watch('data/more', 't'))).toBe('ENOSPC');
    await a.unwatch('data/w0', 't');
    expect(await outcome(b.watch('data/more', 't'))).toBe('OK');
    expect(await outcome(g.dom0.watch('/x86', 't'))).toBe('OK');
  });

  it('transactions: 10 open per domain, then ENOSPC', async () => {
    await g.introduce(87);
    const a = await g.guest(87);
    const b = await g.guest(87);
    for (let i = 0; i < 5; i++) {
      await a.transactionStart();
      await b.transactionStart();
    }
    expect(await outcome(a.transactionStart())).toBe('ENOSPC');
    const tx = await outcome(b.transactionStart());
    expect(tx).toBe('ENOSPC');
  });

  it('transaction-nodes: 1024 nodes touched, then ENOSPC, and the commit gives ENOMEM', async () => {
    await g.introduce(88);
    await g.dom0.mkdir('/tn88');
    await g.dom0.setPerms('/tn88', ['r0']);
    const ws: Promise<void>[] = [];
    for (let i = 0; i < 1030; i++) ws.push(g.dom0.write(`/tn88/${i}`, 'v'));
    await Promise.all(ws);
    const c = await g.guest(88);
    const tx = await c.transactionStart();
    const reads: Promise<string>[] = [];
    for (let i = 0; i < 1024; i++) reads.push(outcome(c.read(`/tn88/${i}`, tx)));
    expect((await Promise.all(reads)).every((x) => x === 'OK')).toBe(true);
    expect(await outcome(c.read('/tn88/1024', tx))).toBe('ENOSPC');
    expect(await outcome(c.read('/tn88/0', tx))).toBe('ENOSPC');
    expect(await outcome(c.transactionEnd(tx))).toBe('ENOMEM');
    // dom0 is exempt
    const t0 = await g.dom0.transactionStart();
    for (let i = 0; i < 1030; i++) await g.dom0.read(`/tn88/${i}`, t0);
    expect(await outcome(g.dom0.transactionEnd(t0))).toBe('OK');
  });

  it('node-permissions: 5 entries per SET_PERMS', async () => {
    await g.introduce(89);
    const c = await g.guest(89);
    await c.write('data/p', '');
    expect(await outcome(c.setPerms('data/p', ['n89', 'r1', 'r2', 'r3', 'r4']))).toBe('OK');
    expect(await outcome(c.setPerms('data/p', ['n89', 'r1', 'r2', 'r3', 'r4', 'r5']))).toBe('ENOSPC');
    expect(await outcome(g.dom0.setPerms('/local/domain/89/data/p', ['n89', 'r1', 'r2', 'r3', 'r4', 'r5', 'r6']))).toBe('OK');
  });

  it('path-max: the part below the home, for domains only (EINVAL)', async () => {
    await g.introduce(90);
    await g.dom0.setQuota('90', 'path-max', '10');
    const c = await g.guest(90);
    expect(await outcome(c.write('data/abcde', ''))).toBe('OK'); // 10 bytes
    expect(await outcome(c.write('data/abcdef', ''))).toBe('EINVAL');
    expect(await outcome(c.read('/local/domain/90/data/abcdef'))).toBe('EINVAL');
    expect(await outcome(g.dom0.write('/local/domain/90/data/abcdef', ''))).toBe('OK');
  });

  it('memory: requests that would take a domain past it get ENOMEM', async () => {
    await g.introduce(91);
    await g.dom0.setQuota('91', 'memory', '20000');
    const c = await g.guest(91);
    const results: string[] = [];
    for (let i = 0; i < 20; i++) results.push(await outcome(c.write(`data/m${i}`, 'x'.repeat(2000))));
    const okCount = results.filter((x) => x === 'OK').length;
    expect(okCount).toBeGreaterThanOrEqual(8);
    expect(okCount).toBeLessThan(10);
    expect(results.slice(okCount).every((x) => x === 'ENOMEM')).toBe(true);
    expect((await g.usage(91))['memory']).toBeLessThanOrEqual(20000);
    // reading and removing still work
    expect(await outcome(c.read('data/m0'))).toBe('OK');
    expect(await outcome(c.rm('data/m0'))).toBe('OK');
    expect(await outcome(c.write('data/again', 'x'.repeat(2000)))).toBe('OK');
  });
});

describe('GET_QUOTA / SET_QUOTA', () => {
  it('per domain over the daemon-wide value; errors as the C daemon', async () => {
    await g.introduce(92);
    expect(await g.dom0.getQuota('92', 'nodes')).toBe('1000');
    await g.dom0.setQuota('92', 'nodes', '7');
    expect(await g.dom0.getQuota('92', 'nodes')).toBe('7');
    expect(await g.dom0.getQuota('nodes')).toBe('1000');
    expect(await g.dom0.getQuota('92', 'permissions')).toBe('5'); // xenstore.txt's alias
    expect(await outcome(g.dom0.getQuota('bogus'))).toBe('EINVAL');
    expect(await outcome(g.dom0.getQuota('4711', 'nodes'))).toBe('ENOENT');
    expect(await outcome(g.dom0.getQuota('92', 'nodes', 'x'))).toBe('EINVAL');
    expect(await outcome(g.dom0.setQuota('nodes'))).toBe('EINVAL');
    expect(await outcome(g.dom0.setQuota('nodes', 'many'))).toBe('EINVAL');
    expect(await outcome(g.dom0.setQuota('4711', 'nodes', '3'))).toBe('ENOENT');
  });

  it('the daemon-wide value is every domain\'s default', async () => {
    await g.dom0.setQuota('watches', '3');
    try {
      await g.introduce(93);
      expect(await g.dom0.getQuota('93', 'watches')).toBe('3');
      const c = await g.guest(93);
      for (let i = 0; i < 3; i++) await c.watch(`data/${i}`, 't');
      expect(await outcome(c.watch('data/3', 't'))).toBe('ENOSPC');
    } finally {
      await g.dom0.setQuota('watches', '128');
    }
  });

  it('answer ENOSYS with --no-features, like GET/SET_FEATURE (the 4.17 C daemon)', async () => {
    const d = await startDaemon({ kind: 'xsgit', args: ['--no-features'] });
    try {
      const c = await d.connect();
      expect(await outcome(c.getQuota())).toBe('ENOSYS');
      expect(await outcome(c.setQuota('nodes', '5'))).toBe('ENOSYS');
      await c.close();
    } finally {
      await d.stop();
    }
  });
});

describe('CONTROL quota and --quota', () => {
  it('xenstore-control quota shows, sets and reports a domain\'s use', async () => {
    const table = ok(await runTool(g.daemon.env, XENSTORE_CONTROL, ['quota']));
    expect(table).toMatch(/^nodes\s+:\s+1000 /m);
    expect(table).toMatch(/^node-size\s+:\s+2048 /m);
    ok(await runTool(g.daemon.env, XENSTORE_CONTROL, ['quota', 'set', 'transactions', '12']));
    expect(await g.dom0.getQuota('transactions')).toBe('12');
    expect((await runTool(g.daemon.env, XENSTORE_CONTROL, ['quota', 'set', 'transactions', '0'])).code).toBe(3);
    await g.dom0.setQuota('transactions', '10');
    await g.introduce(94);
    const c = await g.guest(94);
    await c.write('data/a', '');
    await c.watch('data', 't');
    const used = ok(await runTool(g.daemon.env, XENSTORE_CONTROL, ['quota', '94']));
    expect(used).toMatch(/^nodes\s+:\s+2 \/ 1000$/m);
    expect(used).toMatch(/^watches\s+:\s+1 \/ 128$/m);
    expect((await runTool(g.daemon.env, XENSTORE_CONTROL, ['quota', '4711'])).code).toBe(3);
  });

  it('--quota NAME=VALUE sets daemon-wide quotas at start', async () => {
    const q = await startGuestDaemon(['--quota', 'nodes=3', '--quota', 'node-size=100']);
    try {
      expect(await q.dom0.getQuota('nodes')).toBe('3');
      expect(await q.dom0.getQuota('node-size')).toBe('100');
      await q.introduce(5);
      const c = await q.guest(5);
      expect(await burst(c, 'q', 0, 3)).toEqual(['OK', 'OK', 'ENOSPC']);
    } finally {
      await q.stop();
    }
  });
});
