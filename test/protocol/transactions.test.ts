/**
 * Transactions (reference §2.1, §6; checklist 54–62), through the socket. The merge table of
 * issue 2 has its own tests; this file covers the protocol around it.
 */

import { describe, expect, it } from 'vitest';
import { Op, errorOf, frame, fresh, sharedDaemon, show, text } from '../helpers/raw.js';

const s = sharedDaemon();

describe('TRANSACTION_START (checklist 54, 56)', () => {
  it('replies with a non-zero decimal id + NUL, with header tx_id 0 (checklist 54)', async () => {
    const c = await s.open();
    const req = 0x9abcdef0;
    const r = await c.rq(Op.TRANSACTION_START, [''], { req });
    expect([r.type, r.req, r.tx]).toEqual([Op.TRANSACTION_START, req, 0]);
    expect(text(r)).toMatch(/^[1-9][0-9]*\0$/);
    const id = Number.parseInt(text(r), 10);
    expect(id).toBeLessThanOrEqual(0xffffffff);
    // several open at once get distinct ids
    const ids = new Set([id]);
    for (let i = 0; i < 5; i++) ids.add(await c.txStart());
    expect(ids.size).toBe(6);
    for (const t of ids) expect(await c.txEnd(t, false)).toBe('OK');
  });

  it('sent with the tx_id of an open transaction gives EBUSY (checklist 56)', async () => {
    const c = await s.open();
    const tx = await c.txStart();
    await c.expectError('EBUSY', Op.TRANSACTION_START, [''], { tx });
    // the transaction is still open and usable
    const p = fresh('t56');
    await c.write(p, 'v', { tx });
    expect(await c.txEnd(tx)).toBe('OK');
    expect(await c.readS(p)).toBe('v');
  });

  it('sent with an unknown tx_id gives ENOENT', async () => {
    await s.c.expectError('ENOENT', Op.TRANSACTION_START, [''], { tx: 31337 });
  });
});

describe('unknown transaction ids (checklist 55, 57, 60)', () => {
  it.each([
    ['READ', Op.READ, ['/']],
    ['WRITE', Op.WRITE, Buffer.from('/t55\0v')],
    ['MKDIR', Op.MKDIR, ['/t55']],
    ['RM', Op.RM, ['/t55']],
    ['DIRECTORY', Op.DIRECTORY, ['/']],
    ['DIRECTORY_PART', Op.DIRECTORY_PART, ['/', '0']],
    ['GET_PERMS', Op.GET_PERMS, ['/']],
    ['SET_PERMS', Op.SET_PERMS, ['/tool', 'n0']],
    ['TRANSACTION_END', Op.TRANSACTION_END, ['T']],
    ['GET_DOMAIN_PATH', Op.GET_DOMAIN_PATH, ['0']],
  ] as [string, number, Buffer | string[]][])('%s with an unknown non-zero tx_id gives ENOENT and does nothing (checklist 55)', async (_n, type, payload) => {
    const c = s.c;
    for (const tx of [1, 77, 0x80000000, 0xffffffff]) await c.expectError('ENOENT', type, payload, { tx });
    await c.expectError('ENOENT', Op.READ, ['/t55']);
  });

  it('a transaction of another connection is unknown here (ENOENT)', async () => {
    const a = await s.open();
    const b = await s.open();
    const tx = await a.txStart();
    // b may have its own transaction with the same number: make sure it has none
    await b.expectError('ENOENT', Op.READ, ['/'], { tx });
    await b.expectError('ENOENT', Op.TRANSACTION_END, ['T'], { tx });
    // a's transaction is unaffected
    expect(await a.txEnd(tx)).toBe('OK');
  });

  it('TRANSACTION_END with a payload other than "T\\0"/"F\\0" gives EINVAL and keeps the transaction (checklist 57)', async () => {
    const c = await s.open();
    const p = fresh('t57');
    const tx = await c.txStart();
    await c.write(p, 'kept', { tx });
    for (const bad of [Buffer.from('X\0'), Buffer.from('T'), Buffer.from('t\0'), Buffer.from('TT\0'), Buffer.from('T\0F\0'), Buffer.from('\0'), Buffer.alloc(0), Buffer.from('1\0')]) {
      await c.expectError('EINVAL', Op.TRANSACTION_END, bad, { tx });
    }
    expect(await c.readS(p, { tx })).toBe('kept');
    expect(await c.txEnd(tx)).toBe('OK');
    expect(await c.readS(p)).toBe('kept');
  });

  it('TRANSACTION_END with tx_id 0 gives ENOENT (checklist 57)', async () => {
    await s.c.expectError('ENOENT', Op.TRANSACTION_END, ['T']);
    await s.c.expectError('ENOENT', Op.TRANSACTION_END, ['F']);
  });

  it('after END (commit, abort or EAGAIN) the id is dead: ENOENT (checklist 60)', async () => {
    const c = await s.open();
    const other = await s.open();
    const p = fresh('t60');
    await c.write(p, 'a');
    const committed = await c.txStart();
    await c.write(`${p}/c`, '1', { tx: committed });
    expect(await c.txEnd(committed)).toBe('OK');
    const aborted = await c.txStart();
    expect(await c.txEnd(aborted, false)).toBe('OK');
    const failed = await c.txStart();
    await c.read(p, { tx: failed });
    await c.write(`${p}/f`, 'x', { tx: failed });
    await other.write(p, 'changed');
    expect(await c.txEnd(failed)).toBe('EAGAIN');
    for (const tx of [committed, aborted, failed]) {
      await c.expectError('ENOENT', Op.READ, [p], { tx });
      await c.expectError('ENOENT', Op.WRITE, Buffer.from(`${p}\0z`), { tx });
      await c.expectError('ENOENT', Op.TRANSACTION_END, ['T'], { tx });
      await c.expectError('ENOENT', Op.TRANSACTION_END, ['F'], { tx });
    }
  });
});

