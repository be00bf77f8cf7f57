/**
 * The commit rule of src/txn/merge.ts, case by case, as two parties through the real socket:
 * a transaction T and a concurrent writer (a plain request, or a second transaction U).
 * Each case states what the C daemon answers and what xsgit must answer.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Client, isXsError } from '../../src/client/index.js';
import { AGAINST_C, startDaemon, type DaemonHandle } from '../helpers/daemon.js';

let daemon: DaemonHandle;
let a: Client;
let b: Client;
let n = 0;
let root: string;

beforeAll(async () => {
  daemon = await startDaemon();
  a = await Client.connect({ path: daemon.socket });
  b = await Client.connect({ path: daemon.socket });
});

afterAll(async () => {
  await a?.close();
  await b?.close();
  await daemon?.stop();
});

beforeEach(async () => {
  root = `/merge/${++n}`;
  await a.write(`${root}/x`, 'x0');
  await a.write(`${root}/y`, 'y0');
});

/** Commits T and reports OK or the error name. */
async function end(c: Client, tx: number): Promise<string> {
  try {
    await c.transactionEnd(tx, true);
    return 'OK';
  } catch (e) {
    if (isXsError(e)) return e.code;
    throw e;
  }
}

async function value(path: string): Promise<string | null> {
  try {
    return (await b.read(path)).toString('latin1');
  } catch (e) {
    if (isXsError(e) && e.code === 'ENOENT') return null;
    throw e;
  }
}

