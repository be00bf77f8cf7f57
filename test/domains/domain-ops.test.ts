/**
 * Domain operations (issue 5, item 2; reference §2.1, §4.3, §4.5, §4.6, §5.5): INTRODUCE,
 * RELEASE, IS_DOMAIN_INTRODUCED, RESUME, SET_TARGET, GET_DOMAIN_PATH and the special watches.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Daemon } from '../../src/server/daemon.js';
import type { Transport } from '../../src/transport/transport.js';
import { Op } from '../../src/wire/constants.js';
import { frame, strs } from '../helpers/raw.js';
import { outcome, SOCKET_ONLY, startGuestDaemon, type GuestDaemon } from './guest.js';

let g: GuestDaemon;

beforeAll(async () => {
  g = await startGuestDaemon();
});

afterAll(async () => {
  await g?.stop();
});

describe('INTRODUCE and @introduceDomain', () => {
  it.skipIf(SOCKET_ONLY)('fires @introduceDomain for a new domain, not for a re-introduction nor for dom0', async () => {
    const w = await g.dom0.watch('@introduceDomain', 'intro');
    expect(await w.nextEvent(2000)).toEqual({ path: '@introduceDomain', token: 'intro' });
    await g.dom0.introduce(30, 0, 1);
    expect(await w.nextEvent(2000)).toEqual({ path: '@introduceDomain', token: 'intro' });
    await g.dom0.introduce(30, 0, 1);
    await g.dom0.introduce(0, 0, 1);
    await g.dom0.getDomainPath(0);
    expect(w.drain()).toEqual([]);
    await w.unwatch();
  });

  it.skipIf(SOCKET_ONLY)('checks its arguments: three strings, domid ≤ 65535, event channel not 0', async () => {
    const c = await g.raw(30);
    const d0 = await (await import('../helpers/raw.js')).RawConn.connect(g.daemon.socket);
    await d0.expectError('EINVAL', Op.INTRODUCE, ['31', '0']);
    await d0.expectError('EINVAL', Op.INTRODUCE, ['70000', '0', '1']);
    await d0.expectError('EINVAL', Op.INTRODUCE, ['31', '0', '0']);
    expect(await g.dom0.isDomainIntroduced(31)).toBe(false);
    c.close();
    d0.close();
  });

  it('IS_DOMAIN_INTRODUCED: T while introduced, F after RELEASE; RESUME needs a live domain', async () => {
    await g.introduce(32);
    expect(await g.dom0.isDomainIntroduced(32)).toBe(true);
    expect(await outcome(g.dom0.resume(32))).toBe('OK');
    await g.dom0.release(32);
    expect(await g.dom0.isDomainIntroduced(32)).toBe(false);
    expect(await outcome(g.dom0.resume(32))).toBe('ENOENT');
    expect(await outcome(g.dom0.resume(0))).toBe('EINVAL');
  });

  it('GET_DOMAIN_PATH answers any caller, for any domid', async () => {
    await g.introduce(33);
    const c = await g.guest(33);
    expect(await c.getDomainPath(7)).toBe('/local/domain/7');
    expect(await c.getDomainPath(33)).toBe('/local/domain/33');
  });
});

describe('RELEASE', () => {
  it('EINVAL for dom0, ENOENT for a domain never introduced', async () => {
    expect(await outcome(g.dom0.release(0))).toBe('EINVAL');
    expect(await outcome(g.dom0.release(4711))).toBe('ENOENT');
  });

  it('deletes every node the domain owns, anywhere; strips every ACL entry naming it; events for others, then @releaseDomain', async () => {
    await g.introduce(40);
    const c = await g.guest(40);
    await c.write('data/mine', 'x');
    // a backend directory elsewhere, owned by the guest (XSA-419: not only under its home)
    await g.dom0.write('/backend/vif/40/0/state', '1');
    await g.dom0.setPerms('/backend/vif/40/0', ['n40', 'r0']);
    // a dom0 node the guest may read (XSA-322: the entry must go)
    await g.dom0.write('/tool/shared40', 'v');
    await g.dom0.setPerms('/tool/shared40', ['n0', 'r40', 'r7']);
    await g.dom0.setPerms('@releaseDomain', ['n0', 'r40']);
    const gw = await c.watch('/local/domain/40', 'mine');
    await gw.nextEvent(2000);
    const w = await g.dom0.watch('/', 'all');
    const rel = await g.dom0.watch('@releaseDomain', 'rel');
    await w.nextEvent(2000);
    await rel.nextEvent(2000);

    await g.dom0.release(40);

    expect(await g.dom0.exists('/local/domain/40/data')).toBe(false);
    expect(await g.dom0.exists('/local/domain/40/data/mine')).toBe(false);
    expect(await g.dom0.exists('/backend/vif/40/0')).toBe(false);
    expect(await g.dom0.exists('/backend/vif/40')).toBe(true);
    // dom0's home node for the guest stays (dom0 owns it) but no longer names 40
    expect(await g.dom0.getPerms('/local/domain/40')).toEqual(['n0']);
    expect(await g.dom0.getPerms('/tool/shared40')).toEqual(['n0', 'r7']);
    expect(await g.dom0.getPerms('@releaseDomain')).toEqual(['n0']);
    const seen = w.drain().map((e) => e.path);
    expect(seen).toEqual(expect.arrayContaining(['/local/domain/40', '/local/domain/40/data', '/backend/vif/40/0', '/tool/shared40']));
    expect(await rel.nextEvent(2000)).toEqual({ path: '@releaseDomain', token: 'rel' });
    // the released domain's own watch got nothing (its connection was closed)
    expect(gw.drain()).toEqual([]);
    await w.unwatch();
    await rel.unwatch();
  });

  it('is one commit in the history, made by dom0', () => {
    const d = new Daemon();
    const dom0 = fakeConn(d, 0, true);
    const run = (type: number, args: string[] | Buffer): string[] => {
      dom0.sent.length = 0;
      dom0.conn.onData(frame(type, args));
      const reply = Buffer.concat(dom0.sent);
      return strs(reply.subarray(16));
    };
    run(Op.WRITE, Buffer.from('/local/domain/9/a\0x'));
    run(Op.SET_PERMS, ['/local/domain/9', 'n9']);
    run(Op.WRITE, Buffer.from('/b/c\0y'));
    run(Op.SET_PERMS, ['/b', 'n0', 'r9']);
    run(Op.INTRODUCE, ['9', '0', '1']);
    const before = d.store.history.commits;
    expect(run(Op.RELEASE, ['9'])).toEqual(['OK']);
    expect(d.store.history.commits).toBe(before + 1);
    const head = d.store.history.head;
    expect(head.domid).toBe(0);
    expect(head.changes.map((ch) => [ch.op, ch.path])).toEqual([
      ['set_perms', '/b'],
      ['rm', '/local/domain/9'],
    ]);
    expect(d.domains.owned(9)).toBe(0);
  });

  it.skipIf(SOCKET_ONLY)('a released domain\'s connections and transactions are gone; RELEASE twice gives ENOENT', async () => {
    await g.introduce(41);
    const c = await g.raw(41);
    const tx = await c.txStart();
    await c.write('data/t', 'x', { tx });
    await g.dom0.release(41);
    expect(await c.closedWithin(2000)).toBe(true);
    expect(await g.dom0.exists('/local/domain/41/data/t')).toBe(false);
    expect(await outcome(g.dom0.release(41))).toBe('ENOENT');
  });
});

describe('SET_TARGET (stub domains)', () => {
  it('a stub domain acts with its target\'s rights and stays unprivileged', async () => {
    await g.introduce(50);
    await g.introduce(51);
    const stub = await g.guest(51);
    expect(await outcome(stub.read('/local/domain/50/name'))).toBe('EACCES');
    expect(await outcome(g.dom0.setTarget(51, 4242))).toBe('ENOENT');
    expect(await outcome(g.dom0.setTarget(4242, 50))).toBe('ENOENT');
    await g.dom0.setTarget(51, 50);
    // ACL entries for the target count (name is n0 r50) and so does the target's ownership
    expect(await stub.readString('/local/domain/50/name')).toBe('guest50');
    await stub.write('/local/domain/50/data/dm', 'qemu');
    expect(await g.dom0.readString('/local/domain/50/data/dm')).toBe('qemu');
    // but it is no dom0
    expect(await outcome(stub.control('help'))).toBe('EACCES');
    expect(await outcome(stub.read('/tool/xenstored'))).toBe('EACCES');
    // its own home still resolves relative paths
    expect(await stub.readString('name')).toBe('guest51');
  });

  it('a stub domain whose target is released loses the target\'s rights (XSA-233: both go in one batch)', async () => {
    await g.introduce(52);
    await g.introduce(53);
    await g.dom0.setTarget(53, 52);
    const stub = await g.guest(53);
    expect(await stub.readString('/local/domain/52/name')).toBe('guest52');
    await g.dom0.release(52);
    await g.introduce(52);
    expect(await outcome(stub.read('/local/domain/52/name'))).toBe('EACCES');
  });
});

describe('special watches (@introduceDomain, @releaseDomain)', () => {
  it('reach a domain only if it may read the special node', async () => {
    await g.introduce(60);
    const c = await g.guest(60);
    const intro = await c.watch('@introduceDomain', 'i');
    const rel = await c.watch('@releaseDomain', 'r');
    expect((await intro.nextEvent(2000)).path).toBe('@introduceDomain');
    expect((await rel.nextEvent(2000)).path).toBe('@releaseDomain');
    await g.introduce(61);
    await g.dom0.release(61);
    await c.getDomainPath(0);
    expect(intro.drain()).toEqual([]);
    expect(rel.drain()).toEqual([]);
    // dom0 grants it
    await g.dom0.setPerms('@introduceDomain', ['n0', 'r60']);
    await g.dom0.setPerms('@releaseDomain', ['n0', 'r60']);
    await g.introduce(62);
    await g.dom0.release(62);
    expect(await intro.nextEvent(2000)).toEqual({ path: '@introduceDomain', token: 'i' });
    expect(await rel.nextEvent(2000)).toEqual({ path: '@releaseDomain', token: 'r' });
    await g.dom0.setPerms('@introduceDomain', ['n0']);
    await g.dom0.setPerms('@releaseDomain', ['n0']);
  });

  it('only dom0 (the owner) changes the special nodes\' perms', async () => {
    await g.introduce(63);
    const c = await g.guest(63);
    expect(await outcome(c.setPerms('@releaseDomain', ['n0', 'r63']))).toBe('EACCES');
    expect(await g.dom0.getPerms('@releaseDomain')).toEqual(['n0']);
  });
});

// ---------------------------------------------------------------- an in-process connection

class FakeTransport implements Transport {
  readonly sent: Buffer[] = [];
  pending = 0;
  write(data: Buffer): void {
    this.sent.push(data);
  }
  close(): void {}
  pause(): void {}
  resume(): void {}
}

function fakeConn(d: Daemon, domid: number, privileged: boolean): { conn: ReturnType<Daemon['connect']>; sent: Buffer[] } {
  const t = new FakeTransport();
  return { conn: d.connect(t, domid, privileged), sent: t.sent };
}