describe('isolation and commit (checklist 58, 59, 61)', () => {
  it('writes are visible inside the transaction and invisible outside until the commit (checklist 58)', async () => {
    const c = await s.open();
    const outside = await s.open();
    const p = fresh('t58');
    await c.write(p, 'a');
    const tx = await c.txStart();
    expect(await c.readS(p, { tx })).toBe('a');
    await c.write(p, 'b', { tx });
    await c.write(`${p}/new/deep`, 'n', { tx });
    await c.mkdir(`${p}/dir`, { tx });
    expect(await c.readS(p, { tx })).toBe('b');
    expect(await c.readS(`${p}/new/deep`, { tx })).toBe('n');
    expect((await c.dir(p, { tx })).sort()).toEqual(['dir', 'new']);
    // outside, on the same and on another connection
    expect(await c.readS(p)).toBe('a');
    expect(await outside.readS(p)).toBe('a');
    await outside.expectError('ENOENT', Op.READ, [`${p}/new/deep`]);
    expect(await outside.dir(p)).toEqual([]);
    expect(await c.txEnd(tx)).toBe('OK');
    expect(await outside.readS(p)).toBe('b');
    expect(await outside.readS(`${p}/new/deep`)).toBe('n');
    expect((await outside.dir(p)).sort()).toEqual(['dir', 'new']);
  });

  it('a node reads as it was when the transaction first touched it, not as at the start (reference §6.2)', async () => {
    const c = await s.open();
    const other = await s.open();
    const p = fresh('tfirst');
    await c.write(`${p}/x`, 'x0');
    await c.write(`${p}/y`, 'y0');
    const tx = await c.txStart();
    expect(await c.readS(`${p}/x`, { tx })).toBe('x0');
    await other.write(`${p}/x`, 'x1');
    await other.write(`${p}/y`, 'y1');
    // repeatable: x was touched before the outside write
    expect(await c.readS(`${p}/x`, { tx })).toBe('x0');
    // no snapshot at start: y is first touched now, after the outside write
    expect(await c.readS(`${p}/y`, { tx })).toBe('y1');
    expect(await c.txEnd(tx, false)).toBe('OK');
  });

  it('DIRECTORY and DIRECTORY_PART inside a transaction see its own creations and removals', async () => {
    const c = await s.open();
    const p = fresh('tdir');
    await c.write(`${p}/old`, '');
    await c.write(`${p}/stays`, '');
    const tx = await c.txStart();
    await c.write(`${p}/new`, '', { tx });
    await c.rm(`${p}/old`, { tx });
    expect((await c.dir(p, { tx })).sort()).toEqual(['new', 'stays']);
    const r = await c.rq(Op.DIRECTORY_PART, [p, '0'], { tx });
    expect(r.tx).toBe(tx);
    const parts = text(r).split('\0');
    expect(parts[0]).toMatch(/^[0-9]+$/);
    expect(parts.slice(1, -2).sort()).toEqual(['new', 'stays']);
    expect(text(r).endsWith('\0\0')).toBe(true);
    expect((await c.dir(p)).sort()).toEqual(['old', 'stays']);
    expect(await c.txEnd(tx)).toBe('OK');
    expect((await c.dir(p)).sort()).toEqual(['new', 'stays']);
  });

  it('RM and SET_PERMS inside a transaction are invisible outside until the commit', async () => {
    const c = await s.open();
    const p = fresh('t58b');
    await c.write(`${p}/gone/x`, '1');
    await c.write(`${p}/perm`, '2');
    const tx = await c.txStart();
    await c.rm(`${p}/gone`, { tx });
    await c.setPerms(`${p}/perm`, ['r4'], { tx });
    await c.expectError('ENOENT', Op.READ, [`${p}/gone/x`], { tx });
    expect(await c.getPerms(`${p}/perm`, { tx })).toBe('r4\0');
    expect(await s.c.readS(`${p}/gone/x`)).toBe('1');
    expect(await s.c.getPerms(`${p}/perm`)).toBe('n0\0');
    expect(await c.txEnd(tx)).toBe('OK');
    await s.c.expectError('ENOENT', Op.READ, [`${p}/gone`]);
    expect(await s.c.getPerms(`${p}/perm`)).toBe('r4\0');
  });

  it('"ta err": a commit after an outside write to a node it read gives EAGAIN; the outside value survives (checklist 59)', async () => {
    const c = await s.open();
    const other = await s.open();
    const x = fresh('t59');
    await c.write(x, 'a');
    const tx = await c.txStart();
    expect(await c.readS(x, { tx })).toBe('a');
    await other.write(x, 'b');
    expect(await c.readS(x, { tx })).toBe('a');
    await c.write(x, 'c', { tx });
    expect(await c.readS(x, { tx })).toBe('c');
    expect(await c.txEnd(tx)).toBe('EAGAIN');
    expect(await other.readS(x)).toBe('b');
  });

  it('on EAGAIN nothing of the transaction is applied', async () => {
    const c = await s.open();
    const x = fresh('t59b');
    await c.write(`${x}/r`, '0');
    const tx = await c.txStart();
    await c.read(`${x}/r`, { tx });
    await c.write(`${x}/w1`, 'one', { tx });
    await c.write(`${x}/w2/deep`, 'two', { tx });
    await s.c.write(`${x}/r`, 'interference');
    expect(await c.txEnd(tx)).toBe('EAGAIN');
    await c.expectError('ENOENT', Op.READ, [`${x}/w1`]);
    await c.expectError('ENOENT', Op.READ, [`${x}/w2`]);
    expect(await c.dir(x)).toEqual(['r']);
  });

  it('abort (F) discards every change and fires no events; an empty transaction commits OK (checklist 61)', async () => {
    const c = await s.open();
    const w = await s.open();
    const p = fresh('t61');
    await c.write(p, 'orig');
    await w.watch(p, 'w');
    const tx = await c.txStart();
    await c.write(p, 'changed', { tx });
    await c.write(`${p}/new`, 'n', { tx });
    await c.rm(`${p}`, { tx });
    expect(await c.txEnd(tx, false)).toBe('OK');
    expect(await c.readS(p)).toBe('orig');
    await c.expectError('ENOENT', Op.READ, [`${p}/new`]);
    await w.noEventWithin(20);
    // empty transactions: commit and abort
    const empty = await c.txStart();
    expect(await c.txEnd(empty)).toBe('OK');
    const empty2 = await c.txStart();
    expect(await c.txEnd(empty2, false)).toBe('OK');
    await w.noEventWithin(10);
  });
});

