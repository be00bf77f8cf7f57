/**
 * Path rules (reference §3; checklist 25–28): characters, `//`, trailing `/`, empty paths,
 * relative paths from the socket, the 2048-byte limit, `@` paths, and a very deep path.
 */

import { describe, expect, it } from 'vitest';
import { AGAINST_C } from '../helpers/daemon.js';
import { Op, fresh, sharedDaemon, strs, text } from '../helpers/raw.js';

const s = sharedDaemon();

const HOME = '/local/domain/0';

describe('path syntax (checklist 25)', () => {
  const bad = [
    ['a space', '/a b'],
    ['a dot', '/a.b'],
    ['a colon', '/a:b'],
    ['a star', '/a*'],
    ['a backslash', '/a\\b'],
    ['a control byte', '/a\x01b'],
    ['a high byte', '/a\xe9'],
    ['a tilde', '~/x'],
    ['`//`', '/a//b'],
    ['a leading `//`', '//a'],
    ['a trailing `/`', '/a/b/'],
    ['a relative trailing `/`', 'a/'],
    ['the empty string', ''],
  ] as const;

  it.each(bad)('refuses a path with %s (READ, WRITE, MKDIR, RM, DIRECTORY, GET_PERMS, SET_PERMS, WATCH) with EINVAL', async (_what, path) => {
    const c = s.c;
    await c.expectError('EINVAL', Op.READ, [path]);
    await c.expectError('EINVAL', Op.WRITE, Buffer.from(`${path}\0value`, 'latin1'));
    await c.expectError('EINVAL', Op.MKDIR, [path]);
    await c.expectError('EINVAL', Op.RM, [path]);
    await c.expectError('EINVAL', Op.DIRECTORY, [path]);
    await c.expectError('EINVAL', Op.GET_PERMS, [path]);
    await c.expectError('EINVAL', Op.SET_PERMS, [path, 'n0']);
    await c.expectError('EINVAL', Op.WATCH, [path, 'tok']);
    await c.expectError('EINVAL', Op.DIRECTORY_PART, [path, '0']);
    expect(c.events).toEqual([]);
  });

  it('accepts every allowed character: A-Z a-z 0-9 - _ @ (also @ inside a name)', async () => {
    const c = s.c;
    const p = `${fresh('chars')}/AZaz09-_@x/y@`;
    await c.write(p, 'ok');
    expect(await c.readS(p)).toBe('ok');
    expect(await c.dir(p.slice(0, p.lastIndexOf('/')))).toEqual(['y@']);
  });

  it('treats `/` as the root: readable, listable, and its value is empty', async () => {
    const c = s.c;
    expect((await c.read('/')).length).toBe(0);
    expect(await c.dir('/')).toContain('tool');
    expect(await c.getPerms('/')).toBe('n0\0');
  });
});

describe('relative paths from the socket (checklist 26)', () => {
  it('resolve to /local/domain/0/… for WRITE, READ, DIRECTORY, GET_PERMS, MKDIR and RM', async () => {
    const c = s.c;
    const rel = fresh('rel').slice(1);
    await c.write(`${rel}/k`, 'relative');
    expect(await c.readS(`${HOME}/${rel}/k`)).toBe('relative');
    await c.write(`${HOME}/${rel}/abs`, 'absolute');
    expect(await c.readS(`${rel}/abs`)).toBe('absolute');
    expect((await c.dir(rel)).sort()).toEqual(['abs', 'k']);
    expect(await c.getPerms(`${rel}/k`)).toBe(await c.getPerms(`${HOME}/${rel}/k`));
    await c.mkdir(`${rel}/m`);
    expect(await c.dir(`${HOME}/${rel}`)).toContain('m');
    await c.rm(`${rel}/k`);
    await c.expectError('ENOENT', Op.READ, [`${HOME}/${rel}/k`]);
  });
});

/** The 4.17 level, whose path limit binds dom0 too (from 4.18 on only the path-max quota
 *  limits paths, and dom0 has none). */
const lim = sharedDaemon(['--protocol', '4.17']);

describe('path length (checklist 27)', () => {
  it('allows 2048 bytes after /local/domain/<n>/ and refuses 2049 with EINVAL (4.17)', async () => {
    const c = lim.c;
    const base = fresh('len').slice(1); // e.g. "len123x4"
    const fill = (n: number): string => {
      // base + "/" + a's, exactly n bytes
      const rest = n - base.length - 1;
      return `${base}/${'a'.repeat(rest)}`;
    };
    const ok = fill(2048);
    expect(ok.length).toBe(2048);
    await c.write(`${HOME}/${ok}`, 'x');
    expect(await c.readS(`${HOME}/${ok}`)).toBe('x');
    // the same path, relative
    expect(await c.readS(ok)).toBe('x');
    const tooLong = fill(2049);
    await c.expectError('EINVAL', Op.WRITE, Buffer.from(`${HOME}/${tooLong}\0x`));
    await c.expectError('EINVAL', Op.WRITE, Buffer.from(`${tooLong}\0x`));
    await c.expectError('EINVAL', Op.READ, [`${HOME}/${tooLong}`]);
    await c.expectError('EINVAL', Op.WATCH, [`${HOME}/${tooLong}`, 't']);
    // The prefix of another domain's home does not count either.
    await c.write(`/local/domain/12345/${ok}`, 'y');
    await c.expectError('EINVAL', Op.WRITE, Buffer.from(`/local/domain/12345/${tooLong}\0y`));
  });

  it('counts the whole path outside /local/domain/<n>/: 2048 bytes OK, 2049 EINVAL (4.17)', async () => {
    const c = lim.c;
    const base = fresh('abslen');
    const ok = `${base}/${'b'.repeat(2048 - base.length - 1)}`;
    expect(ok.length).toBe(2048);
    await c.write(ok, 'v');
    expect(await c.readS(ok)).toBe('v');
    await c.expectError('EINVAL', Op.WRITE, Buffer.from(`${ok}c\0v`));
    await c.expectError('EINVAL', Op.READ, [`${ok}c`]);
  });
});

