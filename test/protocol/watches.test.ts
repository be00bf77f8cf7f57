/**
 * Watches (reference §1.5, §1.7, §5; checklist 14, 15, 42–49, 51, 53, 63).
 */

import { describe, expect, it } from 'vitest';
import { Op, frame, fresh, sharedDaemon, show, text, type RawConn } from '../helpers/raw.js';

const s = sharedDaemon();
const HOME = '/local/domain/0';

/** Sends a request and returns its reply together with the events that arrived before it
 *  and those that arrived after it (up to a round trip), on the same connection. */
async function around(c: RawConn, type: number, payload: Buffer | string[], tx = 0): Promise<{ before: [string, string][]; after: [string, string][]; reply: string }> {
  const start = c.log.length;
  c.takeEvents();
  const r = await c.rq(type, payload, { tx });
  await c.sync();
  const frames = c.log.slice(start);
  const ev = (f: (typeof frames)[number]): [string, string] => {
    const t = text(f).split('\0');
    return [t[0], t[1]];
  };
  c.takeEvents();
  return {
    before: frames.filter((f) => f.type === Op.WATCH_EVENT && f.seq < r.seq).map(ev),
    after: frames.filter((f) => f.type === Op.WATCH_EVENT && f.seq > r.seq).map(ev),
    reply: text(r),
  };
}

describe('registration (checklist 42, 43)', () => {
  it('replies OK first, then exactly one initial event "<wpath>\\0<token>\\0" with req_id 0 and tx_id 0', async () => {
    const c = await s.open();
    const p = fresh('w42');
    await c.write(p, 'x');
    const req = 0x7777abcd;
    await c.sendRaw(frame(Op.WATCH, [p, 'my-token'], { req }));
    const r = await c.nextReply();
    const e = await c.nextEvent();
    expect([r.type, r.req, r.tx, text(r)]).toEqual([Op.WATCH, req, 0, 'OK\0']);
    expect(r.seq).toBeLessThan(e.seq);
    expect([e.type, e.req, e.tx, text(e)]).toEqual([Op.WATCH_EVENT, 0, 0, `${p}\0my-token\0`]);
    await c.noEventWithin(20);
  });

  it('sends the initial event even when the node does not exist (checklist 43)', async () => {
    const c = await s.open();
    const p = `${fresh('w43')}/not/there`;
    await c.expectOk(Op.WATCH, [p, 't']);
    expect(await c.nextEventPT()).toEqual([p, 't']);
    await c.noEventWithin(20);
  });

  it('keeps a binary-safe token opaque (spaces, high bytes, empty)', async () => {
    const c = await s.open();
    const p = fresh('wtok');
    for (const tok of ['with space', '\xff\x01\x7f', '']) {
      await c.watch(p, tok);
    }
    await s.c.write(p, 'go');
    await c.sync();
    expect(c.takeEvents().map((e) => e[1]).sort()).toEqual(['', 'with space', '\xff\x01\x7f'].sort());
  });
});

