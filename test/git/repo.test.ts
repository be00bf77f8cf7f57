import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { exportRepo } from '../../src/mirror/exporter.js';
import { importCommit } from '../../src/mirror/importer.js';
import { applyDelta } from '../../src/git/pack/delta.js';
import { packEntryHeader } from '../../src/git/pack/packWriter.js';
import { RepoObjects } from '../../src/git/repo/objectStore.js';
import { isValidRefName, resolveRef } from '../../src/git/repo/refs.js';
import { hashObject } from '../../src/git/utils/hashObject.js';
import { adler32, storedZlib } from '../../src/git/utils/storedZlib.js';
import { inflateSync } from 'node:zlib';
import { Commit } from '../../src/history/commit.js';
import { git, sameTree, tempDir, writePath } from './helpers.js';
import { syntheticHistory } from './history.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

describe('reading repositories', () => {
  it('reads every object of a repository git has repacked with deltas', async () => {
    const gitDir = join(tmp.path, 'gc.git');
    const h = syntheticHistory(200, 31);
    await exportRepo({ gitDir, head: h.head });
    git(gitDir, 'gc', '-q', '--aggressive', '--prune=now');
    git(gitDir, 'pack-refs', '--all');
    const idx = readdirSync(join(gitDir, 'objects/pack')).filter((n) => n.endsWith('.idx'));
    expect(idx.length).toBe(1);
    const stats = git(gitDir, 'verify-pack', '-v', join(gitDir, 'objects/pack', idx[0]));
    expect(stats).toMatch(/chain length = [1-9]/); // the repack did make deltas
    const ids = git(gitDir, 'cat-file', '--batch-all-objects', '--batch-check=%(objectname) %(objecttype)').trim().split('\n');
    expect(ids.length).toBeGreaterThan(500);
    const readAll = () => {
      const repo = new RepoObjects(gitDir);
      for (const line of ids) {
        const [id, type] = line.split(' ');
        expect(repo.has(id)).toBe(true);
        const o = repo.read(id);
        expect(o.type).toBe(type);
        expect(hashObject(o.type, o.body)).toBe(id);
      }
      expect(repo.has('0'.repeat(40))).toBe(false);
      repo.close();
    };
    readAll(); // OFS_DELTA chains
    git(gitDir, '-c', 'repack.useDeltaBaseOffset=false', 'repack', '-a', '-d', '-f', '-q');
    readAll(); // REF_DELTA chains
    // Refs now live in packed-refs only, and the store still imports.
    expect(resolveRef(gitDir, 'refs/heads/main')).toBe(h.head.id);
    const imp = await importCommit({ gitDir });
    expect(sameTree(imp.root, h.head.root)).toBe(true);
  });

  it('applies deltas and writes pack entry headers as git does', () => {
    const base = Buffer.from('hello world, hello xenstore');
    // copy 0..6, insert "there ", copy 6..end
    const delta = Buffer.from([base.length, 33, 0x90, 6, 6, ...Buffer.from('there '), 0x91, 6, base.length - 6]);
    expect(applyDelta(base, delta).toString()).toBe('hello there world, hello xenstore');
    expect(() => applyDelta(Buffer.from('x'), delta)).toThrow();
    expect([...packEntryHeader(3, 15)]).toEqual([0x3f]);
    expect([...packEntryHeader(1, 16)]).toEqual([0x90, 0x01]);
    expect([...packEntryHeader(2, 1000)]).toEqual([0xa8, 0x3e]);
  });

  it('writes stored zlib streams any inflater reads (empty, small, over 64 KiB)', () => {
    for (const n of [0, 1, 100, 65535, 65536, 200_000]) {
      const data = Buffer.alloc(n);
      for (let i = 0; i < n; i++) data[i] = (i * 7919) & 0xff;
      expect(inflateSync(storedZlib(data)).equals(data)).toBe(true);
    }
    expect(adler32(Buffer.from('Wikipedia'))).toBe(0x11e60398);
  });

  it('writes packs git accepts at every compression setting', async () => {
    const h = syntheticHistory(40, 37);
    for (const compression of [0, 1, 9, 'auto'] as const) {
      const gitDir = join(tmp.path, `c${compression}.git`);
      const res = await exportRepo({ gitDir, head: h.head, compression });
      expect(res.commits).toBe(40);
      git(gitDir, 'fsck', '--strict');
      expect(git(gitDir, 'rev-parse', 'HEAD').trim()).toBe(h.head.id);
    }
    // A large compressible value is deflated under 'auto', smaller than stored.
    const big = new Commit(writeValue(h.head, 'x'.repeat(4000)), [h.head], 0, 0, [], null);
    const a = await exportRepo({ gitDir: join(tmp.path, 'big-auto.git'), head: big, compression: 'auto' });
    const s = await exportRepo({ gitDir: join(tmp.path, 'big-stored.git'), head: big, compression: 0 });
    expect(s.bytes - a.bytes).toBeGreaterThan(3000);
  });

  it('checks ref names like git check-ref-format', () => {
    for (const ok of ['refs/heads/main', 'refs/heads/tx/3-7', 'refs/tags/v1.0', 'HEAD']) expect(isValidRefName(ok)).toBe(true);
    for (const bad of ['main', 'refs/heads/a..b', 'refs/heads/x.lock', 'refs/heads/.x', 'refs/heads/a b', 'refs/heads/a/', 'refs/heads/a~1', 'refs//x']) {
      expect(isValidRefName(bad)).toBe(false);
    }
  });
});

function writeValue(c: Commit, value: string) {
  return writePath(c.root, '/big', value);
}
