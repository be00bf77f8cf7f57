/**
 * pyxs (python3-pyxs, a second, independent client) against the daemon. pyxs matches
 * replies by rq_id, so these scripts start their ids far from zero.
 */

import { describe, expect, it } from 'vitest';
import { AGAINST_C, sharedClient } from '../helpers/daemon.js';
import { PYTHON, runPython, spawnTool } from '../helpers/tools.js';

const t = sharedClient();

/** Common prelude: a watchdog, large request ids, JSON output of `result`. */
const PRELUDE = `
import errno, json, signal, sys, threading
import pyxs, pyxs._internal
from pyxs import Client, PyXSError

def _timeout(signum, frame):
    raise SystemExit("pyxs script timed out (a reply or event never came)")
signal.signal(signal.SIGALRM, _timeout)
signal.alarm(12)

# pyxs matches replies by rq_id: start high, so a daemon that does not echo them fails.
pyxs._internal._rq_id = 0xfffe0000

def s(b):
    return b.decode() if isinstance(b, bytes) else b

def emit(obj):
    sys.stdout.write(json.dumps(obj))
`;

async function py<T>(body: string): Promise<T> {
  const r = await runPython(t.daemon.env, PRELUDE + body, [], { timeoutMs: 20_000 });
  if (r.code !== 0) throw new Error(`python exited ${r.code ?? r.signal}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

describe('pyxs', () => {
  it('reads, writes, lists, checks and removes', async () => {
    const value = 'printable ascii: !"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~ ' + 'x'.repeat(3000);
    const out = await py<Record<string, unknown>>(`
with Client() as c:
    c.write(b"/py/basic/a", b"alpha")
    c.write(b"/py/basic/b", ${JSON.stringify(value)}.encode())
    c.mkdir(b"/py/basic/c/d")
    res = {
        "a": s(c.read(b"/py/basic/a")),
        "b": s(c.read(b"/py/basic/b")),
        "c": s(c.read(b"/py/basic/c")),
        "list": [s(x) for x in c.list(b"/py/basic")],
        "exists": c.exists(b"/py/basic/c/d"),
        "missing_exists": c.exists(b"/py/basic/zzz"),
        "default": s(c.read(b"/py/basic/zzz", b"dflt")),
        "domain_path": s(c.get_domain_path(5)),
    }
    c.delete(b"/py/basic/c")
    res["after_delete"] = [s(x) for x in c.list(b"/py/basic")]
    try:
        c.read(b"/py/basic/c/d")
    except PyXSError as e:
        res["read_missing"] = errno.errorcode.get(e.args[0])
    try:
        c.delete(b"/py/nothere/child")
    except PyXSError as e:
        res["rm_no_parent"] = errno.errorcode.get(e.args[0])
    res["walk"] = [[s(p), s(v), [s(x) for x in ch]] for p, v, ch in c.walk(b"/py/basic")]
    emit(res)
`);
    expect(out).toEqual({
      a: 'alpha',
      b: value,
      c: '',
      list: ['a', 'b', 'c'],
      exists: true,
      missing_exists: false,
      default: 'dflt',
      domain_path: '/local/domain/5',
      after_delete: ['a', 'b'],
      read_missing: 'ENOENT',
      rm_no_parent: 'ENOENT',
      walk: [
        ['/py/basic', '', ['a', 'b']],
        ['/py/basic/a', 'alpha', []],
        ['/py/basic/b', value, []],
      ],
    });
    // and our own client agrees
    expect(await t.c.readString('/py/basic/b')).toBe(value);
    expect(await t.c.exists('/py/basic/c')).toBe(false);
  });

  it('gets and sets permissions', async () => {
    const out = await py<string[][]>(`
with Client() as c:
    c.write(b"/py/perms", b"v")
    before = c.get_perms(b"/py/perms")
    c.set_perms(b"/py/perms", [b"r0", b"w3", b"b4"])
    emit([[s(p) for p in before], [s(p) for p in c.get_perms(b"/py/perms")]])
`);
    expect(out).toEqual([['n0'], ['r0', 'w3', 'b4']]);
    expect(await t.c.getPerms('/py/perms')).toEqual(['r0', 'w3', 'b4']);
  });

  it('commits a transaction; others see nothing before', async () => {
    const out = await py<Record<string, unknown>>(`
a, b = Client(), Client()
a.connect(); b.connect()
a.write(b"/py/tx/x", b"a")
a.transaction()
a.write(b"/py/tx/x", b"b")
a.write(b"/py/tx/new", b"n")
res = {"inside": s(a.read(b"/py/tx/x")), "outside": s(b.read(b"/py/tx/x")), "outside_new": b.exists(b"/py/tx/new")}
res["commit"] = a.commit()
res["after"] = s(b.read(b"/py/tx/x"))
res["after_new"] = s(b.read(b"/py/tx/new"))
a.transaction()
a.write(b"/py/tx/x", b"rolled back")
a.rollback()
res["after_rollback"] = s(b.read(b"/py/tx/x"))
a.close(); b.close()
emit(res)
`);
    expect(out).toEqual({
      inside: 'b',
      outside: 'a',
      outside_new: false,
      commit: true,
      after: 'b',
      after_new: 'n',
      after_rollback: 'b',
    });
  });

  it('gets EAGAIN for a stale read, and succeeds on retry ("ta err")', async () => {
    const out = await py<Record<string, unknown>>(`
a, b = Client(), Client()
a.connect(); b.connect()
a.write(b"/py/conflict/x", b"a")
attempts = []
while True:
    a.transaction()
    v = a.read(b"/py/conflict/x")
    if not attempts:
        b.write(b"/py/conflict/x", b"b")
        # the transaction still sees its first read
        attempts.append(("stale", s(a.read(b"/py/conflict/x"))))
    a.write(b"/py/conflict/x", v + b"!")
    ok = a.commit()
    attempts.append(("commit", ok))
    if ok:
        break
res = {"attempts": attempts, "final": s(b.read(b"/py/conflict/x"))}
a.close(); b.close()
emit(res)
`);
    expect(out).toEqual({
      attempts: [
        ['stale', 'a'],
        ['commit', false],
        ['commit', true],
      ],
      final: 'b!',
    });
    expect(await t.c.readString('/py/conflict/x')).toBe('b!');
  });

  it('counts exactly with concurrent read-modify-write transactions and retries', async () => {
    const out = await py<{ value: string; retries: number; errors: string[] }>(`
N, K = 4, 25
setup = Client(); setup.connect(); setup.write(b"/py/counter", b"0"); setup.close()
retries = [0]
errors = []
lock = threading.Lock()
def worker():
    try:
        with Client() as c:
            for _ in range(K):
                while True:
                    c.transaction()
                    v = int(c.read(b"/py/counter"))
                    c.write(b"/py/counter", str(v + 1).encode())
                    if c.commit():
                        break
                    with lock:
                        retries[0] += 1
    except BaseException as e:
        errors.append(repr(e))
threads = [threading.Thread(target=worker) for _ in range(N)]
for t in threads: t.start()
for t in threads: t.join()
with Client() as c:
    emit({"value": s(c.read(b"/py/counter")), "retries": retries[0], "errors": errors})
`);
    expect(out.errors).toEqual([]);
    expect(out.value).toBe('100');
    expect(await t.c.readString('/py/counter')).toBe('100');
  });

  it('two transactions creating different children of one parent both commit (issue 2; C 4.17 refuses the second)', async () => {
    const out = await py<boolean[]>(`
a, b = Client(), Client()
a.connect(); b.connect()
a.mkdir(b"/py/siblings")
a.transaction(); b.transaction()
a.write(b"/py/siblings/one", b"1")
b.write(b"/py/siblings/two", b"2")
emit([a.commit(), b.commit()])
a.close(); b.close()
`);
    // Divergence: C's per-node generation check sees the parent rewritten and gives EAGAIN.
    expect(out).toEqual(AGAINST_C ? [true, false] : [true, true]);
    const children = await t.c.directory('/py/siblings');
    expect([...children].sort()).toEqual(AGAINST_C ? ['one'] : ['one', 'two']);
  });

  it('a transaction that wrote nothing commits (issue 2; C 4.17 answers EAGAIN)', async () => {
    const out = await py<boolean>(`
a, b = Client(), Client()
a.connect(); b.connect()
a.write(b"/py/ro/x", b"1")
a.transaction()
a.read(b"/py/ro/x")
b.write(b"/py/ro/x", b"2")
emit(a.commit())
a.close(); b.close()
`);
    expect(out).toBe(!AGAINST_C);
  });

  it('receives watch events: the initial one, then changes, via Monitor', async () => {
    const out = await py<string[][]>(`
with Client() as c, Client() as w:
    m = c.monitor()
    m.watch(b"/py/watch", b"tok")
    events = m.wait()
    got = [next(events)]
    w.write(b"/py/watchother", b"not below")
    w.write(b"/py/watch/a", b"1")
    w.transaction()
    w.write(b"/py/watch/b", b"2")
    w.commit()
    w.delete(b"/py/watch")
    for _ in range(3):
        got.append(next(events))
    m.unwatch(b"/py/watch", b"tok")
    emit([[s(p), s(t)] for p, t in got])
`);
    expect(out).toEqual([
      ['/py/watch', 'tok'],
      ['/py/watch/a', 'tok'],
      ['/py/watch/b', 'tok'],
      ['/py/watch', 'tok'],
    ]);
  });

  it('sees changes made by our client, and gets EEXIST for a duplicate watch', async () => {
    // The script prints a line once its watch is registered; we then write with our client.
    const script = `${PRELUDE}
with Client() as c:
    m = c.monitor()
    m.watch(b"/py/cross", b"t1")
    try:
        c.ack(pyxs._internal.Op.WATCH, b"/py/cross\\x00", b"t1\\x00")
        dup = "accepted"
    except PyXSError as e:
        dup = errno.errorcode.get(e.args[0])
    events = m.wait()
    first = next(events)
    print("ready", flush=True)
    second = next(events)
    emit({"dup": dup, "events": [[s(first[0]), s(first[1])], [s(second[0]), s(second[1])]]})
`;
    const p = spawnTool(t.daemon.env, PYTHON, ['-c', script], { timeoutMs: 20_000 });
    expect(await p.nextLine(15_000)).toBe('ready');
    await t.c.write('/py/cross/from-node', 'hi');
    const r = await p.result;
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.slice(r.stdout.indexOf('\n') + 1)) as unknown;
    expect(out).toEqual({
      dup: 'EEXIST',
      events: [
        ['/py/cross', 't1'],
        ['/py/cross/from-node', 't1'],
      ],
    });
  });
});
