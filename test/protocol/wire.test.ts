/**
 * Wire format (reference §1, §2; checklist 1–7): the header, echo rules, OK/error payloads,
 * unknown types, pipelining, partial reads and the 4096-byte limit.
 */

import { describe, expect, it } from 'vitest';
import { ERROR_NAMES, HEADER_SIZE, Op, PAYLOAD_MAX, RawConn, errorOf, frame, fresh, randomReq, sharedDaemon, show, sleep, strs, text } from '../helpers/raw.js';

const s = sharedDaemon();

describe('header (checklist 1)', () => {
  it('is 16 bytes of four little-endian u32: type, req_id, tx_id, len', async () => {
    const c = await s.open();
    const p = fresh('hdr');
    await c.write(p, 'abc');
    const before = c.bytesIn;
    // Hand-built header: READ, req_id 0x0a0b0c0d, tx_id 0.
    const req = Buffer.from([2, 0, 0, 0, 0x0d, 0x0c, 0x0b, 0x0a, 0, 0, 0, 0, p.length + 1, 0, 0, 0]);
    await c.sendRaw(Buffer.concat([req, Buffer.from(`${p}\0`)]));
    const r = await c.nextReply();
    // The reply's bytes, exactly: header then the 3-byte value, nothing else.
    expect([...r.raw]).toEqual([2, 0, 0, 0, 0x0d, 0x0c, 0x0b, 0x0a, 0, 0, 0, 0, 3, 0, 0, 0, 0x61, 0x62, 0x63]);
    expect(c.bytesIn - before).toBe(HEADER_SIZE + 3);
    expect(c.pendingBytes).toBe(0);
  });

  it('accepts a zero-length payload (GET_FEATURE-style) and answers with a well-formed frame', async () => {
    const c = await s.open();
    // TRANSACTION_START ignores its payload: len 0 is a valid request.
    const r = await c.rq(Op.TRANSACTION_START, Buffer.alloc(0));
    expect(r.type, show(r)).toBe(Op.TRANSACTION_START);
    expect(text(r)).toMatch(/^[1-9][0-9]*\0$/);
    expect(await c.txEnd(Number.parseInt(text(r), 10), false)).toBe('OK');
  });
});

describe('req_id and tx_id echo (checklist 2)', () => {
  it('echoes random 32-bit req_ids on successes and errors, reply type = request type or ERROR', async () => {
    const c = await s.open();
    const p = fresh('echo');
    const cases: [number, Buffer | string[]][] = [
      [Op.WRITE, Buffer.from(`${p}/a\0value`)],
      [Op.READ, [`${p}/a`]],
      [Op.READ, [`${p}/missing`]],
      [Op.DIRECTORY, [p]],
      [Op.GET_PERMS, [`${p}/a`]],
      [Op.MKDIR, [`${p}/b`]],
      [Op.SET_PERMS, [`${p}/b`, 'b0']],
      [Op.GET_DOMAIN_PATH, ['3']],
      [Op.RM, [`${p}/b`]],
      [Op.RM, [`${p}/no/such`]],
      [Op.READ, ['bad path!']],
      [Op.RESTRICT, ['0']],
      [0xffff, []],
    ];
    const ids = new Set<number>([0xffffffff, 0x80000000]);
    while (ids.size < cases.length) ids.add(randomReq());
    const reqs = [...ids];
    for (let i = 0; i < cases.length; i++) {
      const [type, payload] = cases[i];
      // rq checks req_id, tx_id (0) and the type (request's or ERROR).
      const r = await c.rq(type, payload, { req: reqs[i] });
      expect(r.req).toBe(reqs[i]);
    }
  });

  it('echoes the tx_id of a transaction on every reply, errors included', async () => {
    const c = await s.open();
    const p = fresh('echotx');
    const tx = await c.txStart();
    const req = randomReq();
    const w = await c.rq(Op.WRITE, Buffer.from(`${p}/x\0v`), { tx, req });
    expect([w.type, w.req, w.tx, text(w)]).toEqual([Op.WRITE, req, tx, 'OK\0']);
    const r = await c.rq(Op.READ, [`${p}/x`], { tx });
    expect([r.type, r.tx, text(r)]).toEqual([Op.READ, tx, 'v']);
    const e = await c.rq(Op.READ, [`${p}/nope`], { tx });
    expect([errorOf(e), e.tx]).toEqual(['ENOENT', tx]);
    const end = await c.rq(Op.TRANSACTION_END, ['F'], { tx });
    expect([end.type, end.tx, text(end)]).toEqual([Op.TRANSACTION_END, tx, 'OK\0']);
  });

  it('echoes an unknown tx_id on its ENOENT error', async () => {
    const c = await s.open();
    const r = await c.rq(Op.READ, ['/'], { tx: 0xdeadbeef, req: 0xcafef00d });
    expect([errorOf(r), r.req, r.tx]).toEqual(['ENOENT', 0xcafef00d, 0xdeadbeef]);
  });
});

