/**
 * The commit rule of txn/merge.ts as its docstring states it: one test row per row of its
 * table (base → head, what the transaction did, verdict).
 */

import { describe, expect, it } from 'vitest';
import { Node, NO_CHILDREN } from '../../src/store/node.js';
import { LISTED, READ_PERMS, READ_VALUE } from '../../src/store/view.js';
import { verdict, type Verdict } from '../../src/txn/merge.js';

let gen = 0;
const node = (value: string, perms = 'n0\0', kids: string[] = []): Node => {
  let children = NO_CHILDREN;
  for (const k of kids) children = children.set(k, new Node('', 'n0\0', NO_CHILDREN, ++gen));
  return new Node(value, perms, children, ++gen);
};

const base = node('v', 'n0\0', ['a']);
const sameBase = base;
const valueMoved = node('w', 'n0\0', ['a']);
const permsMoved = node('v', 'n0\0r5\0', ['a']);
const kidsMoved = node('v', 'n0\0', ['a', 'b']);
const deeper = node('v', 'n0\0', ['a']); // equal value, perms and names; another object
const created = node('new');

/** [case, base, head, mine, reads, wrote, verdict] */
const ROWS: [string, Node | null, Node | null, Node | null, number, boolean, Verdict][] = [
  ['1: head unchanged, whatever the transaction did', base, sameBase, null, READ_VALUE | LISTED, true, 'merge'],
  ['2: absent → present, created identically', null, created, node('new'), 0, true, 'merge'],
  ['3: absent → present, created differently', null, created, node('other'), 0, true, 'conflict'],
  ['3: absent → present, the transaction saw it missing', null, created, null, 0, false, 'conflict'],
  ['4: present → absent, removed too, read nothing of it', base, null, null, 0, true, 'merge'],
  ['5: present → absent, read its value', base, null, null, READ_VALUE, false, 'conflict'],
  ['5: present → absent, removed it but had listed it', base, null, null, LISTED, true, 'conflict'],
  ['6: value changed, read the value', base, valueMoved, base, READ_VALUE, false, 'conflict'],
  ['6: value changed, wrote the node', base, valueMoved, node('x'), 0, true, 'conflict'],
  ['7: perms changed, read the perms', base, permsMoved, base, READ_PERMS, false, 'conflict'],
  ['7: perms changed, wrote the node', base, permsMoved, node('x'), 0, true, 'conflict'],
  ['8: child list changed, listed it', base, kidsMoved, base, LISTED, false, 'conflict'],
  ['9: child list changed, not listed (wrote the value)', base, kidsMoved, node('x', 'n0\0', ['a']), READ_VALUE, true, 'merge'],
  ['10: a deeper change only', base, deeper, base, READ_VALUE | READ_PERMS | LISTED, false, 'merge'],
];

describe('merge.ts verdict(), row by row', () => {
  it.each(ROWS)('case %s', (_name, b, h, m, reads, wrote, want) => {
    expect(verdict(b, h, m, reads, wrote)).toBe(want);
  });
});
