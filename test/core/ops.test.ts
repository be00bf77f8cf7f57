/**
 * The data operations in-process, over both views (issue 9): every case runs once on the live
 * head (HeadView) and once on a transaction's branch (TxView) and must answer the same and
 * leave the same state, as the View interface promises (store/ops.ts).
 */

import { describe, expect, it } from 'vitest';
import { DOM0 } from '../../src/domain/cleanup.js';
import { Domains } from '../../src/domain/domains.js';
import { Store } from '../../src/history/store.js';
import type { Caller } from '../../src/store/caller.js';
import type { Change } from '../../src/store/change.js';
import * as ops from '../../src/store/ops.js';
import { PERM_READ } from '../../src/store/perms.js';
import type { View } from '../../src/store/view.js';
import { READ_VALUE } from '../../src/store/view.js';
import { Transaction } from '../../src/txn/transaction.js';

const guest = (domid: number): Caller => ({ domid, privileged: false, target: -1, home: `/local/domain/${domid}` });
const G5 = guest(5);
const G6 = guest(6);

type Step = [Caller, 'write' | 'mkdir' | 'rm' | 'set_perms', string, string?];

interface Case {
  name: string;
  /** Made by dom0 on the live store before the case runs. */
  setup: Step[];
  /** Quotas of the daemon-wide table. */
  quota?: Partial<Record<'nodes' | 'node-size', number>>;
  steps: Step[];
  /** Each step's answer: null (OK) or the error. */
  expect: (string | null)[];
  /** Reads after the steps, as dom0: path → value, or null for a missing node. */
  after: Record<string, string | null>;
  /** Perms after the steps, as dom0: path → NUL-terminated list. */
  perms?: Record<string, string>;
}

const HOME5: Step[] = [
  [DOM0, 'write', '/local/domain/5', ''],
  [DOM0, 'set_perms', '/local/domain/5', 'n5\0'],
];

const CASES: Case[] = [
  {
    name: 'write creates the missing ancestors with the parent’s perms',
    setup: [],
    steps: [[DOM0, 'write', '/a/b/c', 'v']],
    expect: [null],
    after: { '/a': '', '/a/b': '', '/a/b/c': 'v' },
    perms: { '/a/b/c': 'n0\0' },
  },
  {
    name: 'a guest’s write under its home: owned by the guest',
    setup: HOME5,
    steps: [[G5, 'write', '/local/domain/5/x/y', '1']],
    expect: [null],
    after: { '/local/domain/5/x/y': '1' },
    perms: { '/local/domain/5/x': 'n5\0', '/local/domain/5/x/y': 'n5\0' },
  },
  {
    name: 'a guest may not write where it has no write permission, and learns nothing of what is missing',
    setup: [...HOME5, [DOM0, 'write', '/secret/k', 's']],
    steps: [
      [G6, 'write', '/local/domain/5/x', '1'],
      [G6, 'write', '/secret/k', '2'],
      [G6, 'rm', '/secret/missing/deeper'],
    ],
    expect: ['EACCES', 'EACCES', 'EACCES'],
    after: { '/local/domain/5/x': null, '/secret/k': 's' },
  },
  {
    name: 'mkdir of an existing node changes nothing; rm of a missing node needs its parent',
    setup: [[DOM0, 'write', '/m/n', 'keep']],
    steps: [
      [DOM0, 'mkdir', '/m/n'],
      [DOM0, 'rm', '/m/absent'],
      [DOM0, 'rm', '/m/absent/child'],
    ],
    expect: [null, null, 'ENOENT'],
    after: { '/m/n': 'keep', '/m/absent': null },
  },
  {
    name: 'rm of / is EINVAL; rm takes the subtree',
    setup: [[DOM0, 'write', '/t/u/v', '1']],
    steps: [
      [DOM0, 'rm', '/'],
      [DOM0, 'rm', '/t/u'],
    ],
    expect: ['EINVAL', null],
    after: { '/t': '', '/t/u': null, '/t/u/v': null },
  },
  {
    name: 'set_perms: only the owner, and it may not give the node away (EPERM)',
    setup: [...HOME5, [G5, 'write', '/local/domain/5/p', '1']],
    steps: [
      [G6, 'set_perms', '/local/domain/5/p', 'n6\0'],
      [G5, 'set_perms', '/local/domain/5/p', 'n6\0'],
      [G5, 'set_perms', '/local/domain/5/p', 'n5\0r6\0'],
    ],
    expect: ['EACCES', 'EPERM', null],
    after: { '/local/domain/5/p': '1' },
    perms: { '/local/domain/5/p': 'n5\0r6\0' },
  },
  {
    name: 'the node quota counts the missing ancestors a write creates (the home counts: 1 of 3)',
    setup: HOME5,
    quota: { nodes: 3 },
    steps: [
      [G5, 'write', '/local/domain/5/a/b/c', '1'],
      [G5, 'write', '/local/domain/5/a/b', '1'],
      [G5, 'write', '/local/domain/5/z', '1'],
    ],
    expect: ['ENOSPC', null, 'ENOSPC'],
    after: { '/local/domain/5/a/b': '1', '/local/domain/5/z': null },
  },
  {
    name: 'the node-size quota bounds value plus perms',
    setup: HOME5,
    quota: { 'node-size': 40 },
    steps: [
      [G5, 'write', '/local/domain/5/s', 'x'.repeat(10)],
      [G5, 'write', '/local/domain/5/s', 'x'.repeat(30)],
    ],
    expect: [null, 'ENOSPC'],
    after: { '/local/domain/5/s': 'x'.repeat(10) },
  },
];

function run(dom: Domains, view: View, steps: Step[], log: Change[]): (string | null)[] {
  return steps.map(([who, op, path, arg]) => ops.apply(view, dom, who, null, log, { op, path, arg }));
}

function prepare(c: Case): { store: Store; dom: Domains } {
  const store = new Store({ retention: 'off' });
  const dom = new Domains();
  for (const [k, v] of Object.entries(c.quota ?? {})) dom.quota.set(k as 'nodes', v);
  dom.introduce(5);
  dom.introduce(6);
  const head = store.begin();
  const log: Change[] = [];
  expect(run(dom, head, c.setup, log)).toEqual(c.setup.map(() => null));
  store.publish(head, 0, log, null);
  return { store, dom };
}

function check(c: Case, view: View, dom: Domains): void {
  for (const [path, value] of Object.entries(c.after)) {
    const n = ops.access(view, dom, DOM0, path, READ_VALUE, PERM_READ);
    expect(typeof n === 'string' ? null : n.value, path).toBe(value);
  }
  for (const [path, perms] of Object.entries(c.perms ?? {})) {
    const n = view.node(path, 0);
    expect(n?.perms, path).toBe(perms);
  }
}

describe.each([
  ['the live head (HeadView)', 'head'],
  ['a transaction’s branch (TxView)', 'tx'],
] as const)('data operations on %s', (_name, kind) => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s', (_n, c) => {
    const { store, dom } = prepare(c);
    const log: Change[] = [];
    if (kind === 'head') {
      const head = store.begin();
      expect(run(dom, head, c.steps, log)).toEqual(c.expect);
      check(c, head, dom);
    } else {
      const tx = new Transaction(1, 1, store);
      expect(run(dom, tx.view, c.steps, log)).toEqual(c.expect);
      check(c, tx.view, dom);
    }
  });
});
