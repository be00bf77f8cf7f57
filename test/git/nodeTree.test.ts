import { describe, expect, it } from 'vitest';
import { encodeNodeTree, permsBlob, treeIdOf } from '../../src/history/nodeTree.js';
import { parseTree } from '../../src/git/objects/tree.js';
import { hashObject } from '../../src/git/utils/hashObject.js';
import { Node } from '../../src/store/node.js';
import { EMPTY, leaf, randomTree, readPath, rng, writePath } from './helpers.js';
import { oracle, oracleTreeId } from './oracle.js';

describe('node trees', () => {
  it('lay a node out as .value, .perms and child directories', () => {
    const n = new Node('v\0x', 'n0\0r5\0', EMPTY.set('b', leaf('1')).set('-a', leaf('2')), 0);
    treeIdOf(n);
    const entries = parseTree(encodeNodeTree(n).body);
    expect(entries.map((e) => `${e.mode} ${e.name}`)).toEqual(['40000 -a', '100644 .perms', '100644 .value', '40000 b']);
    expect(permsBlob('n0\0r5\0').body.toString('latin1')).toBe('n0\nr5\n');
    expect(entries[2].id).toBe(hashObject('blob', Buffer.from('v\0x', 'latin1')));
  });

  it('have the same ids as isomorphic-git for random trees (binary values, tricky names)', async () => {
    const o = await oracle();
    for (let seed = 1; seed <= 8; seed++) {
      const root = randomTree(rng(seed), 3, 4);
      expect(treeIdOf(root)).toBe(await oracleTreeId(o, root));
    }
  });

  it('orders prefix names the git way (a-b before a)', async () => {
    const o = await oracle();
    let kids = EMPTY;
    for (const name of ['a', 'a-b', 'a-', 'a0', '-', '-x', 'a@', 'a_', 'Z', 'b-c-d', 'b-c', 'b']) kids = kids.set(name, leaf(name));
    const root = new Node('', 'n0\0', kids, 0);
    expect(treeIdOf(root)).toBe(await oracleTreeId(o, root));
  });

  it('memoizes: an unchanged subtree is never hashed again', () => {
    let root = leaf('');
    for (let i = 0; i < 20; i++) root = writePath(root, `/local/domain/${i}/name`, `vm${i}`);
    treeIdOf(root);
    const dom7 = readPath(root, '/local/domain/7') as Node;
    // Plant a wrong id on an unchanged subtree: if treeIdOf hashed it again the true id would
    // replace it; it must be used as is.
    const fake = 'f'.repeat(40);
    dom7.treeId = fake;
    const next = writePath(root, '/local/domain/3/name', 'changed');
    expect(readPath(next, '/local/domain/7')).toBe(dom7);
    treeIdOf(next);
    const domain = readPath(next, '/local/domain') as Node;
    const entry = parseTree(encodeNodeTree(domain).body).find((e) => e.name === '7');
    expect(entry?.id).toBe(fake);
    // The old version kept its id; the new root got a new one.
    expect(next.treeId).not.toBe(root.treeId);
  });

  it('handles 20,000 levels: no recursion tied to depth (export.test checks 1,500 with git)', () => {
    let node = leaf('bottom');
    for (let i = 0; i < 20000; i++) node = new Node(i % 2 ? '' : `l${i}`, 'n0\0', EMPTY.set(`d${i % 7}`, node), 0);
    expect(treeIdOf(node)).toMatch(/^[0-9a-f]{40}$/);
  });

  it('gives a 120-level tree the id isomorphic-git gives it', async () => {
    let node = leaf('bottom\0');
    for (let i = 0; i < 120; i++) node = new Node(`l${i}`, 'n0\0', EMPTY.set(`d-${i % 3}`, node).set('z', leaf('')), 0);
    expect(treeIdOf(node)).toBe(await oracleTreeId(await oracle(), node));
  });

  it('shares one id for equal subtrees built separately', () => {
    const a = writePath(leaf(''), '/x/y', '1');
    const b = writePath(leaf(''), '/x/y', '1');
    expect(a).not.toBe(b);
    expect(treeIdOf(a)).toBe(treeIdOf(b));
    expect(treeIdOf(writePath(a, '/x/y', '2'))).not.toBe(treeIdOf(a));
    expect(treeIdOf(writePath(a, '/x/y', '1', 'r0\0'))).not.toBe(treeIdOf(a));
  });

  it('encodes large directories from cached leaf chunks with the ids isomorphic-git gives', async () => {
    const o = await oracle();
    // 1,000 children, with prefix pairs (a vs a-b: git puts a-b first) in some versions.
    let dir = new Node('', 'n0\0', EMPTY, 1);
    for (let i = 0; i < 1000; i++) dir = dir.withChild(`d${i}`, leaf(`v${i}`));
    const plain = dir;
    expect(treeIdOf(plain)).toBe(await oracleTreeId(o, plain));
    // One child changed: the new version reuses all other leaves' chunks.
    const changed = plain.withChild('d500', leaf('changed'));
    expect(treeIdOf(changed)).toBe(await oracleTreeId(o, changed));
    const prefixed = changed.withChild('d5-x', leaf('p')).withChild('d5', leaf('q'));
    expect(treeIdOf(prefixed)).toBe(await oracleTreeId(o, prefixed));
    const dashFirst = changed.withChild('-first', leaf('dash'));
    expect(treeIdOf(dashFirst)).toBe(await oracleTreeId(o, dashFirst));
  });
});
