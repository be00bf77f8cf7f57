/**
 * Permissions on every operation, through guest sockets (issue 5, item 3; reference §4,
 * §5.6): owner, default letter, n/r/w/b, EACCES versus ENOENT, owner changes, creators'
 * ownership, and watch events only for nodes the watcher may read.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client, Watcher } from '../../src/client/index.js';
import { outcome, startGuestDaemon, type GuestDaemon } from './guest.js';

let g: GuestDaemon;
let c: Client;
const D = 70;
const P = '/perm70';

beforeAll(async () => {
  g = await startGuestDaemon();
  await g.introduce(D);
  c = await g.guest(D);
});

afterAll(async () => {
  await g?.stop();
});

/** A dom0 node with the given perms. */
async function node(path: string, perms: string[], value = 'v'): Promise<void> {
  await g.dom0.write(path, value);
  await g.dom0.setPerms(path, perms);
}

/** What the guest may do to a node: [read, write]. */
async function rights(path: string): Promise<[string, string]> {
  return [await outcome(c.read(path)), await outcome(c.write(path, 'w'))];
}

describe('the access decision (reference §4.2)', () => {
  beforeAll(async () => {
    await node(P, ['r0']);
  });

  it('entry 0\'s letter is the default: n, r, w, b', async () => {
    await node(`${P}/n`, ['n0']);
    await node(`${P}/r`, ['r0']);
    await node(`${P}/w`, ['w0']);
    await node(`${P}/b`, ['b0']);
    expect(await rights(`${P}/n`)).toEqual(['EACCES', 'EACCES']);
    expect(await rights(`${P}/r`)).toEqual(['OK', 'EACCES']);
    expect(await rights(`${P}/w`)).toEqual(['EACCES', 'OK']);
    expect(await rights(`${P}/b`)).toEqual(['OK', 'OK']);
  });

  it('the owner may read and write whatever entry 0\'s letter says', async () => {
    await node(`${P}/own`, [`n${D}`]);
    expect(await rights(`${P}/own`)).toEqual(['OK', 'OK']);
  });

  it('the first ACL entry naming the domain decides, over the default', async () => {
    await node(`${P}/acl1`, ['b0', `n${D}`]);
    await node(`${P}/acl2`, ['n0', `w${D}`, `r${D}`]);
    await node(`${P}/acl3`, ['n0', 'r7', `r${D}`]);
    expect(await rights(`${P}/acl1`)).toEqual(['EACCES', 'EACCES']);
    expect(await rights(`${P}/acl2`)).toEqual(['EACCES', 'OK']);
    expect(await rights(`${P}/acl3`)).toEqual(['OK', 'EACCES']);
  });

  it('DIRECTORY and GET_PERMS need read; MKDIR of an existing node and RM need write', async () => {
    await node(`${P}/dir`, ['n0']);
    await node(`${P}/dir/kid`, ['b0']);
    expect(await outcome(c.directory(`${P}/dir`))).toBe('EACCES');
    expect(await outcome(c.getPerms(`${P}/dir`))).toBe('EACCES');
    expect(await outcome(c.mkdir(`${P}/dir`))).toBe('EACCES');
    expect(await outcome(c.rm(`${P}/dir`))).toBe('EACCES');
    // RM needs write on the node only, not on its children
    await node(`${P}/rmme`, ['w0']);
    await node(`${P}/rmme/kid`, ['n0']);
    expect(await outcome(c.rm(`${P}/rmme`))).toBe('OK');
    expect(await g.dom0.exists(`${P}/rmme`)).toBe(false);
  });

  it('creating needs write on the nearest existing ancestor', async () => {
    await node(`${P}/ro`, ['r0']);
    expect(await outcome(c.write(`${P}/ro/a/b`, 'x'))).toBe('EACCES');
    await node(`${P}/wo`, ['w0']);
    expect(await outcome(c.write(`${P}/wo/a/b`, 'x'))).toBe('OK');
  });
});

describe('EACCES versus ENOENT (reference §4.4)', () => {
  it('a missing node under a readable parent is ENOENT; under an unreadable ancestor EACCES', async () => {
    await node('/secret70', ['n0']);
    expect(await outcome(c.read('/secret70/missing/deeper'))).toBe('EACCES');
    expect(await outcome(c.read('/vm70-nothing/x'))).toBe('EACCES'); // "/" itself is n0
    expect(await outcome(c.read(`${P}/missing`))).toBe('ENOENT');
    expect(await outcome(c.read('data/missing'))).toBe('ENOENT');
    expect(await outcome(c.rm('/secret70/missing/deeper'))).toBe('EACCES');
  });
});

