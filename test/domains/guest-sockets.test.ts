/**
 * Guest connections without a hypervisor (issue 5, item 1): INTRODUCE N opens
 * RUNDIR/domains/N/socket; every connection there is domain N, unprivileged, with relative
 * paths under /local/domain/N; RELEASE N closes them and removes the socket.
 */

import { existsSync, statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Op } from '../../src/wire/constants.js';
import { startDaemon } from '../helpers/daemon.js';
import { frame } from '../helpers/raw.js';
import { ok, runPython, xs } from '../helpers/tools.js';
import { outcome, SOCKET_ONLY, startGuestDaemon, type GuestDaemon } from './guest.js';

let g: GuestDaemon;

beforeAll(async () => {
  g = await startGuestDaemon();
});

afterAll(async () => {
  await g?.stop();
});

describe('guest sockets', () => {
  it.skipIf(SOCKET_ONLY)('INTRODUCE opens RUNDIR/domains/N/socket, mode 0600', async () => {
    expect(existsSync(g.socket(11))).toBe(false);
    await g.introduce(11);
    const st = statSync(g.socket(11));
    expect(st.isSocket()).toBe(true);
    expect(st.mode & 0o777).toBe(0o600);
  });

  it('a connection there is domain N: relative paths under its home, new nodes owned by it', async () => {
    await g.introduce(12);
    const c = await g.guest(12);
    expect(await c.readString('name')).toBe('guest12');
    await c.write('data/x', 'v');
    expect(await g.dom0.readString('/local/domain/12/data/x')).toBe('v');
    // unprivileged creators own what they create (C construct_node)
    expect(await g.dom0.getPerms('/local/domain/12/data/x')).toEqual(['n12']);
    expect(await c.getDomainPath(12)).toBe('/local/domain/12');
  });

  it('is unprivileged: privileged-only requests answer EACCES, other domains are closed to it', async () => {
    await g.introduce(13);
    const c = await g.guest(13);
    expect(await outcome(c.control('help'))).toBe('EACCES');
    expect(await outcome(c.introduce(99, 0, 1))).toBe('EACCES');
    expect(await outcome(c.release(13))).toBe('EACCES');
    expect(await outcome(c.isDomainIntroduced(13))).toBe('EACCES');
    expect(await outcome(c.setTarget(13, 0))).toBe('EACCES');
    expect(await outcome(c.getQuota())).toBe('EACCES');
    expect(await outcome(c.setQuota('nodes', '5'))).toBe('EACCES');
    expect(await outcome(c.read('/tool/xenstored'))).toBe('EACCES');
    expect(await outcome(c.write('/x', '1'))).toBe('EACCES');
    expect(await outcome(c.read('/local/domain/12/name'))).toBe('EACCES');
  });

  it('the Debian tools work as the guest (XENSTORED_PATH=RUNDIR/domains/N/socket)', async () => {
    await g.introduce(14);
    const env = g.env(14);
    expect(ok(await xs(env, 'read', ['name']))).toBe('guest14\n');
    ok(await xs(env, 'write', ['data/k', 'hello']));
    expect(ok(await xs(env, 'read', ['data/k']))).toBe('hello\n');
    expect(ok(await xs(env, 'list', ['data']))).toBe('k\n');
    expect(ok(await xs(env, 'exists', ['data/k']))).toBe('');
    ok(await xs(env, 'rm', ['data/k']));
    expect((await xs(env, 'exists', ['data/k'])).code).toBe(1);
    // not its business
    const denied = await xs(env, 'write', ['/local/domain/0/x', 'y']);
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toMatch(/could not write path/);
    expect((await xs(env, 'list', ['/'])).code).not.toBe(0);
    expect(await outcome(g.dom0.read('/local/domain/0/x'))).toBe('ENOENT');
  });

  it('pyxs works as the guest', async () => {
    await g.introduce(15);
    const r = await runPython(
      g.env(15),
      `
import errno, json
from pyxs import Client, PyXSError
out = {}
with Client() as c:
    out["name"] = c.read(b"name").decode()
    c.write(b"data/py", b"1")
    out["list"] = [x.decode() for x in c.list(b"data")]
    out["perms"] = [x.decode() for x in c.get_perms(b"data/py")]
    try:
        c.write(b"/vm/x", b"1")
    except PyXSError as e:
        out["vm"] = errno.errorcode[e.args[0]]
print(json.dumps(out))
`,
    );
    expect(JSON.parse(ok(r, 'pyxs'))).toEqual({ name: 'guest15', list: ['py'], perms: ['n15'], vm: 'EACCES' });
  });

  it('a request over 4096 bytes closes that connection only; the domain and the daemon go on', async () => {
    await g.introduce(16);
    const good = await g.guest(16);
    const bad = await g.raw(16);
    const w = await g.dom0.watch('@releaseDomain', 'rel');
    await w.nextEvent(2000);
    bad.sock.write(frame(Op.READ, Buffer.alloc(0), { len: 4097 }));
    expect(await bad.closedWithin(2000)).toBe(true);
    expect(await good.readString('name')).toBe('guest16');
    expect(await g.dom0.isDomainIntroduced(16)).toBe(true);
    // a connection dropped for a protocol violation is not a dying domain (XSA-325)
    await g.dom0.write('/sync16', '');
    expect(w.drain()).toEqual([]);
    await w.unwatch();
  });

  it.skipIf(SOCKET_ONLY)('RELEASE closes the domain\'s connections and removes its socket', async () => {
    await g.introduce(17);
    const c = await g.raw(17);
    await c.sync();
    await g.dom0.release(17);
    expect(await c.closedWithin(2000)).toBe(true);
    expect(existsSync(g.socket(17))).toBe(false);
    expect(await g.dom0.isDomainIntroduced(17)).toBe(false);
  });

  it('re-INTRODUCE keeps the connections but drops their watches and transactions', async () => {
    await g.introduce(18);
    const c = await g.guest(18);
    const w = await c.watch('data', 'tok');
    expect((await w.nextEvent(2000)).path).toBe('data');
    const tx = await c.transactionStart();
    await g.dom0.introduce(18, 0, 1);
    expect(await outcome(c.read('name', tx))).toBe('ENOENT');
    await g.dom0.write('/local/domain/18/data/after', '1');
    await c.readString('name');
    expect(w.drain()).toEqual([]);
    // the watch is gone: it can be set again
    expect(await outcome(c.watch('data', 'tok'))).toBe('OK');
  });
});

describe('without --guest-sockets', () => {
  it('INTRODUCE registers the domain but opens no socket', async () => {
    const d = await startDaemon({ kind: 'xsgit' });
    try {
      const c = await d.connect();
      await c.introduce(5, 0, 1);
      expect(await c.isDomainIntroduced(5)).toBe(true);
      expect(existsSync(`${d.dir}/domains`)).toBe(false);
      await c.close();
    } finally {
      await d.stop();
    }
  });
});