describe('matching (checklist 44, 45)', () => {
  it('a watch on /a fires for /a and /a/b/c with the written path, not for /ab (checklist 44)', async () => {
    const w = await s.open();
    const a = fresh('w44');
    await w.watch(a, 'tok');
    await s.c.write(a, '1');
    await s.c.write(`${a}/b/c`, '2');
    await s.c.write(`${a}b`, 'sibling with a common prefix');
    await s.c.write(`${a}b/c`, 'below the sibling');
    await w.sync();
    expect(w.takeEvents()).toEqual([
      [a, 'tok'],
      [`${a}/b/c`, 'tok'],
    ]);
  });

  it('a watch on /a/b does not fire when only /a changes', async () => {
    const w = await s.open();
    const a = fresh('w44b');
    await s.c.write(`${a}/b`, '');
    await w.watch(`${a}/b`, 't');
    await s.c.write(a, 'parent value');
    await s.c.write(`${a}/other`, 'sibling');
    await w.noEventWithin(20);
  });

  it('a watch on / fires for every change (checklist 45)', async () => {
    const w = await s.open();
    const p = fresh('w45');
    await w.watch('/', 'root');
    await s.c.write(`${p}/x`, '1');
    await s.c.mkdir(`${p}/y`);
    await s.c.setPerms(`${p}/x`, ['n0']);
    await s.c.rm(`${p}/y`);
    await s.c.write(`${HOME}${p}`, 'under the home');
    await w.sync();
    expect(w.takeEvents()).toEqual([
      [`${p}/x`, 'root'],
      [`${p}/y`, 'root'],
      [`${p}/x`, 'root'],
      [`${p}/y`, 'root'],
      [`${HOME}${p}`, 'root'],
    ]);
    await w.unwatch('/', 'root');
  });

  it('fires for writes from another connection, in the order of the changes', async () => {
    const w = await s.open();
    const other = await s.open();
    const p = fresh('wother');
    await w.watch(p, 'o');
    for (let i = 0; i < 20; i++) await other.write(`${p}/n${i % 3}`, String(i));
    await w.sync();
    expect(w.takeEvents()).toEqual(Array.from({ length: 20 }, (_, i) => [`${p}/n${i % 3}`, 'o']));
  });
});

describe('what fires (checklist 14, 15)', () => {
  it('a WRITE that creates parents fires exactly one event, for the target (checklist 14)', async () => {
    const w = await s.open();
    const p = fresh('w14');
    await w.watch(p, 'a');
    await w.watch(`${p}/x`, 'b');
    await w.watch(`${p}/x/y`, 'c');
    await s.c.write(`${p}/x/y/z`, 'deep');
    await w.sync();
    expect(w.takeEvents().sort()).toEqual([
      [`${p}/x/y/z`, 'a'],
      [`${p}/x/y/z`, 'b'],
      [`${p}/x/y/z`, 'c'],
    ]);
  });

  it('writing an identical value fires again', async () => {
    const w = await s.open();
    const p = fresh('wsame');
    await s.c.write(p, 'same');
    await w.watch(p, 't');
    await s.c.write(p, 'same');
    expect(await w.nextEventPT()).toEqual([p, 't']);
  });

  it('MKDIR of a new node fires once; MKDIR of an existing node fires nothing (checklist 15)', async () => {
    const w = await s.open();
    const p = fresh('w15');
    await w.watch(p, 't');
    await s.c.mkdir(`${p}/a/b`);
    await w.sync();
    expect(w.takeEvents()).toEqual([[`${p}/a/b`, 't']]);
    await s.c.mkdir(`${p}/a/b`);
    await s.c.mkdir(`${p}/a`);
    await s.c.mkdir(p);
    await w.noEventWithin(20);
  });

  it('failed requests and reads fire nothing', async () => {
    const w = await s.open();
    const p = fresh('wnone');
    await s.c.write(`${p}/v`, '');
    await w.watch(p, 't');
    await s.c.read(`${p}/v`);
    await s.c.dir(p);
    await s.c.getPerms(p);
    await s.c.expectError('ENOENT', Op.RM, [`${p}/x/y`]);
    await s.c.expectError('EINVAL', Op.WRITE, Buffer.from(`${p}/bad char\0v`));
    await s.c.rm(`${p}/never-existed`);
    await w.noEventWithin(20);
  });
});

describe('relative watches (checklist 46)', () => {
  it('report relative event paths, for the initial event and for changes', async () => {
    const w = await s.open();
    const rel = fresh('w46').slice(1);
    await w.watch(rel, 'r');
    await s.c.write(`${HOME}/${rel}/child`, 'abs');
    await s.c.write(`${rel}/other`, 'rel');
    await s.c.write(`${HOME}/${rel}`, 'self');
    await w.sync();
    expect(w.takeEvents()).toEqual([
      [`${rel}/child`, 'r'],
      [`${rel}/other`, 'r'],
      [rel, 'r'],
    ]);
  });

  it('while an absolute watch on the same node reports absolute paths', async () => {
    const w = await s.open();
    const rel = fresh('w46b').slice(1);
    await w.watch(rel, 'rel');
    await w.watch(`${HOME}/${rel}`, 'abs');
    await s.c.write(`${rel}/x`, '');
    await w.sync();
    expect(w.takeEvents().sort()).toEqual([
      [`${HOME}/${rel}/x`, 'abs'],
      [`${rel}/x`, 'rel'],
    ]);
  });
});

