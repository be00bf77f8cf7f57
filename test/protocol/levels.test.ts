/**
 * Protocol levels (issue 10): the 4.22 level by default — one domid parser, DOMID_ANY, watch
 * depths, special watches with the domid, GET_FEATURE for oneself, SET_PERMS of special
 * nodes firing their watchers — and the older levels `--protocol 4.20`, `--no-features`
 * (4.17) answering as those C daemons do. Guests through `--guest-sockets`.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../../src/client/index.js';
import { startGuestDaemon, outcome, type GuestDaemon } from '../domains/guest.js';
import { Op } from '../helpers/raw.js';

const DOMID_ANY = 32757;

async function code(c: Client, type: number, args: string[]): Promise<string> {
  try {
    return (await c.call(type, Buffer.from(args.map((a) => `${a}\0`).join(''), 'latin1'))).toString('latin1');
  } catch (err) {
    return (err as { code: string }).code;
  }
}

describe('the 4.22 level (default)', () => {
  let g: GuestDaemon;
  beforeAll(async () => {
    g = await startGuestDaemon();
  });
  afterAll(async () => {
    await g?.stop();
  });

  it('one domid parser for every message, as C 4.22 parse_domid: no atoi leniency', async () => {
    const d = g.dom0;
    const cases: [number, string[]][] = [
      [Op.IS_DOMAIN_INTRODUCED, ['abc']],
      [Op.IS_DOMAIN_INTRODUCED, ['70000']],
      [Op.IS_DOMAIN_INTRODUCED, ['5 ']],
      [Op.INTRODUCE, ['5x', '4096', '7']],
      [Op.INTRODUCE, ['abc', '4096', '7']],
      [Op.RELEASE, ['70000']],
      [Op.RESUME, ['70000']],
      [Op.SET_TARGET, ['abc', '0']],
      [Op.GET_FEATURE, ['abc']],
      [Op.SET_FEATURE, ['70000', '0']],
      [Op.GET_DOMAIN_PATH, ['-1']],
      [Op.GET_QUOTA, ['0x5', 'nodes']],
    ];
    for (const [type, args] of cases) expect(`${type} ${args.join(',')}: ${await code(d, type, args)}`).toBe(`${type} ${args.join(',')}: EINVAL`);
    expect(await d.isDomainIntroduced(5)).toBe(false);
    // What strtoul takes: leading blanks, a sign, leading zeros.
    for (const s of [' 5', '+5', '000005']) expect(await d.getDomainPath(s)).toBe('/local/domain/5');
    expect(await code(d, Op.IS_DOMAIN_INTRODUCED, [' 0'])).toBe('T\0');
  });

  it('@releaseDomain starts readable by every domain (n0 r32757), and a guest watching it learns of releases', async () => {
    expect(await g.dom0.getPerms('@releaseDomain')).toEqual(['n0', `r${DOMID_ANY}`]);
    await g.introduce(31);
    await g.introduce(32);
    const guest = await g.guest(31);
    const w = await guest.watch('@releaseDomain', 'rel');
    expect((await w.nextEvent(2000)).path).toBe('@releaseDomain');
    await g.dom0.release(32);
    expect(await w.nextEvent(2000)).toEqual({ path: '@releaseDomain', token: 'rel' });
  });

  it('DOMID_ANY in a permission list grants every domain', async () => {
    await g.introduce(33);
    await g.dom0.write('/shared/any', 'for all');
    await g.dom0.setPerms('/shared/any', ['n0', `r${DOMID_ANY}`]);
    await g.dom0.write('/shared/none', 'secret');
    const guest = await g.guest(33);
    expect(await guest.readString('/shared/any')).toBe('for all');
    expect(await outcome(guest.readString('/shared/none'))).toBe('EACCES');
    expect(await outcome(guest.write('/shared/any', 'x'))).toBe('EACCES');
  });

  it('WATCH with a depth fires only for changes that many levels below', async () => {
    const c = await g.daemon.connect();
    const d0 = await c.watch('/depth', 'd0', { depth: 0 });
    const d1 = await c.watch('/depth', 'd1', { depth: 1 });
    const all = await c.watch('/depth', 'all');
    for (const w of [d0, d1, all]) await w.nextEvent(2000);
    await c.write('/depth/a/b', '1');
    await c.write('/depth/a', '2');
    await c.write('/depth', '3');
    await c.getDomainPath(0);
    expect(d0.drain().map((e) => e.path)).toEqual(['/depth']);
    expect(d1.drain().map((e) => e.path)).toEqual(['/depth/a', '/depth']);
    expect(all.drain().map((e) => e.path)).toEqual(['/depth/a/b', '/depth/a', '/depth']);
  });

  it('special watches with depth 1 carry the domid; @releaseDomain/<domid> can be watched', async () => {
    const c = await g.daemon.connect();
    const plain = await c.watch('@releaseDomain', 'plain');
    const deep = await c.watch('@releaseDomain', 'deep', { depth: 1 });
    const one = await c.watch('@releaseDomain/35', 'one');
    const intro = await c.watch('@introduceDomain', 'intro', { depth: 1 });
    for (const w of [plain, deep, one, intro]) await w.nextEvent(2000);
    await g.introduce(34);
    await g.introduce(35);
    await g.dom0.release(34);
    await g.dom0.release(35);
    await c.getDomainPath(0);
    expect(plain.drain().map((e) => e.path)).toEqual(['@releaseDomain', '@releaseDomain']);
    expect(deep.drain().map((e) => e.path)).toEqual(['@releaseDomain/34', '@releaseDomain/35']);
    expect(one.drain().map((e) => e.path)).toEqual(['@releaseDomain/35']);
    expect(intro.drain().map((e) => e.path)).toEqual(['@introduceDomain/34', '@introduceDomain/35']);
  });

  it('SET_PERMS of a special node fires its watchers (not those of /); in a transaction, at commit', async () => {
    const c = await g.daemon.connect();
    const rel = await c.watch('@releaseDomain', 'rel');
    const root = await c.watch('/', 'root');
    await rel.nextEvent(2000);
    await root.nextEvent(2000);
    await g.dom0.setPerms('@releaseDomain', ['n0', `r${DOMID_ANY}`, 'r7']);
    expect(await rel.nextEvent(2000)).toEqual({ path: '@releaseDomain', token: 'rel' });
    const tx = await g.dom0.begin();
    await tx.setPerms('@releaseDomain', ['n0', `r${DOMID_ANY}`]);
    expect(await tx.getPerms('@releaseDomain')).toEqual(['n0', `r${DOMID_ANY}`]);
    expect(await g.dom0.getPerms('@releaseDomain')).toEqual(['n0', `r${DOMID_ANY}`, 'r7']);
    await c.getDomainPath(0);
    expect(rel.drain()).toEqual([]);
    await tx.commit();
    expect(await rel.nextEvent(2000)).toEqual({ path: '@releaseDomain', token: 'rel' });
    expect(await g.dom0.getPerms('@releaseDomain')).toEqual(['n0', `r${DOMID_ANY}`]);
    await c.getDomainPath(0);
    expect(root.drain()).toEqual([]);
  });

  it('GET_FEATURE: dom0 and domain 0 have every feature; a guest asks about itself, not others', async () => {
    expect(await g.dom0.getFeature()).toBe(14);
    expect(await g.dom0.getFeature(0)).toBe(14);
    await g.dom0.setFeature(36, 2);
    await g.introduce(36);
    await g.introduce(37);
    expect(await g.dom0.getFeature(36)).toBe(2);
    const masked = await g.guest(36);
    const full = await g.guest(37);
    expect(await masked.getFeature()).toBe(2);
    expect(await full.getFeature()).toBe(14);
    expect(await outcome(full.getFeature(37))).toBe('EACCES');
    // Without XENSTORE_SERVER_FEATURE_WATCHDEPTH, a third WATCH argument is EINVAL.
    expect(await outcome(masked.watch('/local/domain/36', 't', { depth: 1 }))).toBe('EINVAL');
    expect(await outcome(full.watch('/local/domain/37', 't', { depth: 1 }))).toBe('OK');
  });

  it('the watch quota answers ENOSPC at the quota', async () => {
    await g.introduce(38);
    await g.dom0.setQuota('38', 'watches', '3');
    const guest = await g.guest(38);
    for (let i = 0; i < 3; i++) await guest.watch(`/local/domain/38/w${i}`, 't');
    expect(await outcome(guest.watch('/local/domain/38/w3', 't'))).toBe('ENOSPC');
  });
});

describe('--no-features: Debian 12\'s 4.17', () => {
  let g: GuestDaemon;
  beforeAll(async () => {
    g = await startGuestDaemon(['--no-features', '--quota', 'watches=3']);
  });
  afterAll(async () => {
    await g?.stop();
  });

  it('the watch quota answers E2BIG, after letting one more watch through than the quota', async () => {
    await g.introduce(40);
    const guest = await g.guest(40);
    for (let i = 0; i < 4; i++) await guest.watch(`/local/domain/40/w${i}`, 't');
    expect(await outcome(guest.watch('/local/domain/40/w4', 't'))).toBe('E2BIG');
  });

  it('domids as atoi; no DOMID_ANY; @ paths are not nodes', async () => {
    expect(await code(g.dom0, Op.IS_DOMAIN_INTRODUCED, ['abc'])).toBe('T\0');
    expect(await outcome(g.dom0.getPerms('@releaseDomain'))).toBe('EINVAL');
    expect(await outcome(g.dom0.getFeature())).toBe('ENOSYS');
    await g.introduce(41);
    await g.dom0.write('/shared/any', 'x');
    await g.dom0.setPerms('/shared/any', ['n0', `r${DOMID_ANY}`]);
    expect(await outcome((await g.guest(41)).readString('/shared/any'))).toBe('EACCES');
  });
});

describe('--protocol 4.20: Debian 13\'s C daemon', () => {
  let g: GuestDaemon;
  beforeAll(async () => {
    g = await startGuestDaemon(['--protocol', '4.20']);
  });
  afterAll(async () => {
    await g?.stop();
  });

  it('special nodes are nodes (GET_PERMS, SET_PERMS events); no GET_FEATURE, no depth, atoi domids', async () => {
    expect(await g.dom0.getPerms('@releaseDomain')).toEqual(['n0']);
    expect(await outcome(g.dom0.getFeature())).toBe('ENOSYS');
    expect(await code(g.dom0, Op.IS_DOMAIN_INTRODUCED, ['abc'])).toBe('T\0');
    const c = await g.daemon.connect();
    const rel = await c.watch('@releaseDomain', 'rel');
    await rel.nextEvent(2000);
    await g.dom0.setPerms('@releaseDomain', ['n0', 'r3']);
    expect(await rel.nextEvent(2000)).toEqual({ path: '@releaseDomain', token: 'rel' });
    expect(await outcome(c.watch('/x', 't', { depth: 1 }))).toBe('EINVAL');
  });

  it('rejects an unknown level', async () => {
    const { execFile } = await import('node:child_process');
    const { REPO_ROOT } = await import('../helpers/daemon.js');
    const r = await new Promise<{ code: number | null; err: string }>((res) => {
      execFile(process.execPath, [`${REPO_ROOT}/bin/xsgit.js`, 'daemon', '--protocol', '4.99', '--run-dir', '/nonexistent-xsgit'], (e, _o, err) => res({ code: e === null ? 0 : ((e as { code?: number }).code ?? 1), err }));
    });
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/4\.17, 4\.20 or 4\.22/);
  });
});

describe('xsgit watch', () => {
  let g: GuestDaemon;
  beforeAll(async () => {
    g = await startGuestDaemon();
  });
  afterAll(async () => {
    await g?.stop();
  });

  it('prints one event per line, honours --depth and exits after -n events', async () => {
    const { spawn } = await import('node:child_process');
    const { REPO_ROOT } = await import('../helpers/daemon.js');
    const child = spawn(process.execPath, [`${REPO_ROOT}/bin/xsgit.js`, 'watch', '/cliw', '--depth', '1', '-n', '3', '--json'], { env: g.daemon.env });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((res) => child.on('exit', res));
    // The initial event arrives once the watch is registered.
    while (!out.includes('\n')) await new Promise((r) => setTimeout(r, 20));
    await g.dom0.write('/cliw/a/b', 'deep');
    await g.dom0.write('/cliw/a', 'one level');
    await g.dom0.write('/cliw', 'itself');
    expect(await exited).toBe(0);
    expect(out.trim().split('\n').map((l) => (JSON.parse(l) as { path: string }).path)).toEqual(['/cliw', '/cliw/a', '/cliw']);
  });
});

describe('path length at 4.22: the path-max quota', () => {
  let g: GuestDaemon;
  beforeAll(async () => {
    g = await startGuestDaemon();
  });
  afterAll(async () => {
    await g?.stop();
  });

  it('binds a guest (2048 bytes after its home) but not dom0', async () => {
    await g.introduce(42);
    const guest = await g.guest(42);
    // Levels of 99 bytes, so that no node's child list passes the node-size quota.
    const rest = (n: number): string => {
      let p = 'data';
      while (p.length + 100 < n) p += `/${'p'.repeat(99)}`;
      return `${p}/${'q'.repeat(n - p.length - 1)}`;
    };
    expect(rest(2049).length).toBe(2049);
    await guest.write(`/local/domain/42/${rest(2048)}`, 'ok');
    expect(await outcome(guest.write(`/local/domain/42/${rest(2049)}`, 'no'))).toBe('EINVAL');
    await g.dom0.write(`/local/domain/42/${rest(2049)}`, 'dom0 may');
    expect(await g.dom0.readString(`/local/domain/42/${rest(2049)}`)).toBe('dom0 may');
  });
});
