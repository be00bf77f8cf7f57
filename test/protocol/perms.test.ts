/**
 * GET_PERMS / SET_PERMS through a (privileged, dom0) socket connection (reference §2.1, §3.4,
 * §4; checklist 13, 29–31, 33, 36). The unprivileged cases (32, 34, 35, 37) need a domain
 * connection and are not covered here.
 */

import { describe, expect, it } from 'vitest';
import { Op, fresh, sharedDaemon } from '../helpers/raw.js';

const s = sharedDaemon();

describe('GET_PERMS', () => {
  it('of a fresh dom0-created node under / is "n0\\0" (checklist 29)', async () => {
    const c = s.c;
    const p = fresh('gp29');
    await c.write(p, 'x');
    const r = await c.rq(Op.GET_PERMS, [p]);
    expect([r.type, r.payload.toString('latin1')]).toEqual([Op.GET_PERMS, 'n0\0']);
    await c.mkdir(`${p}/made/by/mkdir`);
    expect(await c.getPerms(`${p}/made`)).toBe('n0\0');
    expect(await c.getPerms(`${p}/made/by/mkdir`)).toBe('n0\0');
    // the initial tree
    expect(await c.getPerms('/tool')).toBe('n0\0');
    expect(await c.getPerms('/tool/xenstored')).toBe('n0\0');
  });

  it('prints "<r|w|b|n><decimal domid>\\0" per entry, owner first, in the order set (checklist 30)', async () => {
    const c = s.c;
    const p = fresh('gp30');
    await c.write(p, '');
    await c.setPerms(p, ['b7', 'r5', 'w0', 'n12', 'b32757']);
    expect(await c.getPerms(p)).toBe('b7\0r5\0w0\0n12\0b32757\0');
    await c.setPerms(p, ['r65', 'n0']);
    expect(await c.getPerms(p)).toBe('r65\0n0\0');
  });

  it('accepts strtol-style domids (hex 0x.., leading zeros) and prints them in decimal', async () => {
    const c = s.c;
    const p = fresh('gphex');
    await c.write(p, '');
    await c.setPerms(p, ['n0x10', 'r0x1f']);
    expect(await c.getPerms(p)).toBe('n16\0r31\0');
  });

  it('of a missing node gives ENOENT', async () => {
    await s.c.expectError('ENOENT', Op.GET_PERMS, [`${fresh('gp')}/none`]);
  });
});

describe('SET_PERMS', () => {
  it('without a perm string gives EINVAL (checklist 31)', async () => {
    const c = s.c;
    const p = fresh('sp31');
    await c.write(p, '');
    await c.expectError('EINVAL', Op.SET_PERMS, [p]);
    await c.expectError('EINVAL', Op.SET_PERMS, Buffer.from(p));
    await c.expectError('EINVAL', Op.SET_PERMS, Buffer.alloc(0));
    expect(await c.getPerms(p)).toBe('n0\0');
  });

  it.each([
    ['a bad letter', ['x5']],
    ['an upper-case letter', ['R5']],
    ['no domid', ['r']],
    ['trailing junk', ['r5x']],
    ['a non-numeric domid', ['rabc']],
    ['an empty entry', ['']],
    ['a bad second entry', ['n0', 'q3']],
    ['a bad later entry', ['n0', 'r3', 'w']],
  ])('with %s gives EINVAL and changes nothing (checklist 31)', async (_what, perms) => {
    const c = s.c;
    const p = fresh('sp31b');
    await c.write(p, 'v');
    await c.setPerms(p, ['n0', 'r1']);
    await c.expectError('EINVAL', Op.SET_PERMS, [p, ...perms]);
    expect(await c.getPerms(p)).toBe('n0\0r1\0');
    expect(await c.readS(p)).toBe('v');
  });

  it('of a missing node gives ENOENT', async () => {
    await s.c.expectError('ENOENT', Op.SET_PERMS, [`${fresh('sp')}/none`, 'n0']);
  });

  it('leaves the value and children unchanged', async () => {
    const c = s.c;
    const p = fresh('spv');
    await c.write(p, 'value');
    await c.write(`${p}/kid`, 'k');
    await c.setPerms(p, ['r3']);
    expect(await c.readS(p)).toBe('value');
    expect(await c.dir(p)).toEqual(['kid']);
    // a child keeps its own perms
    expect(await c.getPerms(`${p}/kid`)).toBe('n0\0');
  });
});

