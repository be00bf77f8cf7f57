/**
 * CONTROL, GET_DOMAIN_PATH, domain queries, GET_FEATURE and the socket itself (reference §2.1,
 * §8.1; checklist 39–41, 67–69).
 */

import { statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AGAINST_C } from '../helpers/daemon.js';
import { Op, errorOf, fresh, sharedDaemon, show, strs, text } from '../helpers/raw.js';

const s = sharedDaemon();

describe('CONTROL (checklist 68)', () => {
  it('"help" returns the command list, one "name synopsis" line per command, including check', async () => {
    const r = await s.c.rq(Op.CONTROL, ['help']);
    expect(r.type, show(r)).toBe(Op.CONTROL);
    const t = text(r);
    expect(t.endsWith('\0')).toBe(true);
    expect(t.indexOf('\0')).toBe(t.length - 1);
    const lines = t.slice(0, -1).split('\n').filter((l) => l !== '');
    const names = lines.map((l) => l.split(/\s+/)[0]);
    for (const cmd of ['check', 'help', 'log', 'print']) expect(names).toContain(cmd);
    // help lists what exists: each listed command is accepted (not EINVAL)
    for (const n of ['check', 'help']) {
      const rr = await s.c.rq(Op.CONTROL, [n]);
      expect(rr.type, `${n}: ${show(rr)}`).toBe(Op.CONTROL);
    }
  });

  it('"check" answers OK on a consistent store, also after a batch of changes', async () => {
    const c = s.c;
    expect(text(await c.rq(Op.CONTROL, ['check']))).toBe('OK\0');
    const p = fresh('chk');
    for (let i = 0; i < 30; i++) await c.write(`${p}/${i % 5}/${i}`, String(i));
    await c.rm(`${p}/3`);
    const tx = await c.txStart();
    await c.write(`${p}/tx`, 'v', { tx });
    expect(await c.txEnd(tx)).toBe('OK');
    const r = await c.rq(Op.CONTROL, ['check']);
    expect([r.type, text(r)]).toEqual([Op.CONTROL, 'OK\0']);
  });

  it('with the tx_id of an open transaction works (the transaction is looked up, then ignored); an unknown tx_id gives ENOENT', async () => {
    const c = await s.open();
    const tx = await c.txStart();
    const r = await c.rq(Op.CONTROL, ['check'], { tx });
    expect([r.type, r.tx, text(r)]).toEqual([Op.CONTROL, tx, 'OK\0']);
    expect(await c.txEnd(tx)).toBe('OK');
    await c.expectError('ENOENT', Op.CONTROL, ['check'], { tx: 0x5eed });
  });

  it('an unknown command gives EINVAL; an empty payload gives EINVAL', async () => {
    await s.c.expectError('EINVAL', Op.CONTROL, ['no-such-command']);
    await s.c.expectError('EINVAL', Op.CONTROL, ['no-such-command', 'arg']);
    await s.c.expectError('EINVAL', Op.CONTROL, Buffer.alloc(0));
  });

  it('"print <string>" answers OK', async () => {
    const r = await s.c.rq(Op.CONTROL, ['print', 'hello from the protocol tests']);
    expect([r.type, text(r)]).toEqual([Op.CONTROL, 'OK\0']);
  });

  // HEAD's form (reference §2.1); C 4.17 wants an argument.
  it.skipIf(AGAINST_C)('"log" without arguments lists the switches', async () => {
    const r = await s.c.rq(Op.CONTROL, ['log']);
    expect(r.type, show(r)).toBe(Op.CONTROL);
    for (const sw of ['obj', 'io', 'wrl', 'acc', 'tdb']) expect(text(r)).toContain(sw);
  });
});

