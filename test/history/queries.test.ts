/** The history through the socket: CONTROL `history …`, the xsgit subcommands, and the real
 *  xenstore-control. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../../src/client/index.js';
import { historyQuery } from '../../src/cli/history.js';
import { REPO_ROOT, startDaemon, TEST_PEER, type DaemonHandle } from '../helpers/daemon.js';

const run = promisify(execFile);
const onlyXsgit = TEST_PEER === 'xsgit' ? describe : describe.skip;

let d: DaemonHandle;
let c: Client;

async function history(...args: string[]): Promise<string> {
  return historyQuery(c, args);
}

async function xsgit(...args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [`${REPO_ROOT}/bin/xsgit.js`, ...args], { env: d.env });
  return stdout;
}

interface LogEntry {
  commit: string;
  parents: string[];
  summary: string;
  domid: number;
  tx: string | null;
}

async function log(...args: string[]): Promise<LogEntry[]> {
  return JSON.parse(await history('log', ...args, '--json')) as LogEntry[];
}

onlyXsgit('history', () => {
  beforeAll(async () => {
    d = await startDaemon();
    c = await Client.connect({ path: d.socket });
  });
  afterAll(async () => {
    await c?.close();
    await d?.stop();
  });

  it('makes one commit per write outside a transaction and one per transaction; reads make none', async () => {
    const before = (await log()).length;
    await c.write('/h/a', '1');
    await c.write('/h/b', '2');
    await c.read('/h/a');
    await c.directory('/h');
    await c.transaction(async (t) => {
      await t.write('/h/a', '3');
      await t.write('/h/c', '4');
      await t.rm('/h/b');
    });
    const after = await log();
    expect(after.length - before).toBe(3);
    expect(after[0].summary).toBe('transaction (dom0): 2 writes, 1 rm under /h');
    expect(after[0].tx).not.toBeNull();
    expect(after[1].summary).toBe('write /h/b');
    expect(after[0].parents).toEqual([after[1].commit]);
  });

  it('log PATH lists only the commits that touched PATH', async () => {
    await c.write('/lp/x', 'x1');
    await c.write('/lp/y', 'y1');
    await c.write('/lp/x', 'x2');
    await c.write('/lp/x', 'x2'); // the same bytes again: the tree does not change
    const xs = await log('/lp/x');
    expect(xs.map((e) => e.summary)).toEqual(['write /lp/x', 'write /lp/x']);
    expect((await log('/lp', '-n', '1')).length).toBe(1);
  });

  it('cat reads a path as it was; diff and show tell what changed', async () => {
    await c.write('/cat/k', 'old');
    const [{ commit: id }] = await log('-n', '1');
    await c.write('/cat/k', 'new');
    expect(await history('cat', id, '/cat/k')).toBe('old');
    expect(await history('cat', 'HEAD', '/cat/k')).toBe('new');
    expect(await history('cat', id.slice(0, 8), '/cat/k')).toBe('old');
    expect(await history('diff', id, 'HEAD')).toBe('~ /cat/k = "old" (n0) -> "new" (n0)\n');
    const show = await history('show', 'HEAD');
    expect(show).toContain('write /cat/k');
    expect(show).toContain('~ /cat/k = "old" (n0) -> "new" (n0)');
    await expect(history('cat', id, '/cat/none')).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(history('show', 'ffffffffff')).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('two transactions on disjoint subtrees both commit, the later as a merge commit', async () => {
    const c2 = await Client.connect({ path: d.socket });
    const t1 = await c.transactionStart();
    const t2 = await c2.transactionStart();
    await c.write('/m/left', 'l', t1);
    await c2.write('/m2/right', 'r', t2);
    await c.transactionEnd(t1);
    await c2.transactionEnd(t2);
    await c2.close();
    const [merge] = await log('-n', '1');
    expect(merge.parents.length).toBe(2);
    expect(merge.summary).toMatch(/^merge transaction \d+-\d+ \(dom0\)$/);
    expect(await history('cat', 'HEAD', '/m/left')).toBe('l');
    expect(await history('cat', 'HEAD', '/m2/right')).toBe('r');
    // The branch's own commit holds only its change on top of where it started.
    await expect(history('cat', merge.parents[1], '/m/left')).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('branches lists open transactions', async () => {
    const t = await c.transactionStart();
    const rows = JSON.parse(await history('branches', '--json')) as { branch: string; domid: number }[];
    expect(rows.some((r) => r.branch.endsWith(`-${t}`) && r.domid === 0)).toBe(true);
    await c.transactionEnd(t, false);
    const after = JSON.parse(await history('branches', '--json')) as unknown[];
    expect(after.length).toBe(rows.length - 1);
  });

  it('revert-to rolls back as a new commit and fires the watches of what changed', async () => {
    await c.write('/rv/a', 'a1');
    const tag = await history('tag', 'before-rv');
    await c.write('/rv/a', 'a2');
    await c.write('/rv/b', 'b');
    const w = await c.watch('/rv', 'tok');
    expect((await w.nextEvent(2000)).path).toBe('/rv');
    const out = await history('revert-to', 'before-rv');
    expect(out).toMatch(/^[0-9a-f]{40}\n~ \/rv\/a = "a2" \(n0\) -> "a1" \(n0\)\n- \/rv\/b = "b" \(n0\)\n$/);
    expect((await c.read('/rv/a')).toString()).toBe('a1');
    await expect(c.read('/rv/b')).rejects.toMatchObject({ code: 'ENOENT' });
    const events = new Set([(await w.nextEvent(2000)).path, (await w.nextEvent(2000)).path]);
    expect(events).toEqual(new Set(['/rv/a', '/rv/b']));
    await w.unwatch();
    expect(await history('cat', tag, '/rv/a')).toBe('a1');
  });

  it('bisect finds the first commit where a path stopped having a value', async () => {
    await c.write('/bs/state', '4');
    await history('tag', 'bs-good');
    for (let i = 0; i < 9; i++) await c.write(`/bs/noise${i}`, String(i));
    await c.write('/bs/state', '6');
    const culprit = (await log('-n', '1'))[0].commit;
    for (let i = 0; i < 5; i++) await c.write(`/bs/later${i}`, String(i));
    const found = await history('bisect', 'bs-good', 'HEAD', '/bs/state', '4');
    expect(found.startsWith(culprit)).toBe(true);
    expect(await xsgit('bisect', '--good', 'bs-good', '--bad', 'HEAD', '--expect', '/bs/state=4')).toContain(culprit);
    const script = 'test "$(node bin/xsgit.js cat $XSGIT_BISECT_COMMIT /bs/state)" = 4';
    const { stdout } = await run(process.execPath, [`${REPO_ROOT}/bin/xsgit.js`, 'bisect', '--good', 'bs-good', '--bad', 'HEAD', '--run', script], { env: d.env, cwd: REPO_ROOT });
    expect(stdout).toMatch(new RegExp(`^first bad commit: ${culprit} \\S+ dom0 write /bs/state\n$`));
  });

  it('the real xenstore-control reaches the history commands', async () => {
    await c.write('/xc/k', 'v');
    const { stdout } = await run('/usr/lib/xen-4.17/bin/xenstore-control', ['history', 'log', '/xc/k'], { env: d.env });
    expect(stdout).toMatch(/^[0-9a-f]{40} \S+ dom0 write \/xc\/k\n/);
  });

  it('xsgit log, cat and stats find the daemon through XENSTORED_PATH', async () => {
    await c.write('/cli/k', 'v1');
    expect(await xsgit('cat', 'HEAD', '/cli/k')).toBe('v1');
    expect(await xsgit('log', '/cli/k', '-n', '1')).toMatch(/ dom0 write \/cli\/k\n$/);
    const stats = JSON.parse(await xsgit('stats', '--json')) as { commits: number; retained: number };
    expect(stats.commits).toBeGreaterThan(10);
    expect(stats.retained).toBeGreaterThan(10);
  });

  it('long answers come in pages that the CLI follows', async () => {
    for (let i = 0; i < 80; i++) await c.write(`/pg/k${i}`, 'x');
    const first = await c.control('history', 'log');
    expect(first).toMatch(/ more bytes: ask again with --offset \d+\n$/);
    const all = await xsgit('log');
    expect(all.split('\n').filter((l) => l.length > 0).length).toBe((await log()).length);
  });
});