describe('OK and error payloads (checklist 3, 4)', () => {
  it('answers commands without data with exactly "OK\\0" (3 bytes)', async () => {
    const c = await s.open();
    const p = fresh('ok');
    const oks: [number, Buffer | string[]][] = [
      [Op.WRITE, Buffer.from(`${p}/w\0x`)],
      [Op.MKDIR, [`${p}/m`]],
      [Op.SET_PERMS, [`${p}/m`, 'n0']],
      [Op.RM, [`${p}/m`]],
      [Op.WATCH, [`${p}/w`, 'tok']],
      [Op.UNWATCH, [`${p}/w`, 'tok']],
      [Op.RESET_WATCHES, ['']],
    ];
    for (const [type, payload] of oks) {
      const r = await c.rq(type, payload);
      expect([r.type, r.len, text(r)], show(r)).toEqual([type, 3, 'OK\0']);
    }
    const tx = await c.txStart();
    const r = await c.rq(Op.TRANSACTION_END, ['T'], { tx });
    expect([r.type, r.len, text(r)]).toEqual([Op.TRANSACTION_END, 3, 'OK\0']);
    c.takeEvents();
  });

  it('sends errors as type 16 with the errno name and one NUL, from the xs_wire.h table', async () => {
    const c = await s.open();
    const r = await c.rq(Op.READ, [`${fresh('err')}/missing`]);
    expect(r.type).toBe(Op.ERROR);
    expect([...r.payload]).toEqual([...Buffer.from('ENOENT\0')]);
    expect(r.len).toBe(7);
    for (const [type, payload] of [
      [Op.READ, ['']],
      [Op.RM, ['/']],
      [0xffff, []],
      [Op.TRANSACTION_END, ['T']],
    ] as [number, string[]][]) {
      const e = await c.rq(type, payload);
      expect(ERROR_NAMES as readonly string[]).toContain(errorOf(e));
    }
  });
});

describe('unknown and server-only types (checklist 5)', () => {
  it.each([
    ['WATCH_EVENT (15)', Op.WATCH_EVENT],
    ['ERROR (16)', Op.ERROR],
    ['RESTRICT (20)', 20],
    ['XS_TYPE_COUNT (27)', 27],
    ['100', 100],
    ['65534', 65534],
    ['XS_INVALID (0xffff)', 0xffff],
    ['0x10000', 0x10000],
    ['0xffffffff', 0xffffffff],
  ])('type %s gives ENOSYS and the connection goes on', async (_n, type) => {
    const c = s.c;
    const req = randomReq();
    await c.expectError('ENOSYS', type, ['/', 'x'], { req });
    // Also with an empty payload and with a transaction id that does not exist.
    await c.expectError('ENOSYS', type, Buffer.alloc(0));
    await c.expectError('ENOSYS', type, ['/'], { tx: 4242 });
    await c.sync();
  });
});