describe('transactions merge unless what they depended on moved', () => {
  it('case 1: nothing else changed: commits', async () => {
    const t = await a.transactionStart();
    await a.write(`${root}/x`, 'x1', t);
    expect(await end(a, t)).toBe('OK');
    expect(await value(`${root}/x`)).toBe('x1');
  });

  it('stale read (test-xenstore "ta err"): EAGAIN, the outside value survives', async () => {
    const t = await a.transactionStart();
    expect((await a.read(`${root}/x`, t)).toString()).toBe('x0');
    await b.write(`${root}/x`, 'b');
    expect((await a.read(`${root}/x`, t)).toString()).toBe('x0');
    await a.write(`${root}/x`, 'c', t);
    expect(await end(a, t)).toBe('EAGAIN');
    expect(await value(`${root}/x`)).toBe('b');
  });

  it('write skew (read x, write y; other writes x): EAGAIN, nothing applied', async () => {
    const t = await a.transactionStart();
    await a.read(`${root}/x`, t);
    await a.write(`${root}/y`, 'from-t', t);
    await b.write(`${root}/x`, 'x-other');
    expect(await end(a, t)).toBe('EAGAIN');
    expect(await value(`${root}/y`)).toBe('y0');
  });

  it('case 6: blind write of a node others changed since the first touch: EAGAIN (as C)', async () => {
    const t = await a.transactionStart();
    await a.write(`${root}/x`, 'mine', t);
    await b.write(`${root}/x`, 'theirs');
    expect(await end(a, t)).toBe('EAGAIN');
    expect(await value(`${root}/x`)).toBe('theirs');
  });

  it('case 10/9: others change an unrelated sibling: both commit', async () => {
    const t = await a.transactionStart();
    await a.write(`${root}/x`, 'mine', t);
    await b.write(`${root}/y`, 'theirs');
    expect(await end(a, t)).toBe('OK');
    expect(await value(`${root}/x`)).toBe('mine');
    expect(await value(`${root}/y`)).toBe('theirs');
  });

  it('two transactions creating different children of one parent both commit', async () => {
    const t = await a.transactionStart();
    const u = await b.transactionStart();
    await a.write(`${root}/kids/one`, '1', t);
    await b.write(`${root}/kids/two`, '2', u);
    expect(await end(a, t)).toBe('OK');
    expect(await end(b, u)).toBe(AGAINST_C ? 'EAGAIN' : 'OK');
    if (!AGAINST_C) expect((await b.directory(`${root}/kids`)).sort()).toEqual(['one', 'two']);
  });

  it('case 8: a transaction that listed the directory conflicts with a new child', async () => {
    const t = await a.transactionStart();
    expect((await a.directory(root, t)).sort()).toEqual(['x', 'y']);
    await a.write(`${root}/count`, '2', t);
    await b.write(`${root}/z`, 'new');
    expect(await end(a, t)).toBe('EAGAIN');
    expect(await value(`${root}/count`)).toBeNull();
  });

  it('case 3: saw a node missing, others created it: EAGAIN', async () => {
    const t = await a.transactionStart();
    await expect(a.read(`${root}/late`, t)).rejects.toMatchObject({ code: 'ENOENT' });
    await a.write(`${root}/flag`, 'set', t);
    await b.write(`${root}/late`, 'here');
    expect(await end(a, t)).toBe('EAGAIN');
  });

  it('case 2: both sides create the same implicit parent identically: merges', async () => {
    const t = await a.transactionStart();
    await a.write(`${root}/dev/vif/0`, 'a', t);
    await b.write(`${root}/dev/vbd/0`, 'b');
    expect(await end(a, t)).toBe(AGAINST_C ? 'EAGAIN' : 'OK');
    if (!AGAINST_C) expect((await b.directory(`${root}/dev`)).sort()).toEqual(['vbd', 'vif']);
  });

  it('case 5: a node it read was removed by others: EAGAIN', async () => {
    const t = await a.transactionStart();
    await a.read(`${root}/x`, t);
    await a.write(`${root}/y`, 'y1', t);
    await b.rm(`${root}/x`);
    expect(await end(a, t)).toBe('EAGAIN');
    expect(await value(`${root}/y`)).toBe('y0');
  });

  it('case 7: perms changed under a node it wrote: EAGAIN', async () => {
    const t = await a.transactionStart();
    await a.write(`${root}/x`, 'x1', t);
    await b.setPerms(`${root}/x`, ['n0', 'r1']);
    expect(await end(a, t)).toBe('EAGAIN');
  });

  it('case 4: both removed the same node, and the transaction read nothing of it: merges', async () => {
    const t = await a.transactionStart();
    await a.rm(`${root}/x`, t);
    await b.rm(`${root}/x`);
    expect(await end(a, t)).toBe(AGAINST_C ? 'EAGAIN' : 'OK');
    expect(await value(`${root}/x`)).toBeNull();
  });

  it('an identical rewrite by others is no conflict for a reader (C: EAGAIN, generation moved)', async () => {
    const t = await a.transactionStart();
    await a.read(`${root}/x`, t);
    await a.write(`${root}/y`, 'y1', t);
    await b.write(`${root}/x`, 'x0');
    expect(await end(a, t)).toBe(AGAINST_C ? 'EAGAIN' : 'OK');
  });

  it('read-only transactions commit while their reads still hold', async () => {
    const t = await a.transactionStart();
    await a.read(`${root}/x`, t);
    await b.write(`${root}/y`, 'elsewhere');
    expect(await end(a, t)).toBe('OK');
  });

  it('a read-only transaction whose one read went stale still commits (it saw the start state)', async () => {
    const t = await a.transactionStart();
    await a.read(`${root}/x`, t);
    await b.write(`${root}/x`, 'changed');
    expect(await end(a, t)).toBe(AGAINST_C ? 'EAGAIN' : 'OK');
  });

  it('a read-only transaction whose reads no longer describe one state: EAGAIN', async () => {
    const t = await a.transactionStart();
    await a.read(`${root}/x`, t);
    await b.write(`${root}/x`, 'x2');
    await b.write(`${root}/y`, 'y2');
    expect((await a.read(`${root}/y`, t)).toString()).toBe('y2');
    expect(await end(a, t)).toBe('EAGAIN');
  });

  it('an RM that found nothing still depends on the absence: EAGAIN when the node appears', async () => {
    const t = await a.transactionStart();
    await a.rm(`${root}/ghost`, t);
    await b.write(`${root}/ghost`, 'boo');
    expect(await end(a, t)).toBe('EAGAIN');
    expect(await value(`${root}/ghost`)).toBe('boo');
  });

  it('on EAGAIN nothing is applied and no event fires', async () => {
    const w = await b.watch(root, 'tok');
    await w.nextEvent(2000);
    const t = await a.transactionStart();
    await a.read(`${root}/x`, t);
    await a.write(`${root}/new`, 'n', t);
    await a.write(`${root}/x`, 'late');
    const outside = await w.nextEvent(2000);
    expect(outside.path).toBe(`${root}/x`);
    expect(await end(a, t)).toBe('EAGAIN');
    expect(await value(`${root}/new`)).toBeNull();
    await expect(w.nextEvent(200)).rejects.toThrow();
    await w.unwatch();
  });

  it('a transaction sees a node as of its first touch, not of its start (C visibility)', async () => {
    const t = await a.transactionStart();
    await b.write(`${root}/x`, 'after-start');
    expect((await a.read(`${root}/x`, t)).toString()).toBe('after-start');
    await b.write(`${root}/x`, 'after-touch');
    expect((await a.read(`${root}/x`, t)).toString()).toBe('after-start');
    await a.transactionEnd(t, false);
  });
});
