/**
 * READ, WRITE, MKDIR and RM (reference §2.1, §3.4; checklist 8–12, 15–19).
 */

import { describe, expect, it } from 'vitest';
import { AGAINST_C } from '../helpers/daemon.js';
import { Op, frame, fresh, sharedDaemon, text } from '../helpers/raw.js';

const s = sharedDaemon();

describe('READ', () => {
  it('gives ENOENT for a missing node whose parent exists (checklist 8)', async () => {
    const c = s.c;
    const p = fresh('r');
    await c.write(p, 'x');
    await c.expectError('ENOENT', Op.READ, [`${p}/missing`]);
    // and when the parent is missing too (the socket can read everything)
    await c.expectError('ENOENT', Op.READ, [`${p}/no/such/node`]);
  });

  it('returns the value bytes exactly, without a trailing NUL; an empty value has len 0 (checklist 9)', async () => {
    const c = s.c;
    const p = fresh('r9');
    await c.write(`${p}/v`, 'hello');
    const r = await c.rq(Op.READ, [`${p}/v`]);
    expect([r.type, r.len, [...r.payload]]).toEqual([Op.READ, 5, [...Buffer.from('hello')]]);
    await c.write(`${p}/empty`, '');
    const e = await c.rq(Op.READ, [`${p}/empty`]);
    expect([e.type, e.len]).toEqual([Op.READ, 0]);
    // an implicitly created parent reads as empty too
    const parent = await c.rq(Op.READ, [p]);
    expect([parent.type, parent.len]).toEqual([Op.READ, 0]);
  });

  // C 4.17 answers these with a stale errno (../shared/peers/difftest.md, "C xenstored 4.17 bugs").
  it.skipIf(AGAINST_C)('gives EINVAL for extra bytes after the path NUL, or no NUL at all (checklist 10)', async () => {
    const c = s.c;
    const p = fresh('r10');
    await c.write(p, 'x');
    await c.expectError('EINVAL', Op.READ, Buffer.from(`${p}\0extra`));
    await c.expectError('EINVAL', Op.READ, Buffer.from(`${p}\0extra\0`));
    await c.expectError('EINVAL', Op.READ, Buffer.from(`${p}\0\0`));
    await c.expectError('EINVAL', Op.READ, Buffer.from(p));
    await c.expectError('EINVAL', Op.READ, Buffer.alloc(0));
    // the well-formed request still works on the same connection
    expect(await c.readS(p)).toBe('x');
  });
});

describe('WRITE', () => {
  it('stores everything after the first NUL verbatim, NULs included (checklist 11)', async () => {
    const c = s.c;
    const p = fresh('w11');
    const value = Buffer.from([0, 0x61, 0, 0, 0x62, 0xff, 0x0a, 0x00]);
    await c.write(p, value);
    const r = await c.read(p);
    expect([...r]).toEqual([...value]);
    // a value of only NULs, and a value ending in NUL: kept, not trimmed
    await c.write(p, Buffer.alloc(3));
    expect([...(await c.read(p))]).toEqual([0, 0, 0]);
  });

  it('round-trips every byte value 0–255', async () => {
    const c = s.c;
    const p = fresh('bin');
    const value = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    await c.write(p, value);
    expect((await c.read(p)).equals(value)).toBe(true);
    // and reversed, through a transaction
    const tx = await c.txStart();
    const rev = Buffer.from(value).reverse();
    await c.write(p, rev, { tx });
    expect((await c.read(p, { tx })).equals(rev)).toBe(true);
    expect(await c.txEnd(tx)).toBe('OK');
    expect((await c.read(p)).equals(rev)).toBe(true);
  });

  it('with just "path\\0" stores an empty value', async () => {
    const c = s.c;
    const p = fresh('wempty');
    await c.write(p, 'something');
    await c.expectOk(Op.WRITE, Buffer.from(`${p}\0`));
    expect((await c.read(p)).length).toBe(0);
  });

  it('overwrites an existing value', async () => {
    const c = s.c;
    const p = fresh('wover');
    await c.write(p, 'a long first value');
    await c.write(p, 'b');
    expect(await c.readS(p)).toBe('b');
  });

  it('creates missing parents with empty values (checklist 12)', async () => {
    const c = s.c;
    const a = fresh('w12');
    await c.write(a, 'top');
    await c.write(`${a}/b/c`, 'leaf');
    expect(await c.readS(a)).toBe('top');
    expect((await c.read(`${a}/b`)).length).toBe(0);
    expect(await c.readS(`${a}/b/c`)).toBe('leaf');
    expect(await c.dir(a)).toEqual(['b']);
    expect(await c.dir(`${a}/b`)).toEqual(['c']);
  });

  it('allows a value as big as the payload allows (path + NUL + value = 4096)', async () => {
    const c = s.c;
    const p = fresh('wbig');
    const value = Buffer.alloc(4096 - p.length - 1, 0x77);
    await c.write(p, value);
    expect((await c.read(p)).equals(value)).toBe(true);
  });
});

