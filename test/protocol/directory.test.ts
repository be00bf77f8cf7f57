/**
 * DIRECTORY and DIRECTORY_PART (reference §2.1; checklist 20–24, 7).
 *
 * Order: the C daemon lists children in creation order, oxenstored sorted. xsgit documents
 * byte-sorted order (issue 2, "DIRECTORY in sorted order"); the reference allows either.
 */

import { describe, expect, it } from 'vitest';
import { AGAINST_C } from '../helpers/daemon.js';
import { Op, PAYLOAD_MAX, byteSorted, directoryPartWalk, errorOf, frame, fresh, sharedDaemon, show, strs, type RawConn } from '../helpers/raw.js';

const s = sharedDaemon();

/** The order this daemon lists `created` in. */
const listed = (created: string[]): string[] => (AGAINST_C ? created : byteSorted(created));

async function mkdirs(c: RawConn, paths: string[]): Promise<void> {
  await c.sendRaw(Buffer.concat(paths.map((p, i) => frame(Op.MKDIR, [p], { req: i + 1 }))));
  for (let i = 0; i < paths.length; i++) {
    const r = await c.nextReply();
    expect(r.req).toBe(i + 1);
    expect(r.type, show(r)).toBe(Op.MKDIR);
  }
}

async function gen(c: RawConn, path: string): Promise<string> {
  const r = await c.rq(Op.DIRECTORY_PART, [path, '999999']);
  expect(r.type, show(r)).toBe(Op.DIRECTORY_PART);
  const t = r.payload.toString('latin1');
  expect(t).toMatch(/^[0-9]+\0\0$/);
  return t.slice(0, t.indexOf('\0'));
}

describe('DIRECTORY', () => {
  it('returns the leaf names, each NUL-terminated (checklist 20)', async () => {
    const c = s.c;
    const p = fresh('d20');
    await c.write(`${p}/alpha`, '1');
    await c.write(`${p}/beta/deeper`, '2');
    await c.mkdir(`${p}/gamma`);
    const r = await c.rq(Op.DIRECTORY, [p]);
    expect(r.type).toBe(Op.DIRECTORY);
    expect(r.payload.toString('latin1')).toBe(listed(['alpha', 'beta', 'gamma']).map((n) => `${n}\0`).join(''));
  });

  it('of a node without children has len 0 (checklist 20)', async () => {
    const c = s.c;
    const p = fresh('d20e');
    await c.write(p, 'leaf value');
    const r = await c.rq(Op.DIRECTORY, [p]);
    expect([r.type, r.len]).toEqual([Op.DIRECTORY, 0]);
  });

  it('of a missing node gives ENOENT', async () => {
    await s.c.expectError('ENOENT', Op.DIRECTORY, [`${fresh('d')}/none`]);
  });

  it(`lists children in ${AGAINST_C ? 'creation' : 'byte-sorted'} order; a removal keeps the others' order (checklist 21)`, async () => {
    const c = s.c;
    const p = fresh('d21');
    const created = ['b', 'a', 'C', '10', '9', '_x', '-y', '@z', 'aa', 'B'];
    for (const n of created) await c.write(`${p}/${n}`, n);
    expect(await c.dir(p)).toEqual(listed(created));
    await c.rm(`${p}/9`);
    await c.rm(`${p}/b`);
    const left = created.filter((n) => n !== '9' && n !== 'b');
    expect(await c.dir(p)).toEqual(listed(left));
    // re-creating a removed name puts it where the order says
    await c.write(`${p}/b`, 'again');
    expect(await c.dir(p)).toEqual(listed([...left, 'b']));
    // rewriting an existing child does not move it
    await c.write(`${p}/a`, 'rewritten');
    expect(await c.dir(p)).toEqual(listed([...left, 'b']));
  });
});

