import { describe, expect, it } from 'vitest';
import { commitIdOf, encodeCommitOf, signatureOf } from '../../src/history/commitId.js';
import { BODY_MAX, commitMessage, commitSummary, parseCommitMessage } from '../../src/history/commitMessage.js';
import { commonAncestor } from '../../src/store/path.js';
import { externalCommit, externalParentIds, isExternal } from '../../src/mirror/external.js';
import { treeIdOf } from '../../src/history/nodeTree.js';
import { parseCommit } from '../../src/git/objects/commit.js';
import { hashObject } from '../../src/git/utils/hashObject.js';
import type { Change } from '../../src/store/change.js';
import { Commit } from '../../src/history/commit.js';
import { commit, leaf, writePath } from './helpers.js';
import { isogit, oracle } from './oracle.js';

const T0 = 1_700_000_000_000;

describe('commit messages', () => {
  const root = leaf('');
  const base = commit(root, [], 0, T0, []);

  it('summarise single operations', () => {
    expect(commitSummary(commit(root, [base], 3, T0, [{ op: 'write', path: '/local/domain/3/name' }]))).toBe('write /local/domain/3/name');
    expect(commitSummary(commit(root, [base], 0, T0, [{ op: 'rm', path: '/x' }]))).toBe('rm /x');
    expect(commitSummary(commit(root, [base], 0, T0, [{ op: 'set_perms', path: '/x' }]))).toBe('set_perms /x');
    expect(commitSummary(commit(root, [base], 0, T0, [{ op: 'mkdir', path: '/x/y' }]))).toBe('mkdir /x/y');
    expect(commitSummary(base)).toBe('create store');
    expect(commitSummary(commit(root, [base], 4, T0, []))).toBe('update (dom4)');
  });

  it('summarise transactions with counts and the common path prefix', () => {
    const changes: Change[] = [];
    for (let i = 0; i < 12; i++) changes.push({ op: 'write', path: `/local/domain/5/device/vif/${i}/state` });
    changes.push({ op: 'rm', path: '/local/domain/5/a' }, { op: 'rm', path: '/local/domain/5/b/c' });
    const c = commit(root, [base], 0, T0, changes, { conn: 3, txid: 7 });
    expect(commitSummary(c)).toBe('transaction (dom0): 12 writes, 2 rm under /local/domain/5');
    const msg = commitMessage(c);
    const lines = msg.split('\n');
    expect(lines[0]).toBe('transaction (dom0): 12 writes, 2 rm under /local/domain/5');
    expect(lines[1]).toBe('');
    expect(lines[2]).toBe('write /local/domain/5/device/vif/0/state');
    expect(msg.endsWith('\n\nXenstore-Domid: 0\nXenstore-Tx: 3-7\n')).toBe(true);
    const one = commit(root, [base], 1, T0, [{ op: 'write', path: '/a/b' }], { conn: 1, txid: 2 });
    expect(commitSummary(one)).toBe('transaction (dom1): 1 write under /a/b');
    expect(commitSummary(commit(root, [base], 1, T0, [], { conn: 1, txid: 2 }))).toBe('transaction (dom1): no changes');
  });

  it('name merges after the transaction', () => {
    const tx = commit(root, [base], 2, T0, [{ op: 'write', path: '/a' }], { conn: 4, txid: 9 });
    const merge = commit(root, [base, tx], 2, T0, [{ op: 'write', path: '/a' }], { conn: 4, txid: 9 });
    expect(commitSummary(merge)).toBe('merge transaction 4-9 (dom2)');
    expect(commitMessage(merge)).toBe('merge transaction 4-9 (dom2)\n\nwrite /a\n\nXenstore-Domid: 2\nXenstore-Tx: 4-9\n');
  });

  it('keep a single change on one line, without a body', () => {
    expect(commitMessage(commit(root, [base], 3, T0, [{ op: 'write', path: '/local/domain/3/name' }]))).toBe(
      'write /local/domain/3/name\n\nXenstore-Domid: 3\n',
    );
  });

  it('cap the body and escape odd bytes', () => {
    const changes: Change[] = [];
    for (let i = 0; i < 250; i++) changes.push({ op: i % 3 === 0 ? 'mkdir' : 'write', path: `/vm/${i}` });
    changes.push({ op: 'write', path: '/bad path\n\\x' });
    const c = commit(root, [base], 0, T0, changes, { conn: 1, txid: 1 });
    const msg = commitMessage(c);
    const body = msg.split('\n\n')[1].split('\n');
    expect(body.length).toBe(BODY_MAX + 1);
    expect(body[BODY_MAX]).toBe(`... and ${251 - BODY_MAX} more`);
    expect(commitSummary(c)).toBe('transaction (dom0): 167 writes, 84 mkdir under /');
    const odd = commitMessage(commit(root, [base], 0, T0, [{ op: 'write', path: '/bad path\n\\x' }]));
    expect(odd.split('\n')[0]).toBe('write /bad\\x20path\\x0a\\x5cx');
    expect(parseCommitMessage(odd).changes).toEqual([{ op: 'write', path: '/bad path\n\\x' }]);
  });

  it('compute the longest common prefix by whole path elements', () => {
    expect(commonAncestor(['/local/domain/5/a', '/local/domain/5/b'])).toBe('/local/domain/5');
    expect(commonAncestor(['/local/domain/5', '/local/domain/50'])).toBe('/local/domain');
    expect(commonAncestor(['/a/b'])).toBe('/a/b');
    expect(commonAncestor(['/a/b', '/a/b/c'])).toBe('/a/b');
    expect(commonAncestor(['/a', '/b'])).toBe('/');
    expect(commonAncestor([])).toBe('/');
  });

  it('parse back to the same changes, domain and transaction', () => {
    const changes: Change[] = [
      { op: 'write', path: '/a/b' },
      { op: 'set_perms', path: '/a' },
      { op: 'rm', path: '/c' },
    ];
    const p = parseCommitMessage(commitMessage(commit(root, [base], 9, T0, changes, { conn: 12, txid: 34 })));
    expect(p).toEqual({ summary: 'transaction (dom9): 1 write, 1 rm, 1 set_perms under /', changes, truncated: false, domid: 9, tx: { conn: 12, txid: 34 }, revert: null, by: null });
    const single = parseCommitMessage(commitMessage(commit(root, [base], 3, T0, [{ op: 'rm', path: '/x' }])));
    expect(single.changes).toEqual([{ op: 'rm', path: '/x' }]);
    expect(single.tx).toBeNull();
    expect(single.domid).toBe(3);
  });

  it('name the process behind a dom0 connection in trailers, and parse them back', () => {
    const by = { pid: 4242, uid: 0, comm: 'xl run' };
    const c = new Commit(root, [base], 0, T0, [{ op: 'write', path: '/a' }], null, by);
    const msg = commitMessage(c);
    expect(msg).toBe('write /a\n\nXenstore-Domid: 0\nXenstore-Pid: 4242\nXenstore-Uid: 0\nXenstore-Comm: xl\\x20run\n');
    expect(parseCommitMessage(msg).by).toEqual(by);
    expect(parseCommitMessage(commitMessage(new Commit(root, [base], 0, T0, [{ op: 'write', path: '/a' }], null, { pid: 7, uid: 1000, comm: '' }))).by).toEqual({ pid: 7, uid: 1000, comm: '' });
  });

  it('say what a revert-to restored, in the summary and a trailer, and parse it back', () => {
    const target = 'ab'.repeat(20);
    const c = commit(root, [base], 0, T0, [{ op: 'write', path: '/local/domain/5/name' }]);
    c.revertOf = { target, path: '/local/domain/5' };
    const msg = commitMessage(c);
    expect(msg).toBe(`revert /local/domain/5 to ${target.slice(0, 12)}\n\nwrite /local/domain/5/name\n\nXenstore-Revert-To: ${target}\nXenstore-Domid: 0\n`);
    const p = parseCommitMessage(msg);
    expect(p.revert).toEqual({ target, path: '/local/domain/5' });
    expect(p.changes).toEqual([{ op: 'write', path: '/local/domain/5/name' }]);
  });
});