describe('events of a transaction (checklist 62)', () => {
  it('are delivered only at a successful commit, to other connections and to the committer (before its OK)', async () => {
    const c = await s.open();
    const w = await s.open();
    const p = fresh('t62');
    await c.write(p, '');
    await w.watch(p, 'other');
    await c.watch(p, 'self');
    const tx = await c.txStart();
    await c.write(`${p}/a`, '1', { tx });
    await c.write(`${p}/b/c`, '2', { tx });
    await c.setPerms(`${p}/a`, ['n0', 'r1'], { tx });
    await w.noEventWithin(20);
    expect(c.events.map(show)).toEqual([]);
    const start = c.log.length;
    const end = await c.rq(Op.TRANSACTION_END, ['T'], { tx });
    expect(text(end)).toBe('OK\0');
    await c.sync();
    const mine = c.log.slice(start).filter((f) => f.type === Op.WATCH_EVENT);
    // C: fire_watches before send_ack, also for a commit
    expect(mine.every((f) => f.seq < end.seq)).toBe(true);
    const asPairs = (fs: typeof mine): string[] => fs.map((f) => text(f).split('\0').slice(0, 2).join(' '));
    await w.sync();
    const theirs = w.takeEvents().map((e) => e.join(' '));
    c.takeEvents();
    // one event per changed node (/a written and its perms set: one per (path, token))
    expect(asPairs(mine).sort()).toEqual([`${p}/a self`, `${p}/b/c self`]);
    expect(theirs.sort()).toEqual([`${p}/a other`, `${p}/b/c other`]);
  });

  it('a failed (EAGAIN) commit fires nothing', async () => {
    const c = await s.open();
    const w = await s.open();
    const p = fresh('t62b');
    await c.write(p, 'x');
    const tx = await c.txStart();
    await c.read(p, { tx });
    await c.write(`${p}/child`, 'y', { tx });
    await s.c.write(p, 'moved on');
    await w.watch(`${p}/child`, 'c');
    expect(await c.txEnd(tx)).toBe('EAGAIN');
    await w.noEventWithin(20);
  });
});

describe('connection close', () => {
  it('aborts the connection\'s open transactions', async () => {
    const c = await s.open();
    const p = fresh('tclose');
    const tx = await c.txStart();
    await c.write(p, 'never', { tx });
    await c.sendRaw(frame(Op.READ, [p], { tx, req: 5 }));
    expect(text(await c.nextReply())).toBe('never');
    c.close();
    await new Promise((r) => setTimeout(r, 20));
    const r = await s.c.rq(Op.READ, [p]);
    expect(errorOf(r)).toBe('ENOENT');
  });
});