describe('path length from C 4.18 on (the default level)', () => {
  it.skipIf(AGAINST_C)('dom0 is not limited: only the path-max quota limits paths, and dom0 has none', async () => {
    const c = s.c;
    const long = `${fresh('nolimit')}/${'n'.repeat(2900)}`;
    await c.write(long, 'v');
    expect(await c.readS(long)).toBe('v');
    await c.rm(long);
  });
});

describe('special @ paths (checklist 28)', () => {
  it('refuses @ paths for READ, WRITE, MKDIR, RM, DIRECTORY and DIRECTORY_PART with EINVAL', async () => {
    const c = s.c;
    for (const p of ['@introduceDomain', '@releaseDomain', '@other']) {
      await c.expectError('EINVAL', Op.READ, [p]);
      await c.expectError('EINVAL', Op.WRITE, Buffer.from(`${p}\0v`));
      await c.expectError('EINVAL', Op.MKDIR, [p]);
      await c.expectError('EINVAL', Op.RM, [p]);
      await c.expectError('EINVAL', Op.DIRECTORY, [p]);
      await c.expectError('EINVAL', Op.DIRECTORY_PART, [p, '0']);
    }
    // and they are not children of /
    const root = await c.dir('/');
    expect(root.filter((n) => n.startsWith('@'))).toEqual([]);
  });

  it('accepts @ paths in WATCH and UNWATCH', async () => {
    const c = await s.open();
    await c.watch('@introduceDomain', 'i');
    await c.watch('@releaseDomain', 'r');
    await c.watch('@anything', 'a');
    await c.unwatch('@introduceDomain', 'i');
    await c.unwatch('@releaseDomain', 'r');
    await c.unwatch('@anything', 'a');
  });

  it('accepts @introduceDomain/@releaseDomain in GET_PERMS (n0) and SET_PERMS', async () => {
    const c = s.c;
    expect(await c.getPerms('@introduceDomain')).toBe('n0\0');
    await c.setPerms('@releaseDomain', ['n0', 'r5']);
    expect(await c.getPerms('@releaseDomain')).toBe('n0\0r5\0');
    await c.setPerms('@releaseDomain', ['n0']);
    expect(await c.getPerms('@releaseDomain')).toBe('n0\0');
  });
});

describe('deep paths', () => {
  it('writes, reads, lists and removes a node 1,027 levels deep (the deepest the 2048-byte limit allows)', async () => {
    const c = await s.open();
    // Under /local/domain/0 only the part after the home counts: "D/a/a/…/a" with 1023
    // "/a" is 2047 bytes, 1024 levels below the home, 1027 below the root.
    const top = 'D';
    let rel = top;
    while (rel.length + 2 <= 2048) rel += '/a';
    const relParts = rel.split('/');
    const path = `${HOME}/${rel}`;
    expect(path.split('/').length - 1).toBe(1027);
    expect(rel.length).toBeLessThanOrEqual(2048);
    expect(path.split('/').length - 1).toBeGreaterThan(1000);
    await c.watch(`${HOME}/${top}`, 'deep');
    await c.write(path, 'bottom');
    expect(await c.nextEventPT()).toEqual([path, 'deep']);
    expect(await c.readS(path)).toBe('bottom');
    expect(await c.readS(rel)).toBe('bottom');
    // every implicit ancestor exists with an empty value
    const mid = `${HOME}/${relParts.slice(0, 500).join('/')}`;
    expect((await c.read(mid)).length).toBe(0);
    expect(await c.dir(mid)).toEqual(['a']);
    expect(await c.getPerms(path)).toBe('n0\0');
    // remove from the top: the whole chain goes, in one request
    await c.rm(`${HOME}/${top}`);
    expect(await c.nextEventPT()).toEqual([`${HOME}/${top}`, 'deep']);
    await c.expectError('ENOENT', Op.READ, [path]);
    await c.expectError('ENOENT', Op.READ, [mid]);
    const check = await c.rq(Op.CONTROL, ['check']);
    expect(text(check)).toBe('OK\0');
  });

  it('refuses a 1,500-level path (2,999 bytes: over the limit) with EINVAL and goes on (4.17)', async () => {
    const c = lim.c;
    const rel = Array(1500).fill('z').join('/');
    expect(rel.length).toBe(2999);
    await c.expectError('EINVAL', Op.WRITE, Buffer.from(`${rel}\0v`));
    await c.expectError('EINVAL', Op.WRITE, Buffer.from(`/${rel}\0v`));
    await c.expectError('ENOENT', Op.READ, ['/z']);
    expect(strs(await c.ok(Op.GET_DOMAIN_PATH, ['0']))).toEqual([HOME]);
  });

  it('handles many deep paths sharing prefixes (store walks are iterative)', async () => {
    const c = await s.open();
    const top = fresh('deep2');
    let p = top;
    for (let i = 0; i < 600 && p.length + 2 <= 2040; i++) p += '/b';
    // siblings hung off the deepest levels
    for (let i = 0; i < 5; i++) await c.write(`${p}/s${i}`, `v${i}`);
    expect(await c.dir(p)).toEqual(['s0', 's1', 's2', 's3', 's4']);
    await c.rm(top);
    await c.expectError('ENOENT', Op.READ, [`${p}/s0`]);
    const r = await c.rq(Op.CONTROL, ['check']);
    expect(text(r)).toBe('OK\0');
  });
});