describe('large directories (checklist 7, 22, 23)', () => {
  // 400 children with names of 10–30 bytes, created in a scrambled order: ~8.4 KB of names.
  const names: string[] = [];
  for (let i = 0; i < 400; i++) {
    const k = (i * 7919) % 400;
    names.push(`c${String(k).padStart(3, '0')}-${'x'.repeat(5 + ((k * 13) % 21))}`);
  }
  const bytes = names.reduce((n, x) => n + x.length + 1, 0);

  it('DIRECTORY of a node whose child list exceeds 4096 bytes gives E2BIG; DIRECTORY_PART walks it fully', async () => {
    expect(new Set(names).size).toBe(names.length);
    expect(bytes).toBeGreaterThan(2 * PAYLOAD_MAX);
    const c = s.c;
    const p = fresh('big');
    await mkdirs(
      c,
      names.map((n) => `${p}/${n}`),
    );
    await c.expectError('E2BIG', Op.DIRECTORY, [p]);
    const walk = await directoryPartWalk(c, p);
    expect(walk.restarts).toBe(0);
    expect(walk.chunks).toBeGreaterThanOrEqual(2);
    expect(walk.names).toHaveLength(names.length);
    expect(new Set(walk.names)).toEqual(new Set(names));
    expect(walk.names).toEqual(listed(names));
    expect(walk.gen).toBe(await gen(c, p));
    // every reply stayed within the limit
    expect(c.log.filter((f) => f.len > PAYLOAD_MAX).map(show)).toEqual([]);
  });

  it('DIRECTORY_PART chunks hold whole names, as many as fit; the last one carries an extra NUL (checklist 23)', async () => {
    const c = s.c;
    const p = fresh('bigp');
    await mkdirs(
      c,
      names.map((n) => `${p}/${n}`),
    );
    const full = Buffer.from(listed(names).map((n) => `${n}\0`).join(''), 'latin1');
    let offset = 0;
    let g: string | null = null;
    for (let i = 0; ; i++) {
      expect(i).toBeLessThan(10);
      const r = await c.rq(Op.DIRECTORY_PART, [p, String(offset)]);
      expect(r.type, show(r)).toBe(Op.DIRECTORY_PART);
      expect(r.len).toBeLessThanOrEqual(PAYLOAD_MAX);
      const nul = r.payload.indexOf(0);
      const rg = r.payload.toString('latin1', 0, nul);
      expect(rg).toMatch(/^[0-9]+$/);
      if (g === null) g = rg;
      expect(rg).toBe(g);
      const chunk = r.payload.subarray(nul + 1);
      const last = offset + chunk.length - 1 === full.length;
      if (last) {
        // names + the end marker
        expect(chunk[chunk.length - 1]).toBe(0);
        expect(chunk.subarray(0, -1).equals(full.subarray(offset))).toBe(true);
        break;
      }
      // a middle chunk: whole names, exactly the bytes of the list at this offset …
      expect(chunk.length).toBeGreaterThan(0);
      expect(chunk[chunk.length - 1]).toBe(0);
      expect(chunk.equals(full.subarray(offset, offset + chunk.length))).toBe(true);
      // … and as many as fit in 4096 − len("<gen>\0") − 1 bytes
      const room = PAYLOAD_MAX - (nul + 1) - 1;
      expect(chunk.length).toBeLessThanOrEqual(room);
      const next = full.indexOf(0, offset + chunk.length) + 1 - (offset + chunk.length);
      expect(chunk.length + next).toBeGreaterThan(room);
      offset += chunk.length;
    }
    // an offset at or past the end: "<gen>\0\0"
    for (const off of [full.length, full.length + 1, 1_000_000]) {
      const r = await c.rq(Op.DIRECTORY_PART, [p, String(off)]);
      expect(r.payload.toString('latin1')).toBe(`${g}\0\0`);
    }
  });

  it('libxenstore\'s walk restarts when the generation changes between chunks', async () => {
    const c = s.c;
    const p = fresh('bigr');
    await mkdirs(
      c,
      names.map((n) => `${p}/${n}`),
    );
    const first = await c.rq(Op.DIRECTORY_PART, [p, '0']);
    const g1 = strs(first)[0];
    const chunkLen = first.len - g1.length - 1;
    await c.mkdir(`${p}/added-meanwhile`);
    const second = await c.rq(Op.DIRECTORY_PART, [p, String(chunkLen)]);
    expect(strs(second)[0]).not.toBe(g1);
    const walk = await directoryPartWalk(c, p);
    expect(new Set(walk.names)).toEqual(new Set([...names, 'added-meanwhile']));
  });
});