describe('MKDIR', () => {
  it('creates a node with an empty value and its missing parents', async () => {
    const c = s.c;
    const p = fresh('mk');
    await c.mkdir(`${p}/x/y`);
    expect((await c.read(`${p}/x/y`)).length).toBe(0);
    expect((await c.read(`${p}/x`)).length).toBe(0);
    expect(await c.dir(`${p}/x`)).toEqual(['y']);
  });

  it('of an existing node replies OK and leaves value and children unchanged (checklist 15)', async () => {
    const c = s.c;
    const p = fresh('mk15');
    await c.write(p, 'keep me');
    await c.write(`${p}/child`, 'c');
    await c.mkdir(p);
    expect(await c.readS(p)).toBe('keep me');
    expect(await c.dir(p)).toEqual(['child']);
    expect(await c.readS(`${p}/child`)).toBe('c');
  });
});

describe('RM', () => {
  it('of a missing node whose parent exists replies OK (checklist 16)', async () => {
    const c = s.c;
    const p = fresh('rm16');
    await c.write(p, 'x');
    await c.rm(`${p}/not-there`);
    expect(await c.readS(p)).toBe('x');
  });

  it('of a node whose parent is missing gives ENOENT (checklist 17)', async () => {
    const c = s.c;
    const p = fresh('rm17');
    await c.expectError('ENOENT', Op.RM, [`${p}/child`]);
    await c.expectError('ENOENT', Op.RM, [`${p}/a/b/c`]);
  });

  it('removes the whole subtree whatever the children\'s perms (checklist 18)', async () => {
    const c = s.c;
    const p = fresh('rm18');
    await c.write(`${p}/keep`, 'k');
    await c.write(`${p}/sub/a/b`, '1');
    await c.write(`${p}/sub/c`, '2');
    await c.setPerms(`${p}/sub/a/b`, ['n7']);
    await c.setPerms(`${p}/sub/c`, ['n9', 'r3']);
    await c.rm(`${p}/sub`);
    for (const q of [`${p}/sub`, `${p}/sub/a`, `${p}/sub/a/b`, `${p}/sub/c`]) await c.expectError('ENOENT', Op.READ, [q]);
    expect(await c.dir(p)).toEqual(['keep']);
    // a node re-created at the same path starts empty
    await c.mkdir(`${p}/sub`);
    expect(await c.dir(`${p}/sub`)).toEqual([]);
  });

  it('of / gives EINVAL and removes nothing (checklist 19)', async () => {
    const c = s.c;
    const p = fresh('rm19');
    await c.write(p, 'survives');
    await c.expectError('EINVAL', Op.RM, ['/']);
    expect(await c.readS(p)).toBe('survives');
    expect(await c.dir('/')).toContain('tool');
  });

  it('removes a single leaf and leaves its parent and siblings', async () => {
    const c = s.c;
    const p = fresh('rmleaf');
    await c.write(`${p}/a`, '1');
    await c.write(`${p}/b`, '2');
    await c.rm(`${p}/a`);
    expect(await c.dir(p)).toEqual(['b']);
    expect(await c.readS(`${p}/b`)).toBe('2');
  });
});

describe('pipelined mutations', () => {
  it('apply in request order within one write', async () => {
    const c = s.c;
    const p = fresh('order');
    await c.sendRaw(
      Buffer.concat([
        frame(Op.WRITE, Buffer.from(`${p}\0one`), { req: 1 }),
        frame(Op.WRITE, Buffer.from(`${p}\0two`), { req: 2 }),
        frame(Op.READ, [p], { req: 3 }),
        frame(Op.RM, [p], { req: 4 }),
        frame(Op.READ, [p], { req: 5 }),
        frame(Op.WRITE, Buffer.from(`${p}\0three`), { req: 6 }),
      ]),
    );
    const got: [number, string][] = [];
    for (let i = 0; i < 6; i++) {
      const r = await c.nextReply();
      got.push([r.req, text(r)]);
    }
    expect(got).toEqual([
      [1, 'OK\0'],
      [2, 'OK\0'],
      [3, 'two'],
      [4, 'OK\0'],
      [5, 'ENOENT\0'],
      [6, 'OK\0'],
    ]);
    expect(await c.readS(p)).toBe('three');
  });
});