describe('duplicates and UNWATCH (checklist 47, 48, 49)', () => {
  it('the same (path, token) twice gives EEXIST; another token on the path is accepted (checklist 47)', async () => {
    const w = await s.open();
    const p = fresh('w47');
    await w.watch(p, 'one');
    await w.expectError('EEXIST', Op.WATCH, [p, 'one']);
    await w.watch(p, 'two');
    // the same token on another path is allowed too
    await w.watch(`${p}/sub`, 'one');
    // a relative and an absolute spelling name the same watch
    const rel = fresh('w47r').slice(1);
    await w.watch(rel, 'x');
    await w.expectError('EEXIST', Op.WATCH, [`${HOME}/${rel}`, 'x']);
    await s.c.write(p, 'v');
    await w.sync();
    // a duplicate registration added no second event
    expect(w.takeEvents().sort()).toEqual([
      [p, 'one'],
      [p, 'two'],
    ]);
  });

  it('UNWATCH of an unknown (path, token) gives ENOENT; after UNWATCH no more events (checklist 48)', async () => {
    const w = await s.open();
    const p = fresh('w48');
    await w.expectError('ENOENT', Op.UNWATCH, [p, 'never']);
    await w.watch(p, 'a');
    await w.watch(p, 'b');
    await w.expectError('ENOENT', Op.UNWATCH, [p, 'c']);
    await w.expectError('ENOENT', Op.UNWATCH, [`${p}/sub`, 'a']);
    await w.unwatch(p, 'a');
    await w.expectError('ENOENT', Op.UNWATCH, [p, 'a']);
    await s.c.write(p, 'v');
    await w.sync();
    expect(w.takeEvents()).toEqual([[p, 'b']]);
    await w.unwatch(p, 'b');
    await s.c.write(p, 'w');
    await w.noEventWithin(20);
  });

  it('UNWATCH accepts the relative or the absolute spelling (checklist 49)', async () => {
    const w = await s.open();
    const rel = fresh('w49').slice(1);
    await w.watch(rel, 'r1');
    await w.watch(`${HOME}/${rel}`, 'a1');
    await w.unwatch(`${HOME}/${rel}`, 'r1');
    await w.unwatch(rel, 'a1');
    await s.c.write(rel, 'v');
    await w.noEventWithin(20);
  });

  it('UNWATCH with the wrong number of strings gives EINVAL', async () => {
    const w = await s.open();
    await w.expectError('EINVAL', Op.UNWATCH, ['/x']);
    await w.expectError('EINVAL', Op.UNWATCH, Buffer.alloc(0));
  });
});