describe('inheritance (checklist 13)', () => {
  it('new nodes copy their parent\'s full perm list (dom0 creator: verbatim, owner included)', async () => {
    const c = s.c;
    const p = fresh('inh');
    await c.write(p, '');
    await c.setPerms(p, ['w3', 'r5', 'b9']);
    await c.write(`${p}/a/b/c`, 'leaf');
    for (const q of [`${p}/a`, `${p}/a/b`, `${p}/a/b/c`]) expect(await c.getPerms(q)).toBe('w3\0r5\0b9\0');
    await c.mkdir(`${p}/m`);
    expect(await c.getPerms(`${p}/m`)).toBe('w3\0r5\0b9\0');
    // a node under /local/domain/5 that dom0 creates where the parent is owned by 5 is owned by 5
    const home = `/local/domain/5${fresh('h')}`;
    await c.mkdir(home);
    await c.setPerms(home, ['n5', 'r0']);
    await c.write(`${home}/x`, '');
    expect(await c.getPerms(`${home}/x`)).toBe('n5\0r0\0');
  });

  it('existing nodes keep their perms when rewritten', async () => {
    const c = s.c;
    const p = fresh('keep');
    await c.write(p, 'a');
    await c.setPerms(p, ['r4', 'w6']);
    await c.write(p, 'b');
    expect(await c.getPerms(p)).toBe('r4\0w6\0');
  });
});

describe('watch on SET_PERMS (checklist 33)', () => {
  it('fires one event for the node, for watchers of the node and of its ancestors', async () => {
    const c = s.c;
    const w = await s.open();
    const p = fresh('spw');
    await c.write(`${p}/n`, '');
    await w.watch(p, 'anc');
    await w.watch(`${p}/n`, 'node');
    await c.setPerms(`${p}/n`, ['n0', 'r2']);
    await w.sync();
    expect(w.takeEvents().sort()).toEqual([
      [`${p}/n`, 'anc'],
      [`${p}/n`, 'node'],
    ]);
    // setting the same perms again still fires
    await c.setPerms(`${p}/n`, ['n0', 'r2']);
    await w.sync();
    expect(w.takeEvents().length).toBe(2);
  });
});

describe('privileged socket connections (checklist 36)', () => {
  it('bypass all permission checks: a node owned by another domain with "n" for everyone is fully usable', async () => {
    const c = s.c;
    const p = fresh('priv');
    await c.write(`${p}/locked/child`, 'secret');
    await c.setPerms(`${p}/locked`, ['n7']);
    await c.setPerms(`${p}/locked/child`, ['n7']);
    // read, list, perms, write, create below, change perms back, remove
    expect(await c.readS(`${p}/locked/child`)).toBe('secret');
    expect(await c.dir(`${p}/locked`)).toEqual(['child']);
    expect(await c.getPerms(`${p}/locked`)).toBe('n7\0');
    await c.write(`${p}/locked/child`, 'overwritten');
    await c.write(`${p}/locked/new/deep`, 'created');
    expect(await c.getPerms(`${p}/locked/new/deep`)).toBe('n7\0');
    await c.setPerms(`${p}/locked`, ['n8', 'r0']);
    expect(await c.getPerms(`${p}/locked`)).toBe('n8\0r0\0');
    await c.rm(`${p}/locked`);
    await c.expectError('ENOENT', Op.READ, [`${p}/locked`]);
    // transactions too
    await c.write(`${p}/t`, 'x');
    await c.setPerms(`${p}/t`, ['n9']);
    const tx = await c.txStart();
    expect(await c.readS(`${p}/t`, { tx })).toBe('x');
    await c.write(`${p}/t`, 'y', { tx });
    expect(await c.txEnd(tx)).toBe('OK');
    expect(await c.readS(`${p}/t`)).toBe('y');
  });
});
