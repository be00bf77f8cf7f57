/**
 * One regression test per daemon-side Xen Security Advisory of workloads-and-threats.md
 * §2.1, replayed through guest sockets (the guest is an unprivileged connection on
 * RUNDIR/domains/N/socket). Ring-only advisories (XSA-38) are replayed on the closest thing a
 * socket has: the byte stream split anywhere.
 *
 * Where the advisory's replay text and the C daemon differ, the C daemon wins: RM / is
 * EINVAL (not EACCES), an owner changing entry 0 gets EPERM (not EACCES), quota errors are
 * ENOSPC.
 */

import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '../../src/client/index.js';
import { HEADER_SIZE, Op } from '../../src/wire/constants.js';
import { directoryPartWalk, frame, strs } from '../helpers/raw.js';
import { conflictFlood, mute, MiB, outcome, ownedUnder, percentile, sleep, SOCKET_ONLY, startGuestDaemon, type GuestDaemon } from '../domains/guest.js';

let g: GuestDaemon;

beforeAll(async () => {
  g = await startGuestDaemon();
});

afterAll(async () => {
  await g?.stop();
});

async function check(): Promise<void> {
  expect(await g.dom0.control('check')).toBe('OK');
}

/** Creates `count` nodes under `base`, in directories of at most 25; pipelined. */
async function fill(c: Client, base: string, count: number): Promise<string[]> {
  const ps: Promise<string>[] = [];
  for (let made = 0, k = 0; made < count; k++) {
    ps.push(outcome(c.write(`${base}${k}`, '')));
    made++;
    for (let j = 0; j < 25 && made < count; j++, made++) ps.push(outcome(c.write(`${base}${k}/${j}`, '')));
  }
  return Promise.all(ps);
}