describe('request/reply ordering (reference §1.6)', () => {
  it('answers many requests pipelined in one write, in request order', async () => {
    const c = await s.open();
    const p = fresh('pipe');
    const parts: Buffer[] = [];
    const expected: { req: number; type: number; body: string }[] = [];
    for (let i = 0; i < 60; i++) {
      const req = randomReq();
      const k = i % 4;
      if (k === 0) {
        parts.push(frame(Op.WRITE, Buffer.from(`${p}/n${i}\0val${i}`), { req }));
        expected.push({ req, type: Op.WRITE, body: 'OK\0' });
      } else if (k === 1) {
        parts.push(frame(Op.READ, [`${p}/n${i - 1}`], { req }));
        expected.push({ req, type: Op.READ, body: `val${i - 1}` });
      } else if (k === 2) {
        parts.push(frame(Op.READ, [`${p}/none${i}`], { req }));
        expected.push({ req, type: Op.ERROR, body: 'ENOENT\0' });
      } else {
        parts.push(frame(Op.GET_DOMAIN_PATH, [String(i)], { req }));
        expected.push({ req, type: Op.GET_DOMAIN_PATH, body: `/local/domain/${i}\0` });
      }
    }
    await c.sendRaw(Buffer.concat(parts));
    const got = [];
    for (let i = 0; i < expected.length; i++) {
      const r = await c.nextReply();
      got.push({ req: r.req, type: r.type, body: text(r) });
    }
    expect(got).toEqual(expected);
    expect(c.pendingBytes).toBe(0);
  });

  it('answers a request split byte by byte across writes', async () => {
    const c = await s.open();
    const p = fresh('split');
    const w = frame(Op.WRITE, Buffer.from(`${p}/k\0split-value`), { req: 0x01020304 });
    const r = frame(Op.READ, [`${p}/k`], { req: 0x05060708 });
    const bytes = Buffer.concat([w, r]);
    for (let i = 0; i < bytes.length; i++) {
      await c.sendRaw(bytes.subarray(i, i + 1));
      // Let each byte travel on its own.
      if (i % 4 === 0) await sleep(1);
    }
    const a = await c.nextReply();
    const b = await c.nextReply();
    expect([a.type, a.req, text(a)]).toEqual([Op.WRITE, 0x01020304, 'OK\0']);
    expect([b.type, b.req, text(b)]).toEqual([Op.READ, 0x05060708, 'split-value']);
  });

  it('answers requests split at arbitrary points, several per write, in order', async () => {
    const c = await s.open();
    const p = fresh('chunks');
    const frames: Buffer[] = [];
    for (let i = 0; i < 30; i++) frames.push(frame(Op.WRITE, Buffer.from(`${p}/c${i}\0${'x'.repeat(i * 37)}`), { req: 1000 + i }));
    for (let i = 0; i < 30; i++) frames.push(frame(Op.READ, [`${p}/c${i}`], { req: 2000 + i }));
    const all = Buffer.concat(frames);
    for (let pos = 0, step = 1; pos < all.length; pos += step, step = (step * 7 + 3) % 97 || 5) {
      await c.sendRaw(all.subarray(pos, pos + step));
    }
    for (let i = 0; i < 30; i++) {
      const r = await c.nextReply();
      expect([r.type, r.req, text(r)]).toEqual([Op.WRITE, 1000 + i, 'OK\0']);
    }
    for (let i = 0; i < 30; i++) {
      const r = await c.nextReply();
      expect([r.type, r.req, r.payload.length]).toEqual([Op.READ, 2000 + i, i * 37]);
    }
  });
});