describe('GET_DOMAIN_PATH (checklist 39)', () => {
  it('gives /local/domain/<domid>\\0 for any domid, existing or not', async () => {
    for (const [arg, want] of [
      ['0', '/local/domain/0'],
      ['7', '/local/domain/7'],
      ['65535', '/local/domain/65535'],
      ['32752', '/local/domain/32752'],
    ]) {
      const r = await s.c.rq(Op.GET_DOMAIN_PATH, [arg]);
      expect([r.type, text(r)]).toEqual([Op.GET_DOMAIN_PATH, `${want}\0`]);
    }
  });

  it('gives EINVAL for "x" and for 70000 (strict decimal 0..65535)', async () => {
    await s.c.expectError('EINVAL', Op.GET_DOMAIN_PATH, ['x']);
    await s.c.expectError('EINVAL', Op.GET_DOMAIN_PATH, ['70000']);
  });

  it('gives EINVAL without exactly one NUL-terminated argument', async () => {
    await s.c.expectError('EINVAL', Op.GET_DOMAIN_PATH, Buffer.from('7'));
    await s.c.expectError('EINVAL', Op.GET_DOMAIN_PATH, Buffer.alloc(0));
    await s.c.expectError('EINVAL', Op.GET_DOMAIN_PATH, ['7', '8']);
  });
});

describe('domain queries (checklist 40, 41)', () => {
  it('IS_DOMAIN_INTRODUCED: DOMID_SELF (32752) gives T, a domain never introduced gives F', async () => {
    const self = await s.c.rq(Op.IS_DOMAIN_INTRODUCED, ['32752']);
    expect([self.type, text(self)]).toEqual([Op.IS_DOMAIN_INTRODUCED, 'T\0']);
    const none = await s.c.rq(Op.IS_DOMAIN_INTRODUCED, ['4711']);
    expect([none.type, text(none)]).toEqual([Op.IS_DOMAIN_INTRODUCED, 'F\0']);
  });

  it('RELEASE of domid 0 gives EINVAL; of a domain never introduced ENOENT', async () => {
    await s.c.expectError('EINVAL', Op.RELEASE, ['0']);
    await s.c.expectError('ENOENT', Op.RELEASE, ['4711']);
    // the store is untouched
    expect(await s.c.getPerms('/tool')).toBe('n0\0');
  });
});

describe('GET_FEATURE (checklist 67)', () => {
  it.skipIf(AGAINST_C)('with an empty payload returns a decimal bitmap + NUL (xsgit serves GET_FEATURE)', async () => {
    const r = await s.c.rq(Op.GET_FEATURE, Buffer.alloc(0));
    expect(r.type, show(r)).toBe(Op.GET_FEATURE);
    expect(text(r)).toMatch(/^[0-9]+\0$/);
    const bits = Number.parseInt(text(r), 10);
    // only defined feature bits (RECONNECTION 1, ERROR 2, WATCHDEPTH 4, DOMID_ANY 8)
    expect(bits & ~15).toBe(0);
    // the same answer each time
    expect(text(await s.c.rq(Op.GET_FEATURE, Buffer.alloc(0)))).toBe(text(r));
  });

  it.skipIf(AGAINST_C)('with more than one argument gives EINVAL; for an unknown domain ENOENT', async () => {
    await s.c.expectError('EINVAL', Op.GET_FEATURE, ['1', '2']);
    await s.c.expectError('ENOENT', Op.GET_FEATURE, ['4711']);
  });
});

describe('the socket (checklist 69)', () => {
  it('is DIR/socket, mode 0600', () => {
    const st = statSync(s.d.socket);
    expect(st.isSocket()).toBe(true);
    expect(s.d.socket).toBe(`${s.d.dir}/socket`);
    expect(st.mode & 0o777).toBe(0o600);
  });

  it('every connection is privileged dom0: CONTROL works and relative paths resolve to /local/domain/0', async () => {
    const c = await s.open();
    expect(c).not.toBe(s.c);
    expect(errorOf(await c.rq(Op.CONTROL, ['check']))).toMatch(/^not an error/);
    const rel = fresh('rel').slice(1);
    await c.write(rel, 'x');
    expect(await c.readS(`/local/domain/0/${rel}`)).toBe('x');
    expect(strs(await c.ok(Op.GET_DOMAIN_PATH, ['0']))).toEqual(['/local/domain/0']);
  });
});