describe('XSA regressions through guest sockets', () => {
  it('XSA-38: requests split at every byte, and in 1024-byte pieces, are all reassembled and answered', async () => {
    await g.introduce(201);
    const c = await g.raw(201);
    const reqs: Buffer[] = [];
    for (let i = 0; i < 60; i++) {
      reqs.push(frame(Op.WRITE, Buffer.from(`data/k${i % 7}\0${'v'.repeat(i * 30)}`), { req: 1000 + i }));
      reqs.push(frame(Op.READ, [`data/k${i % 7}`], { req: 2000 + i }));
    }
    const all = Buffer.concat(reqs);
    const head = all.subarray(0, 200);
    for (const b of head) c.sock.write(Buffer.from([b]));
    for (let o = 200; o < all.length; o += 1024) c.sock.write(all.subarray(o, Math.min(all.length, o + 1024)));
    for (let i = 0; i < 60; i++) {
      expect(strs(await c.nextReply())).toEqual(['OK']);
      const r = await c.nextReply();
      expect([r.req, r.payload.toString('latin1')]).toEqual([2000 + i, 'v'.repeat(i * 30)]);
    }
  });

  it('XSA-72: a DIRECTORY reply over 4096 bytes is E2BIG, never an oversized frame; DIRECTORY_PART works', async () => {
    await g.introduce(202);
    const names: string[] = [];
    for (let i = 0; i < 110; i++) names.push(`child-${String(i).padStart(3, '0')}-${'x'.repeat(30)}`);
    await Promise.all(names.map((n) => g.dom0.write(`/local/domain/202/data/big/${n}`, '')));
    const c = await g.raw(202);
    await c.expectError('E2BIG', Op.DIRECTORY, ['data/big']);
    const walk = await directoryPartWalk(c, 'data/big');
    expect([...walk.names].sort()).toEqual(names);
    expect(c.log.every((f) => f.len <= 4096)).toBe(true);
  });

  it('XSA-115: a guest learns nothing from watches on / or on @releaseDomain unless granted', async () => {
    await g.introduce(203);
    await g.introduce(204);
    // C 4.22 opens @releaseDomain to every domain: take that back to test the rule.
    await g.dom0.setPerms('@releaseDomain', ['n0']);
    const c = await g.guest(203);
    const root = await c.watch('/', 'r');
    const rel = await c.watch('@releaseDomain', 'rel');
    expect((await root.nextEvent(2000)).path).toBe('/');
    expect((await rel.nextEvent(2000)).path).toBe('@releaseDomain');
    await g.dom0.write('/local/domain/0/secret', 's');
    await g.dom0.write('/local/domain/204/data/x', '1');
    await g.dom0.release(204);
    await c.getDomainPath(0);
    expect(root.drain()).toEqual([]);
    expect(rel.drain()).toEqual([]);
    await g.dom0.setPerms('@releaseDomain', ['n0', 'r203']);
    await g.introduce(204);
    await g.dom0.release(204);
    expect(await rel.nextEvent(2000)).toEqual({ path: '@releaseDomain', token: 'rel' });
    await g.dom0.setPerms('@releaseDomain', ['n0']);
  });

  it('XSA-206: a guest committing in a tight loop cannot starve dom0\'s transactions (dom0 commit latency reported)', async () => {
    await g.introduce(205);
    // dom0's transaction reads the node the guest keeps rewriting, then writes 20 nodes:
    // without the conflict blame it never commits (every attempt sees EAGAIN).
    const run = await conflictFlood(g, 205, 4, 20, 20);
    const blamed = (await g.usage(205))['conflicts-blamed'];
    console.log(
      `XSA-206: dom0 commit latency p50 ${percentile(run.lat, 50).toFixed(1)} ms, p99 ${percentile(run.lat, 99).toFixed(1)} ms, max ${Math.max(...run.lat).toFixed(1)} ms; ` +
        `${run.retries} EAGAIN for 20 commits in ${run.seconds.toFixed(2)} s; the guest made ${(run.guestCommits / run.seconds).toFixed(0)} commits/s and was blamed ${blamed} times`,
    );
    // Not starved: all 20 commits went through (conflictFlood returns once they did), with at
    // most the burst plus the refill of failures: 5 + 20/s. (The latency depends on the
    // machine's load; it is reported above, and measured by the contention benchmark.)
    expect(run.lat.length).toBe(20);
    expect(run.retries).toBeLessThanOrEqual(5 + Math.ceil(20 * run.seconds) + 1);
    expect(blamed).toBeGreaterThanOrEqual(run.retries);
    expect(run.guestCommits).toBeGreaterThan(0);
  });

  it.skipIf(SOCKET_ONLY)('XSA-233: a domain and its stub domain released in the same batch are both cleaned up', async () => {
    await g.introduce(206);
    await g.introduce(207);
    await g.dom0.setTarget(207, 206);
    const stub = await g.raw(207);
    const dom = await g.raw(206);
    const d0 = await (await import('../helpers/raw.js')).RawConn.connect(g.daemon.socket);
    d0.sock.write(Buffer.concat([frame(Op.RELEASE, ['206'], { req: 1 }), frame(Op.RELEASE, ['207'], { req: 2 })]));
    expect(strs(await d0.nextReply())).toEqual(['OK']);
    expect(strs(await d0.nextReply())).toEqual(['OK']);
    expect(await stub.closedWithin(2000)).toBe(true);
    expect(await dom.closedWithin(2000)).toBe(true);
    expect(await g.dom0.isDomainIntroduced(206)).toBe(false);
    expect(await g.dom0.isDomainIntroduced(207)).toBe(false);
    expect(existsSync(g.socket(206)) || existsSync(g.socket(207))).toBe(false);
    d0.close();
    await check();
  });

  it('XSA-272: every node a guest creates is charged; quota <domid> equals the nodes it owns', async () => {
    await g.introduce(208);
    const c = await g.guest(208);
    const r = await fill(c, 'data/q', 1010);
    expect(r.filter((x) => x === 'OK').length).toBe(999);
    expect(r.filter((x) => x !== 'OK').every((x) => x === 'ENOSPC')).toBe(true);
    const owned = await ownedUnder(g.dom0, '/', 208);
    expect(owned).toBe(1000);
    expect((await g.usage(208))['nodes']).toBe(owned);
  });

  it('XSA-322: a reused domid inherits no permissions (nodes, and the @releaseDomain ACL)', async () => {
    await g.introduce(209);
    await g.dom0.write('/tool/x209', 'secret');
    await g.dom0.setPerms('/tool/x209', ['n0', 'r209']);
    await g.dom0.setPerms('@releaseDomain', ['n0', 'r209']);
    const old = await g.guest(209);
    expect(await old.readString('/tool/x209')).toBe('secret');
    await g.dom0.release(209);
    await g.introduce(209);
    const reborn = await g.guest(209);
    expect(await outcome(reborn.read('/tool/x209'))).toBe('EACCES');
    expect(await g.dom0.getPerms('/tool/x209')).toEqual(['n0']);
    expect(await g.dom0.getPerms('@releaseDomain')).toEqual(['n0']);
    const w = await reborn.watch('@releaseDomain', 'r');
    await w.nextEvent(2000);
    await g.introduce(210);
    await g.dom0.release(210);
    await reborn.getDomainPath(0);
    expect(w.drain()).toEqual([]);
  });

  it('XSA-323: a relative path of exactly the limit is readable relatively, absolutely and by dom0; one more is EINVAL', async () => {
    await g.introduce(211);
    const c = await g.guest(211);
    let rel = 'data';
    while (rel.length < 2048 - 10) rel += '/abcdefghi';
    rel += '/' + 'z'.repeat(2048 - rel.length - 1);
    expect(rel.length).toBe(2048);
    await c.write(rel, 'deep');
    const abs = `/local/domain/211/${rel}`;
    expect(await c.readString(rel)).toBe('deep');
    expect(await c.readString(abs)).toBe('deep');
    expect(await g.dom0.readString(abs)).toBe('deep');
    expect(await g.dom0.directory(abs.slice(0, abs.lastIndexOf('/')))).toEqual([rel.slice(rel.lastIndexOf('/') + 1)]);
    expect(await outcome(c.write(`${rel}x`, ''))).toBe('EINVAL');
    expect(await outcome(c.read(`${abs}x`))).toBe('EINVAL');
  });

  it('XSA-324: a watch whose event would exceed 4096 bytes never crashes; the event is dropped', async () => {
    await g.introduce(212);
    const c = await g.raw(212);
    const token = 't'.repeat(4000);
    await c.watch('data', token);
    // "data/" + 100 bytes + NUL + the 4000-byte token + NUL: over 4096
    await c.write(`data/${'n'.repeat(100)}`, '1');
    await c.noEventWithin(30);
    expect(c.log.every((f) => f.len <= 4096)).toBe(true);
    expect(await g.dom0.isDomainIntroduced(212)).toBe(true);
  });

  it.skipIf(SOCKET_ONLY)('XSA-325: a guest that breaks the protocol is not a dead domain: one @releaseDomain, after the real release', async () => {
    await g.introduce(213);
    const w = await g.dom0.watch('@releaseDomain', 'x325');
    await w.nextEvent(2000);
    const bad = await g.raw(213);
    bad.sock.write(frame(Op.READ, Buffer.alloc(0), { len: 0x10000 }));
    expect(await bad.closedWithin(2000)).toBe(true);
    await sleep(20);
    expect(w.drain()).toEqual([]);
    expect(await g.dom0.isDomainIntroduced(213)).toBe(true);
    await g.dom0.release(213);
    expect(await w.nextEvent(2000)).toEqual({ path: '@releaseDomain', token: 'x325' });
    await g.dom0.getDomainPath(0);
    expect(w.drain()).toEqual([]);
    expect(existsSync(g.socket(213))).toBe(false);
    await w.unwatch();
  });

  it('XSA-326: (c) every quota filled at once and (d) 5,000 reads in one transaction stay bounded; dom0 unaffected', async () => {
    await g.introduce(214);
    const cs = [await g.guest(214), await g.guest(214)];
    const rss0 = g.rss();
    // (c) nodes, watches, transactions, big values, all at their limits
    await fill(cs[0], 'data/f', 1100);
    const watches: Promise<string>[] = [];
    for (let i = 0; i < 140; i++) watches.push(outcome(cs[i % 2].watch(`data/f${i % 30}`, `t${i}`)));
    const wr = await Promise.all(watches);
    expect(wr.filter((x) => x === 'OK').length).toBe(128);
    const txs: string[] = [];
    for (let i = 0; i < 12; i++) txs.push(await outcome(cs[i % 2].transactionStart()));
    expect(txs.filter((x) => x === 'ENOSPC').length).toBe(2);
    // (d) a transaction that reads 5,000 nodes: refused after 1,024, its commit ENOMEM
    const wide = await g.guest(214);
    for (const c of cs) await c.resetWatches();
    await g.dom0.mkdir('/x326');
    await g.dom0.setPerms('/x326', ['r0']);
    for (let i = 0; i < 5000; i += 500) {
      const ps: Promise<void>[] = [];
      for (let j = i; j < i + 500; j++) ps.push(g.dom0.write(`/x326/${j}`, 'v'));
      await Promise.all(ps);
    }
    const tx = await wide.transactionStart();
    const reads: Promise<string>[] = [];
    for (let i = 0; i < 5000; i++) reads.push(outcome(wide.read(`/x326/${i}`, tx)));
    const rr = await Promise.all(reads);
    expect(rr.filter((x) => x === 'OK').length).toBe(1024);
    expect(rr.slice(1024).every((x) => x === 'ENOSPC')).toBe(true);
    expect(await outcome(wide.transactionEnd(tx))).toBe('ENOMEM');
    const lat: number[] = [];
    for (let i = 0; i < 100; i++) {
      const t = performance.now();
      await g.dom0.read('/tool/xenstored');
      lat.push(performance.now() - t);
    }
    expect(percentile(lat, 99)).toBeLessThan(50);
    expect(g.rss() - rss0).toBeLessThan(48 * MiB);
    expect((await g.usage(214))['memory']).toBeLessThanOrEqual(2_621_440);
  });

  it('XSA-330: 500 rounds of 100 WATCHes and RESET_WATCHES leave no watch and no memory behind', async () => {
    await g.introduce(215);
    const c = await g.raw(215);
    const rss0 = g.rss();
    let bad = 0;
    for (let round = 0; round < 500; round++) {
      const batch: Buffer[] = [];
      for (let i = 0; i < 100; i++) batch.push(frame(Op.WATCH, [`data/w${i}`, `tok${round}`]));
      batch.push(frame(Op.RESET_WATCHES, ['']));
      c.sock.write(Buffer.concat(batch));
      for (let i = 0; i < 101; i++) if (strs(await c.nextReply())[0] !== 'OK') bad++;
      c.events.length = 0;
      c.log.length = 0;
    }
    expect(bad).toBe(0);
    expect((await g.usage(215))['watches']).toBe(0);
    expect(g.rss() - rss0).toBeLessThan(32 * MiB);
  });

  it('XSA-352: a guest cannot hand its nodes to another owner (EPERM), so it cannot escape its quota', async () => {
    await g.introduce(216);
    const c = await g.guest(216);
    await c.write('data/mine', '');
    const before = (await g.usage(216))['nodes'];
    expect(await outcome(c.setPerms('data/mine', ['b0']))).toBe('EPERM');
    expect(await outcome(c.setPerms('data/mine', ['n5']))).toBe('EPERM');
    expect(await g.dom0.getPerms('/local/domain/216/data/mine')).toEqual(['n216']);
    expect((await g.usage(216))['nodes']).toBe(before);
  });

  it('XSA-353: the root is protected: SET_PERMS, WRITE, DIRECTORY give EACCES, RM / EINVAL; nothing changes', async () => {
    await g.introduce(217);
    const c = await g.guest(217);
    const before = [await g.dom0.getPerms('/'), await g.dom0.directory('/')];
    expect(await outcome(c.setPerms('/', ['b217']))).toBe('EACCES');
    expect(await outcome(c.rm('/'))).toBe('EINVAL');
    expect(await outcome(c.write('/x', '1'))).toBe('EACCES');
    expect(await outcome(c.directory('/'))).toBe('EACCES');
    expect(await outcome(c.rm('/tool'))).toBe('EACCES');
    expect([await g.dom0.getPerms('/'), await g.dom0.directory('/')]).toEqual(before);
  });

  it('XSA-414: a creation that fails at the leaf (quota) leaves nothing behind; check passes', async () => {
    await g.introduce(218);
    await g.dom0.setQuota('218', 'nodes', '3');
    const c = await g.guest(218);
    expect(await outcome(c.write('data/a/b/c/d', 'x'))).toBe('ENOSPC');
    expect(await g.dom0.directory('/local/domain/218/data')).toEqual([]);
    expect((await g.usage(218))['nodes']).toBe(1);
    await check();
  });

  // The C daemon marks such a transaction failed because its node creation could stop
  // half-way. Here a creation is checked whole before anything is made, so the failed write
  // leaves nothing in the transaction and what did succeed commits: no orphan either way.
  it('XSA-415: a transaction whose writes hit the quota commits nothing partial and leaves no orphan', async () => {
    await g.introduce(219);
    await g.dom0.setQuota('219', 'nodes', '10');
    const c = await g.guest(219);
    const tx = await c.transactionStart();
    const r: string[] = [];
    for (let i = 0; i < 5; i++) r.push(await outcome(c.write(`data/t${i}/a/b`, 'x', tx)));
    expect(r).toEqual(['OK', 'OK', 'OK', 'ENOSPC', 'ENOSPC']);
    expect(await outcome(c.transactionEnd(tx))).toBe('OK');
    expect([...(await g.dom0.directory('/local/domain/219/data'))].sort()).toEqual(['t0', 't1', 't2']);
    expect(await g.dom0.exists('/local/domain/219/data/t3')).toBe(false);
    expect((await g.usage(219))['nodes']).toBe(10);
    expect(await ownedUnder(g.dom0, '/local/domain/219', 219)).toBe(10);
    await check();
  });

  it('XSA-416: large DIRECTORY replies a guest never reads do not pile up in memory', async () => {
    await g.introduce(220);
    for (let i = 0; i < 90; i++) await g.dom0.write(`/local/domain/220/data/d/${'n'.repeat(40)}${i}`, '');
    const s = await mute(g.socket(220));
    const rss0 = g.rss();
    const reqs: Buffer[] = [];
    for (let i = 0; i < 20_000; i++) reqs.push(frame(Op.DIRECTORY, ['data/d'], { req: i + 1 }));
    s.write(Buffer.concat(reqs));
    await sleep(400);
    expect((await g.usage(220))['outstanding']).toBe(20);
    expect(g.rss() - rss0).toBeLessThan(32 * MiB);
    s.destroy();
  });

  it('XSA-417: a domid reused after dom0 prepared its nodes before INTRODUCE still inherits nothing', async () => {
    await g.introduce(221);
    await g.dom0.write('/tool/x221', 'secret');
    await g.dom0.setPerms('/tool/x221', ['n0', 'r221']);
    await g.dom0.release(221);
    // the toolstack prepares the new 221 first, then introduces it
    await g.dom0.write('/local/domain/221/data/pre', 'x');
    await g.dom0.setPerms('/local/domain/221', ['n0', 'r221']);
    await g.dom0.setPerms('/local/domain/221/data', ['n221']);
    await g.dom0.introduce(221, 0, 1);
    const c = await g.guest(221);
    expect(await outcome(c.read('/tool/x221'))).toBe('EACCES');
    expect(await outcome(c.write('data/new', 'mine'))).toBe('OK');
    expect(await c.readString('name').catch(() => 'no name')).toBe('no name');
  });

  it('XSA-418: the deepest paths (over 1,000 levels) are created, removed, checked and released without recursion', async () => {
    await g.introduce(222);
    let rel = 'data';
    while (rel.length + 2 <= 2048) rel += '/a';
    expect(rel.split('/').length).toBeGreaterThan(1000);
    await g.dom0.write(`/local/domain/222/${rel}`, 'bottom');
    await g.dom0.write(`/deep222${'/b'.repeat(1000)}`, 'x');
    await g.dom0.setPerms(`/deep222${'/b'.repeat(1000)}`, ['n0', 'r222']);
    const c = await g.guest(222);
    expect(await c.readString(rel)).toBe('bottom');
    await c.rm('data/a');
    await check();
    await g.dom0.write(`/local/domain/222/${rel}`, 'again');
    expect((await g.usage(222))['nodes']).toBe(rel.split('/').length);
    await g.dom0.release(222);
    expect(await g.dom0.exists('/local/domain/222/data')).toBe(false);
    expect(await g.dom0.getPerms(`/deep222${'/b'.repeat(1000)}`)).toEqual(['n0']);
    await check();
  });

  it('XSA-419: nodes a guest made in another guest\'s directory go when either is destroyed; totals return to baseline', async () => {
    await g.introduce(223);
    await g.introduce(224);
    await g.dom0.setPerms('/local/domain/223/data', ['n223', 'b224']);
    const b = await g.guest(224);
    const base = (await g.usage(224))['nodes'];
    const r = await fill(b, '/local/domain/223/data/b', 1100);
    expect(r.filter((x) => x === 'OK').length).toBe(1000 - base);
    expect((await g.usage(224))['nodes']).toBe(1000);
    await g.dom0.release(223);
    expect((await g.usage(224))['nodes']).toBe(base);
    expect(await g.dom0.exists('/local/domain/223/data')).toBe(false);
    // the other way round: B's nodes outside its home go with B
    await g.introduce(223);
    await g.dom0.setPerms('/local/domain/223/data', ['n223', 'b224']);
    await b.write('/local/domain/223/data/from-b', '');
    await g.dom0.release(224);
    expect(await g.dom0.exists('/local/domain/223/data/from-b')).toBe(false);
    expect(await g.dom0.exists('/local/domain/223/data')).toBe(true);
    await check();
  });

  it('XSA-420: header lengths 0x7fffffff, 0x80000000 and 0xffffffff close only that connection', async () => {
    await g.introduce(225);
    const good = await g.guest(225);
    for (const len of [0x7fffffff, 0x80000000, 0xffffffff]) {
      const bad = await g.raw(225);
      bad.sock.write(frame(Op.READ, Buffer.alloc(0), { len }));
      expect(await bad.closedWithin(2000)).toBe(true);
      expect(await good.readString('name')).toBe('guest225');
    }
    expect(await g.dom0.isDomainIntroduced(225)).toBe(true);
  });

  it('XSA-421: create and delete the same node in a transaction: the quota is charged exactly, and holds on repeat', async () => {
    await g.introduce(226);
    await g.dom0.setQuota('226', 'nodes', '50');
    const c = await g.guest(226);
    for (let round = 0; round < 3; round++) {
      const tx = await c.transactionStart();
      const r: string[] = [];
      r.push(await outcome(c.write(`data/x${round}`, '', tx)));
      r.push(await outcome(c.rm(`data/x${round}`, tx)));
      for (let i = 0; i < 30; i++) r.push(await outcome(c.write(`data/r${round}-${i}`, '', tx)));
      const end = await outcome(c.transactionEnd(tx));
      const used = (await g.usage(226))['nodes'];
      if (round === 0) {
        expect(r.every((x) => x === 'OK')).toBe(true);
        expect(end).toBe('OK');
        expect(used).toBe(31);
      } else {
        expect(r.filter((x) => x === 'OK').length).toBeLessThan(32);
        expect(used).toBeLessThanOrEqual(50);
      }
    }
    expect(await ownedUnder(g.dom0, '/local/domain/226', 226)).toBe((await g.usage(226))['nodes']);
  });

  it.skipIf(SOCKET_ONLY)('XSA-425: guest input pending, dom0 RELEASE and more guest input in one batch: no crash', async () => {
    await g.introduce(227);
    const c = await g.raw(227);
    const d0 = await (await import('../helpers/raw.js')).RawConn.connect(g.daemon.socket);
    const burst: Buffer[] = [];
    for (let i = 0; i < 200; i++) burst.push(frame(Op.WRITE, Buffer.from(`data/p${i}\0v`)));
    c.sock.write(Buffer.concat(burst.slice(0, 100)));
    d0.sock.write(frame(Op.RELEASE, ['227'], { req: 9 }));
    c.sock.write(Buffer.concat(burst.slice(100)));
    expect(strs(await d0.nextReply())).toEqual(['OK']);
    expect(await c.closedWithin(2000)).toBe(true);
    expect(await g.dom0.exists('/local/domain/227/data')).toBe(false);
    d0.close();
    await check();
  });

  it('XSA-440: a subtree deleted under a transaction gives EAGAIN, and the counts never go negative', async () => {
    await g.introduce(228);
    const c = await g.guest(228);
    await c.write('data/d/a', '1');
    await c.write('data/d/b', '1');
    const tx = await c.transactionStart();
    await c.read('data/d/a', tx);
    await c.write('data/d/c', '1', tx);
    await c.rm('data/d/b', tx);
    await g.dom0.rm('/local/domain/228/data/d');
    expect(await outcome(c.transactionEnd(tx))).toBe('EAGAIN');
    expect((await g.usage(228))['nodes']).toBe(1);
    expect(await ownedUnder(g.dom0, '/local/domain/228', 228)).toBe(1);
  });

  it('XSA-481: /local/domain/ without a domid is EINVAL; odd domids are ordinary paths; no crash', async () => {
    await g.introduce(229);
    const c = await g.raw(229);
    await c.expectError('EINVAL', Op.READ, ['/local/domain/']);
    await c.expectError('EINVAL', Op.WRITE, Buffer.from('/local/domain/\0v'));
    await c.expectError('EINVAL', Op.WATCH, ['/local/domain/', 't']);
    for (const p of ['/local/domain/x', '/local/domain/99999999999']) {
      await c.expectError('EACCES', Op.READ, [p]);
      await c.expectError('EACCES', Op.WRITE, Buffer.from(`${p}\0v`));
      await c.watch(p, 't');
    }
    expect(await g.dom0.isDomainIntroduced(229)).toBe(true);
  });

  it('XSA-483: a reused domid starts with its full quota', async () => {
    await g.introduce(230);
    await g.dom0.setQuota('nodes', '20');
    try {
      const c = await g.guest(230);
      expect((await fill(c, 'data/q', 30)).filter((x) => x === 'OK').length).toBe(19);
      await g.dom0.release(230);
      await g.introduce(230);
      const again = await g.guest(230);
      expect((await g.usage(230))['nodes']).toBe(1);
      expect((await fill(again, 'data/q', 30)).filter((x) => x === 'OK').length).toBe(19);
    } finally {
      await g.dom0.setQuota('nodes', '1000');
    }
  });

  it('XSA-484: RESET_WATCHES inside a transaction ends it cleanly', async () => {
    await g.introduce(231);
    const c = await g.raw(231);
    const tx = await c.txStart();
    await c.write('data/in', 'x', { tx });
    await c.expectOk(Op.RESET_WATCHES, [''], { tx });
    expect(await c.txEnd(tx)).toBe('ENOENT');
    await c.expectError('ENOENT', Op.READ, ['data/in']);
    expect(await g.dom0.isDomainIntroduced(231)).toBe(true);
    void HEADER_SIZE;
  });
});
