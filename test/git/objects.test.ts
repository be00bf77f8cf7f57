import { describe, expect, it } from 'vitest';
import { EMPTY_BLOB_ID, latin1BlobId } from '../../src/git/objects/blob.js';
import { encodeCommit, parseCommit, parseSignature } from '../../src/git/objects/commit.js';
import { encodeTree, isSortedTree, parseTree, sortTreeEntries, type TreeEntry } from '../../src/git/objects/tree.js';
import { compareTreeEntries, dirPairOutOfOrder } from '../../src/git/utils/compareTreeEntries.js';
import { hashObject } from '../../src/git/utils/hashObject.js';
import { rng } from './helpers.js';
import { isogit, oracle, oracleBlob } from './oracle.js';

describe('blob ids', () => {
  it('match git for well-known contents', () => {
    expect(latin1BlobId('')).toBe(EMPTY_BLOB_ID);
    expect(hashObject('blob', Buffer.alloc(0))).toBe('e69de29bb2d1d6434b8b29ae775ad8c2e48c5391');
    // `echo hello | git hash-object --stdin`
    expect(latin1BlobId('hello\n')).toBe('ce013625030ba8dba906f756967f9e9ca394464a');
  });

  it('match isomorphic-git for binary values (NULs, high bytes)', async () => {
    const o = await oracle();
    const rand = rng(7);
    for (let i = 0; i < 50; i++) {
      let s = '';
      const n = Math.floor(rand() * 40);
      for (let k = 0; k < n; k++) s += String.fromCharCode(Math.floor(rand() * 256));
      if (i === 0) s = '\0\0\xff\x80a\0';
      expect(latin1BlobId(s)).toBe(await oracleBlob(o, Buffer.from(s, 'latin1')));
    }
  });
});

describe("git's tree order", () => {
  it('compares directories as if their names ended in /', () => {
    expect(compareTreeEntries('a-b', true, 'a', true)).toBeLessThan(0); // 'a-b/' < 'a/'
    expect(compareTreeEntries('a', true, 'a0', true)).toBeLessThan(0); // 'a/' < 'a0/'
    expect(compareTreeEntries('a', false, 'a-b', true)).toBeLessThan(0); // blob 'a' < 'a-b/'
    expect(compareTreeEntries('-x', true, '.perms', false)).toBeLessThan(0);
    expect(compareTreeEntries('.perms', false, '.value', false)).toBeLessThan(0);
    expect(compareTreeEntries('.value', false, '0', true)).toBeLessThan(0);
    expect(compareTreeEntries('a', true, 'a', true)).toBe(0);
    expect(dirPairOutOfOrder('a', 'a-b')).toBe(true);
    expect(dirPairOutOfOrder('a', 'a0')).toBe(false);
    expect(dirPairOutOfOrder('a', 'b-')).toBe(false);
  });

  it('sorts a tricky set exactly as git ls-tree prints it', () => {
    const id = 'e69de29bb2d1d6434b8b29ae775ad8c2e48c5391';
    const names: [string, boolean][] = [
      ['a', true], ['a-b', true], ['a0', true], ['-x', true], ['.perms', false], ['.value', false],
      ['a_', true], ['a@', true], ['a.b', false], ['b', false], ['b-', true],
    ];
    const sorted = sortTreeEntries(names.map(([name, t]) => ({ mode: t ? '40000' : '100644', name, id })));
    expect(sorted.map((e) => e.name)).toEqual(['-x', '.perms', '.value', 'a-b', 'a.b', 'a', 'a0', 'a@', 'a_', 'b', 'b-']);
    expect(isSortedTree(sorted)).toBe(true);
  });
});

function randomEntries(rand: () => number, blobIds: string[]): TreeEntry[] {
  const chars = 'ab-_@0.9Z';
  const used = new Set<string>();
  const out: TreeEntry[] = [];
  const n = 1 + Math.floor(rand() * 12);
  for (let i = 0; i < n; i++) {
    let name = '';
    const len = 1 + Math.floor(rand() * 4);
    for (let k = 0; k < len; k++) name += chars[Math.floor(rand() * chars.length)];
    if (used.has(name) || name === '.' || name === '..') continue;
    used.add(name);
    const tree = rand() < 0.5;
    out.push({ mode: tree ? '40000' : '100644', name, id: blobIds[Math.floor(rand() * blobIds.length)] });
  }
  return out;
}

describe('trees', () => {
  it('encode to the same ids as isomorphic-git (random names with - _ @ . digits)', async () => {
    const o = await oracle();
    const blobIds = [await oracleBlob(o, Buffer.from('x')), await oracleBlob(o, Buffer.from(''))];
    const rand = rng(42);
    for (let i = 0; i < 100; i++) {
      const entries = randomEntries(rand, blobIds);
      const ours = hashObject('tree', encodeTree(entries));
      const theirs = await isogit.writeTree({
        fs: o.fs,
        gitdir: o.dir,
        tree: entries.map((e) => ({
          mode: e.mode === '40000' ? '040000' : e.mode,
          path: e.name,
          oid: e.id,
          type: e.mode === '40000' ? ('tree' as const) : ('blob' as const),
        })),
      });
      expect(ours).toBe(theirs);
    }
  });

  it('parse back what they encode', () => {
    const entries: TreeEntry[] = [
      { mode: '100644', name: '.value', id: 'e69de29bb2d1d6434b8b29ae775ad8c2e48c5391' },
      { mode: '40000', name: 'x-1', id: 'ce013625030ba8dba906f756967f9e9ca394464a' },
    ];
    expect(parseTree(encodeTree(entries))).toEqual(sortTreeEntries(entries));
    expect(() => parseTree(Buffer.from('100644 abc'))).toThrow();
  });
});

describe('commits', () => {
  it('encode to the same ids as isomorphic-git', async () => {
    const o = await oracle();
    const tree = await isogit.writeTree({ fs: o.fs, gitdir: o.dir, tree: [] });
    let parents: string[] = [];
    for (let i = 0; i < 20; i++) {
      const sig = { name: `dom${i}`, email: `dom${i}@xenstore`, time: 1700000000 + i, tz: '+0000' };
      const message = `write /local/domain/${i}/name\n\nXenstore-Domid: ${i}\n`;
      const body = encodeCommit({ tree, parents, author: sig, committer: sig, message });
      const theirs = await isogit.writeCommit({
        fs: o.fs,
        gitdir: o.dir,
        commit: {
          tree,
          parent: parents,
          message,
          author: { name: sig.name, email: sig.email, timestamp: sig.time, timezoneOffset: 0 },
          committer: { name: sig.name, email: sig.email, timestamp: sig.time, timezoneOffset: 0 },
        },
      });
      const ours = hashObject('commit', body);
      expect(ours).toBe(theirs);
      const parsed = parseCommit(body);
      expect(parsed).toEqual({ tree, parents, author: sig, committer: sig, message });
      parents = i % 5 === 4 ? [ours, parents[0] ?? ours] : [ours];
    }
  });

  it('parse signatures and reject garbage', () => {
    expect(parseSignature('A U Thor <a@b> 1234567890 -0130')).toEqual({ name: 'A U Thor', email: 'a@b', time: 1234567890, tz: '-0130' });
    expect(() => parseSignature('no email 12 +0000')).toThrow();
    expect(() => parseCommit(Buffer.from('parent x\n\nmsg'))).toThrow();
  });
});