describe('event versus reply order (reference §1.7)', () => {
  it('the requester\'s own events come before its OK (C order), for WRITE, MKDIR, SET_PERMS and RM', async () => {
    const c = await s.open();
    const p = fresh('order');
    await c.watch(p, 'me');
    for (const [type, payload] of [
      [Op.WRITE, Buffer.from(`${p}/a\0v`)],
      [Op.MKDIR, [`${p}/b`]],
      [Op.SET_PERMS, [`${p}/a`, 'n0', 'r1']],
      [Op.RM, [`${p}/b`]],
    ] as [number, Buffer | string[]][]) {
      const r = await around(c, type, payload);
      expect(r.reply).toBe('OK\0');
      expect(r.after, `events after the reply to type ${type}`).toEqual([]);
      expect(r.before).toHaveLength(1);
    }
  });

  it('the initial event comes after the WATCH OK, and a pipelined WRITE\'s event before its OK', async () => {
    const c = await s.open();
    const p = fresh('order2');
    // The WRITE goes to a child, so its event differs from the initial one (the C daemon
    // drops an event identical to one still queued).
    await c.sendRaw(Buffer.concat([frame(Op.WATCH, [p, 't'], { req: 1 }), frame(Op.WRITE, Buffer.from(`${p}/kid\0v`), { req: 2 })]));
    await c.nextReply();
    await c.nextReply();
    await c.sync();
    expect(c.log.slice(0, 4).map((f) => (f.type === Op.WATCH_EVENT ? `event ${text(f)}` : `reply ${f.req} ${text(f)}`))).toEqual([
      'reply 1 OK\0',
      `event ${p}\0t\0`,
      `event ${p}/kid\0t\0`,
      'reply 2 OK\0',
    ]);
  });
});

describe('one event per (path, token) per request (reference §5.7)', () => {
  it('two watches of one connection with the same token that both match give one event', async () => {
    const w = await s.open();
    const p = fresh('dedup');
    await w.watch(p, 'same');
    await w.watch(`${p}/a`, 'same');
    await w.watch(`${p}/a/b`, 'same');
    await s.c.write(`${p}/a/b/c`, 'v');
    await w.sync();
    expect(w.takeEvents()).toEqual([[`${p}/a/b/c`, 'same']]);
  });

  it('different tokens still give one event each; another connection gets its own', async () => {
    const w = await s.open();
    const w2 = await s.open();
    const p = fresh('dedup2');
    await w.watch(p, 't1');
    await w.watch(`${p}/a`, 't2');
    await w2.watch(p, 't1');
    await s.c.write(`${p}/a`, 'v');
    await w.sync();
    await w2.sync();
    expect(w.takeEvents().sort()).toEqual([
      [`${p}/a`, 't1'],
      [`${p}/a`, 't2'],
    ]);
    expect(w2.takeEvents()).toEqual([[`${p}/a`, 't1']]);
  });

  it('a later request fires again (dedup is per request, not forever)', async () => {
    const w = await s.open();
    const p = fresh('dedup3');
    await w.watch(p, 's');
    await w.watch(`${p}/x`, 's');
    await s.c.write(`${p}/x`, '1');
    await s.c.write(`${p}/x`, '2');
    await w.sync();
    expect(w.takeEvents()).toEqual([
      [`${p}/x`, 's'],
      [`${p}/x`, 's'],
    ]);
  });
});

describe('RM events (checklist 51)', () => {
  it('RM /a/b: the watcher of /a gets /a/b; the watcher of an existing /a/b/c gets /a/b/c; a watch on a missing node below gets nothing', async () => {
    const wa = await s.open();
    const wc = await s.open();
    const wb = await s.open();
    const wmissing = await s.open();
    const a = fresh('w51');
    await s.c.write(`${a}/b/c/d`, 'x');
    await wa.watch(a, 'A');
    await wb.watch(`${a}/b`, 'B');
    await wc.watch(`${a}/b/c`, 'C');
    await wc.watch(`${a}/b/c/d`, 'D');
    await wmissing.watch(`${a}/b/nothing`, 'M');
    await s.c.rm(`${a}/b`);
    for (const w of [wa, wb, wc, wmissing]) await w.sync();
    expect(wa.takeEvents()).toEqual([[`${a}/b`, 'A']]);
    expect(wb.takeEvents()).toEqual([[`${a}/b`, 'B']]);
    expect(wc.takeEvents().sort()).toEqual([
      [`${a}/b/c`, 'C'],
      [`${a}/b/c/d`, 'D'],
    ]);
    expect(wmissing.takeEvents()).toEqual([]);
  });

  it('RM fires descendants before the removed node (post-order), and nothing for siblings', async () => {
    const w = await s.open();
    const a = fresh('w51b');
    await s.c.write(`${a}/r/x/y`, '');
    await s.c.write(`${a}/sibling`, '');
    await w.watch(`${a}/r/x/y`, 'y');
    await w.watch(`${a}/r`, 'r');
    await w.watch(`${a}/sibling`, 's');
    await s.c.rm(`${a}/r`);
    await w.sync();
    expect(w.takeEvents()).toEqual([
      [`${a}/r/x/y`, 'y'],
      [`${a}/r`, 'r'],
    ]);
  });

  it('RM of a missing node fires nothing', async () => {
    const w = await s.open();
    const a = fresh('w51c');
    await s.c.write(a, '');
    await w.watch(a, 't');
    await s.c.rm(`${a}/gone`);
    await w.noEventWithin(20);
  });
});