describe('ownership (reference §3.4, §4.2)', () => {
  it('new nodes are owned by their unprivileged creator, even under dom0\'s nodes', async () => {
    await node('/pub70', ['b0']);
    await c.write('/pub70/mine', 'x');
    expect(await g.dom0.getPerms('/pub70/mine')).toEqual([`b${D}`]);
    await c.write('/pub70/a/b/c', 'x');
    for (const p of ['/pub70/a', '/pub70/a/b', '/pub70/a/b/c']) expect(await g.dom0.getPerms(p)).toEqual([`b${D}`]);
  });

  it('dom0 creating under a guest\'s node leaves it owned by the guest (perms inherited)', async () => {
    await g.dom0.write(`/local/domain/${D}/data/from0`, 'x');
    expect(await g.dom0.getPerms(`/local/domain/${D}/data/from0`)).toEqual([`n${D}`]);
  });

  it('only dom0 changes an owner: the owner may change the ACL (OK) but not entry 0\'s domid (EPERM); others EACCES', async () => {
    await c.write('data/o', 'x');
    expect(await outcome(c.setPerms('data/o', [`r${D}`, 'r0', 'b7']))).toBe('OK');
    expect(await g.dom0.getPerms(`/local/domain/${D}/data/o`)).toEqual([`r${D}`, 'r0', 'b7']);
    expect(await outcome(c.setPerms('data/o', ['n0']))).toBe('EPERM');
    expect(await outcome(c.setPerms('data/o', ['b7']))).toBe('EPERM');
    expect(await outcome(c.setPerms(`${P}/b`, [`n${D}`]))).toBe('EACCES');
    await g.dom0.setPerms(`/local/domain/${D}/data/o`, ['n7']);
    expect(await g.dom0.getPerms(`/local/domain/${D}/data/o`)).toEqual(['n7']);
  });
});

describe('watch events only for what the watcher may read (reference §5.6)', () => {
  let w: Watcher;

  async function events(): Promise<string[]> {
    await c.getDomainPath(0);
    return w.drain().map((e) => e.path);
  }

  beforeAll(async () => {
    await node('/w70', ['n0']);
    w = await c.watch('/w70', 'w');
    await w.nextEvent(2000);
  });

  it('no event for a node neither readable nor under a readable parent', async () => {
    await node('/w70/hidden', ['n0']);
    await g.dom0.write('/w70/hidden/deep', 'x');
    expect(await events()).toEqual([]);
  });

  it('an event when the node is readable, or its parent is', async () => {
    await node('/w70/open', ['r0']);
    expect(await events()).toEqual(['/w70/open']);
    await g.dom0.write('/w70/open/kid', 'x'); // kid inherits r0
    await g.dom0.setPerms('/w70/open/kid', ['n0']);
    expect(await events()).toEqual(['/w70/open/kid', '/w70/open/kid']);
    await g.dom0.write('/w70/open/kid', 'y'); // unreadable, but its parent is readable
    expect(await events()).toEqual(['/w70/open/kid']);
  });

  it('SET_PERMS: the old perms count too', async () => {
    await node('/w70/was', ['r0']);
    await events();
    await g.dom0.setPerms('/w70/was', ['n0']);
    expect(await events()).toEqual(['/w70/was']);
    await g.dom0.setPerms('/w70/was', ['n0', 'r7']);
    expect(await events()).toEqual([]);
  });

  it('RM: the perms before deletion count', async () => {
    await node('/w70/gone', ['r0']);
    await node('/w70/gone2', ['n0']);
    await events();
    await g.dom0.rm('/w70/gone');
    await g.dom0.rm('/w70/gone2');
    expect(await events()).toEqual(['/w70/gone']);
  });

  it('a guest watching / gets the initial event and nothing of dom0\'s business (XSA-115)', async () => {
    const all = await c.watch('/', 'root');
    expect((await all.nextEvent(2000)).path).toBe('/');
    await g.dom0.write('/local/domain/0/secret', 'x');
    await g.dom0.write('/tool/xenstored/x', 'x');
    await c.write('data/seen', '1');
    await c.getDomainPath(0);
    expect(all.drain().map((e) => e.path)).toEqual([`/local/domain/${D}/data/seen`]);
    await all.unwatch();
  });
});