describe('the 4096-byte limit (checklist 6, 7)', () => {
  it('accepts a request whose payload is exactly 4096 bytes, and sends a 4096-byte reply', async () => {
    const c = await s.open();
    const p = `${fresh('max')}/v`;
    const value = Buffer.alloc(PAYLOAD_MAX - p.length - 1, 0x5a);
    await c.write(p, value);
    const r = await c.rq(Op.READ, [p]);
    expect(r.type).toBe(Op.READ);
    expect(r.len).toBe(value.length);
    expect(r.payload.equals(value)).toBe(true);
  });

  it('closes the connection, without a reply, on a header with len 4097; another connection keeps working', async () => {
    const bad = await s.open();
    const good = await s.open();
    const p = fresh('big');
    await good.write(p, 'before');
    await bad.sendRaw(frame(Op.WRITE, Buffer.concat([Buffer.from(`${p}\0`), Buffer.alloc(4097 - p.length - 1, 0x41)])));
    expect(await bad.closedWithin(3000)).toBe(true);
    expect(bad.log.map(show)).toEqual([]);
    // The oversized write was not applied; the other client is unaffected.
    expect(await good.readS(p)).toBe('before');
    await good.write(p, 'after');
    expect(await good.readS(p)).toBe('after');
    const late = await s.open();
    expect(await late.readS(p)).toBe('after');
  });

  it('closes the connection on a header alone that announces len 4097 (nothing allocated, nothing awaited)', async () => {
    const bad = await s.open();
    await bad.sendRaw(frame(Op.READ, Buffer.alloc(0), { len: PAYLOAD_MAX + 1 }));
    expect(await bad.closedWithin(3000)).toBe(true);
    expect(bad.log).toEqual([]);
    await s.c.sync();
  });

  it('closes the connection on len 0xffffffff after answering earlier requests; bytes after the bad header are never processed', async () => {
    const bad = await s.open();
    const p = fresh('huge');
    await bad.sendRaw(Buffer.concat([frame(Op.WRITE, Buffer.from(`${p}\0first`), { req: 7 }), frame(Op.READ, [p], { req: 8 })]));
    expect(text(await bad.nextReply())).toBe('OK\0');
    expect(text(await bad.nextReply())).toBe('first');
    // The bad header, then what would be a valid WRITE if the daemon resynchronised on it.
    await bad.sendRaw(Buffer.concat([frame(Op.READ, Buffer.alloc(0), { req: 9, len: 0xffffffff }), frame(Op.WRITE, Buffer.from(`${p}\0second`), { req: 10 })]));
    expect(await bad.closedWithin(3000)).toBe(true);
    expect(bad.log.map((f) => f.req)).toEqual([7, 8]);
    expect(await s.c.readS(p)).toBe('first');
  });

  it('never sends a payload over 4096: an oversized DIRECTORY reply becomes E2BIG', async () => {
    const c = await s.open();
    const p = fresh('e2big');
    // 120 children of 40-byte names: a 4920-byte child list.
    const batch: Buffer[] = [];
    for (let i = 0; i < 120; i++) batch.push(frame(Op.MKDIR, [`${p}/${String(i).padStart(40, 'n')}`], { req: i }));
    await c.sendRaw(Buffer.concat(batch));
    for (let i = 0; i < 120; i++) expect(text(await c.nextReply())).toBe('OK\0');
    const r = await c.rq(Op.DIRECTORY, [p]);
    expect(errorOf(r)).toBe('E2BIG');
    expect(c.log.every((f) => f.len <= PAYLOAD_MAX)).toBe(true);
    // and the connection is still in step
    expect(strs(await c.ok(Op.GET_DOMAIN_PATH, ['1']))).toEqual(['/local/domain/1']);
  });
});

describe('watch events over 4096 bytes', () => {
  it('are dropped silently: the change is applied, nothing oversized is sent, the stream stays in step', async () => {
    const w = await s.open();
    const p = `/E${process.pid % 1000}`;
    // WATCH payload: p\0 + token\0 = 4096 bytes exactly; the initial event is as big.
    const token = 't'.repeat(PAYLOAD_MAX - p.length - 2);
    await w.watch(p, token);
    expect(w.log[w.log.length - 1].len).toBe(PAYLOAD_MAX);
    // an event for p itself still fits …
    await s.c.write(p, 'fits');
    const e = await w.nextEvent();
    expect([e.len, text(e)]).toEqual([PAYLOAD_MAX, `${p}\0${token}\0`]);
    // … one for a child is over the limit and is dropped
    await s.c.write(`${p}/child`, 'too big an event');
    await w.noEventWithin(30);
    expect(w.log.every((f) => f.len <= PAYLOAD_MAX)).toBe(true);
    expect(await w.readS(`${p}/child`)).toBe('too big an event');
    // the watch still works for events that fit
    await s.c.write(p, 'again');
    expect(text(await w.nextEvent())).toBe(`${p}\0${token}\0`);
  });
});

describe('separate connections', () => {
  it('keep their own request streams: interleaved partial requests on two sockets', async () => {
    const [a, b] = [await s.open(), await s.open()];
    const p = fresh('two');
    const fa = frame(Op.WRITE, Buffer.from(`${p}/a\0AAA`), { req: 11 });
    const fb = frame(Op.WRITE, Buffer.from(`${p}/b\0BBB`), { req: 22 });
    await a.sendRaw(fa.subarray(0, 10));
    await b.sendRaw(fb.subarray(0, 20));
    await sleep(10);
    await a.sendRaw(fa.subarray(10));
    await b.sendRaw(fb.subarray(20));
    expect(text(await a.nextReply())).toBe('OK\0');
    expect(text(await b.nextReply())).toBe('OK\0');
    expect(await a.readS(`${p}/b`)).toBe('BBB');
    expect(await b.readS(`${p}/a`)).toBe('AAA');
  });

  it('a client that disconnects in the middle of a request does not disturb the daemon', async () => {
    const gone = await s.open();
    await gone.sendRaw(frame(Op.WRITE, Buffer.from('/half\0value')).subarray(0, 20));
    gone.close();
    await sleep(20);
    await s.c.expectError('ENOENT', Op.READ, ['/half']);
    const again: RawConn = await s.open();
    await again.sync();
  });
});