describe('transaction ids on WATCH (checklist 53)', () => {
  it('WATCH/UNWATCH ignore tx_id: the tx_id is echoed, the watch works outside the transaction', async () => {
    const c = await s.open();
    const p = fresh('w53');
    const tx = await c.txStart();
    const r = await c.rq(Op.WATCH, [p, 'tx'], { tx });
    expect([r.type, r.tx, text(r)]).toEqual([Op.WATCH, tx, 'OK\0']);
    expect(await c.nextEventPT()).toEqual([p, 'tx']);
    expect(await c.txEnd(tx, false)).toBe('OK');
    // the transaction is gone; the watch is not
    await s.c.write(p, 'v');
    expect(await c.nextEventPT()).toEqual([p, 'tx']);
    // an unknown tx_id is not even looked up
    const u = await c.rq(Op.WATCH, [`${p}/2`, 'u'], { tx: 0xabcdef });
    expect([u.type, u.tx, text(u)]).toEqual([Op.WATCH, 0xabcdef, 'OK\0']);
    expect(await c.nextEventPT()).toEqual([`${p}/2`, 'u']);
    const un = await c.rq(Op.UNWATCH, [`${p}/2`, 'u'], { tx: 0x1234567 });
    expect([un.type, un.tx, text(un)]).toEqual([Op.UNWATCH, 0x1234567, 'OK\0']);
  });
});

describe('RESET_WATCHES (checklist 63)', () => {
  it('removes all of the caller\'s watches and transactions, replies OK, and leaves others\' alone', async () => {
    const c = await s.open();
    const other = await s.open();
    const p = fresh('w63');
    await c.watch(p, 'a');
    await c.watch(`${p}/x`, 'b');
    await other.watch(p, 'o');
    const tx = await c.txStart();
    await c.write(`${p}/intx`, 'v', { tx });
    const r = await c.rq(Op.RESET_WATCHES, ['']);
    expect([r.type, text(r)]).toEqual([Op.RESET_WATCHES, 'OK\0']);
    await c.expectError('ENOENT', Op.READ, ['/'], { tx });
    await c.expectError('ENOENT', Op.TRANSACTION_END, ['T'], { tx });
    await s.c.write(`${p}/x`, 'go');
    await c.noEventWithin(20);
    expect(await other.nextEventPT()).toEqual([`${p}/x`, 'o']);
    await s.c.expectError('ENOENT', Op.READ, [`${p}/intx`]);
    // the same watches can be registered again
    await c.watch(p, 'a');
    // and an empty payload is fine too
    expect(text(await c.rq(Op.RESET_WATCHES, Buffer.alloc(0)))).toBe('OK\0');
  });
});

describe('connection close', () => {
  it('drops the closed connection\'s watches; others still get events', async () => {
    const gone = await s.open();
    const stays = await s.open();
    const p = fresh('wclose');
    await gone.watch(p, 'g');
    await stays.watch(p, 's');
    gone.close();
    await new Promise((r) => setTimeout(r, 20));
    await s.c.write(p, 'v');
    expect(await stays.nextEventPT()).toEqual([p, 's']);
    expect(show(stays.log[stays.log.length - 1])).toContain('EVENT');
  });
});