describe('commit ids', () => {
  it('match isomorphic-git for a chain with merges', async () => {
    const o = await oracle();
    let root = leaf('');
    let head = commit(root, [], 0, T0, []);
    const all: Commit[] = [head];
    for (let i = 1; i < 15; i++) {
      root = writePath(root, `/local/domain/${i % 4}/name`, `n${i}`);
      const tx = { conn: i, txid: i * 2 };
      if (i % 5 === 0) {
        const branch = commit(root, [all[i - 3]], i % 4, T0 + i * 1000, [{ op: 'write', path: '/x' }], tx);
        head = commit(root, [head, branch], i % 4, T0 + i * 1000 + 999, [{ op: 'write', path: '/x' }], tx);
      } else {
        head = commit(root, [head], i % 4, T0 + i * 1000, [{ op: 'write', path: `/local/domain/${i % 4}/name` }]);
      }
      all.push(head);
    }
    for (const c of all) {
      const id = commitIdOf(c);
      const sig = signatureOf(c);
      expect(sig.time).toBe(Math.floor(c.time / 1000));
      const f = parseCommit(encodeCommitOf(c));
      const who = { name: sig.name, email: sig.email, timestamp: sig.time, timezoneOffset: 0 };
      const theirs = await isogit.writeCommit({
        fs: o.fs,
        gitdir: o.dir,
        commit: { tree: treeIdOf(c.root), parent: c.parents.map((p) => p.id as string), message: f.message, author: who, committer: who },
      });
      expect(id).toBe(theirs);
      expect(f.author).toEqual({ name: `dom${c.domid}`, email: `dom${c.domid}@xenstore`, time: sig.time, tz: '+0000' });
    }
  });

  it('are iterative and memoized: a chain of 1,000,000 commits', () => {
    const root = leaf('x');
    let head = commit(root, [], 0, T0, []);
    for (let i = 0; i < 1_000_000; i++) head = new Commit(root, [head], 0, T0 + i, [{ op: 'write', path: '/x' }], null);
    const id = commitIdOf(head);
    expect(id).toMatch(/^[0-9a-f]{40}$/);
    expect(head.parents[0].id).toMatch(/^[0-9a-f]{40}$/);
    expect(commitIdOf(head)).toBe(id);
    expect(hashObject('commit', encodeCommitOf(head))).toBe(id);
  }, 60_000);

  it('let a new commit continue an external (imported) commit by id', () => {
    const root = leaf('');
    const ext = externalCommit({ id: 'a'.repeat(40), root, parentIds: ['b'.repeat(40)], domid: 0, time: T0, changes: [], tx: null });
    expect(isExternal(ext)).toBe(true);
    expect(externalParentIds(ext)).toEqual(['b'.repeat(40)]);
    expect(commitIdOf(ext)).toBe('a'.repeat(40));
    const next = commit(writePath(root, '/a', '1'), [ext], 0, T0 + 1000, [{ op: 'write', path: '/a' }]);
    commitIdOf(next);
    expect(parseCommit(encodeCommitOf(next)).parents).toEqual(['a'.repeat(40)]);
    expect(isExternal(next)).toBe(false);
  });
});
