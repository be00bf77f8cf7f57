/**
 * The events of a commit are those of the changes it made to the head (issue 9, defect 2):
 * a change the replay finds already made by someone else fires nothing. The C daemon answers
 * EAGAIN in these cases (no event either); xsgit merges them.
 */

import { describe, expect, it } from 'vitest';
import { AGAINST_C } from '../helpers/daemon.js';
import { Op, fresh, sharedDaemon } from '../helpers/raw.js';

const s = sharedDaemon();

describe('a commit fires events only for what it changed in the head', () => {
  it('a removal someone else made meanwhile: the commit fires no second removal event', async () => {
    const [t, other, w] = [await s.open(), await s.open(), await s.open()];
    const p = fresh('cev-rm');
    await t.write(`${p}/a/b`, 'x');
    await w.watch(`${p}/a/b`, 'wb');
    const tx = await t.txStart();
    await t.expectOk(Op.RM, [`${p}/a/b`], { tx });
    await other.rm(`${p}/a/b`);
    expect(await w.nextEventPT()).toEqual([`${p}/a/b`, 'wb']);
    expect(await t.txEnd(tx)).toBe(AGAINST_C ? 'EAGAIN' : 'OK');
    await w.noEventWithin(100);
  });

  it('a node someone else created with the same value: the commit fires nothing for it', async () => {
    const [t, other, w] = [await s.open(), await s.open(), await s.open()];
    const p = fresh('cev-same');
    await t.write(`${p}/dir/keep`, '1');
    await w.watch(`${p}/dir/new`, 'wn');
    const tx = await t.txStart();
    await t.write(`${p}/dir/new`, 'v', { tx });
    await other.write(`${p}/dir/new`, 'v');
    expect(await w.nextEventPT()).toEqual([`${p}/dir/new`, 'wn']);
    expect(await t.txEnd(tx)).toBe(AGAINST_C ? 'EAGAIN' : 'OK');
    await w.noEventWithin(100);
  });

  it('what the commit did change still fires, once', async () => {
    const [t, other, w] = [await s.open(), await s.open(), await s.open()];
    const p = fresh('cev-mixed');
    await t.write(`${p}/a/b`, 'x');
    await t.write(`${p}/c`, '0');
    await w.watch(`${p}/a/b`, 'wb');
    await w.watch(`${p}/c`, 'wc');
    const tx = await t.txStart();
    await t.expectOk(Op.RM, [`${p}/a/b`], { tx });
    await t.write(`${p}/c`, '1', { tx });
    await other.rm(`${p}/a/b`);
    expect(await w.nextEventPT()).toEqual([`${p}/a/b`, 'wb']);
    const end = await t.txEnd(tx);
    if (AGAINST_C) expect(end).toBe('EAGAIN');
    else {
      expect(end).toBe('OK');
      expect(await w.nextEventPT()).toEqual([`${p}/c`, 'wc']);
      expect(await t.readS(`${p}/c`)).toBe('1');
    }
    await w.noEventWithin(100);
  });

  it('a value rewritten unchanged in a transaction nobody overtook fires, as in the C daemon', async () => {
    const [t, w] = [await s.open(), await s.open()];
    const p = fresh('cev-rewrite');
    await t.write(`${p}/k`, 'same');
    await w.watch(`${p}/k`, 'wk');
    const tx = await t.txStart();
    await t.write(`${p}/k`, 'same', { tx });
    expect(await t.txEnd(tx)).toBe('OK');
    expect(await w.nextEventPT()).toEqual([`${p}/k`, 'wk']);
    await w.noEventWithin(50);
  });
});