describe('DIRECTORY_PART', () => {
  it('of a small node: "<gen>\\0" + names + end marker, in one reply; of a leaf: "<gen>\\0\\0"', async () => {
    const c = s.c;
    const p = fresh('dp');
    for (const n of ['m', 'k', 'z']) await c.write(`${p}/${n}`, '');
    const r = await c.rq(Op.DIRECTORY_PART, [p, '0']);
    const t = r.payload.toString('latin1');
    const g = t.slice(0, t.indexOf('\0'));
    expect(g).toMatch(/^[0-9]+$/);
    expect(t).toBe(`${g}\0${listed(['m', 'k', 'z']).join('\0')}\0\0`);
    const leaf = await c.rq(Op.DIRECTORY_PART, [`${p}/m`, '0']);
    expect(leaf.payload.toString('latin1')).toMatch(/^[0-9]+\0\0$/);
    const walk = await directoryPartWalk(c, `${p}/m`);
    expect(walk.names).toEqual([]);
  });

  it('needs exactly two strings (EINVAL otherwise); a missing node gives ENOENT', async () => {
    const c = s.c;
    const p = fresh('dpe');
    await c.write(`${p}/x`, '');
    await c.expectError('EINVAL', Op.DIRECTORY_PART, [p]);
    await c.expectError('EINVAL', Op.DIRECTORY_PART, [p, '0', '1']);
    await c.expectError('EINVAL', Op.DIRECTORY_PART, Buffer.from(`${p}\0`));
    await c.expectError('ENOENT', Op.DIRECTORY_PART, [`${p}/none`, '0']);
  });
});

describe('generation counts (checklist 24)', () => {
  it('change when the node or its child list is modified and stay the same otherwise', async () => {
    const c = s.c;
    const p = fresh('gen');
    await c.write(`${p}/child`, 'v');
    const g0 = await gen(c, p);
    // reads, listings, a rewrite of a child's value and MKDIR of an existing node change nothing
    await c.read(p);
    await c.dir(p);
    await c.getPerms(p);
    await c.write(`${p}/child`, 'v2');
    await c.mkdir(p);
    await c.mkdir(`${p}/child`);
    await c.rm(`${p}/no-such-child`);
    expect(await gen(c, p)).toBe(g0);
    // a new child
    await c.write(`${p}/second`, '');
    const g1 = await gen(c, p);
    expect(g1).not.toBe(g0);
    // the node's own value
    await c.write(p, 'value');
    const g2 = await gen(c, p);
    expect(new Set([g0, g1, g2]).size).toBe(3);
    // its perms
    await c.setPerms(p, ['n0', 'r3']);
    const g3 = await gen(c, p);
    expect(new Set([g0, g1, g2, g3]).size).toBe(4);
    // removing a child
    await c.rm(`${p}/second`);
    const g4 = await gen(c, p);
    expect(new Set([g0, g1, g2, g3, g4]).size).toBe(5);
    expect(await gen(c, p)).toBe(g4);
    // gen is also the one DIRECTORY_PART at offset 0 reports
    expect(strs(await c.rq(Op.DIRECTORY_PART, [p, '0']))[0]).toBe(g4);
    expect(errorOf(await c.rq(Op.READ, [`${p}/second`]))).toBe('ENOENT');
  });
});
