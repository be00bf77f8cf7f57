/**
 * The live mirror (`--git-dir`) at scale and under failure, through the real daemon, socket,
 * CLI and git: deltas in its packs, which directories it accepts, its lock, refs it only moves
 * from what it wrote, and what `stats`, the log and the exit status say when it cannot write.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { Client } from '../../src/client/index.js';
import { REPO_ROOT, startDaemon, TEST_PEER } from '../helpers/daemon.js';

const run = promisify(execFile);
const onlyXsgit = TEST_PEER === 'xsgit' ? describe : describe.skip;
const gitEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: tmpdir(), GIT_CONFIG_NOSYSTEM: '1' };

async function git(dir: string, ...args: string[]): Promise<string> {
  const { stdout } = await run('git', ['--git-dir', dir, ...args], { env: gitEnv, maxBuffer: 64 << 20 });
  return stdout;
}

function freshDir(): string {
  return join(mkdtempSync(join(tmpdir(), 'xsgit-mirror-')), 'repo.git');
}

interface MirrorJson {
  state: string;
  lastError: string | null;
  backlogCommits: number;
  lostCommits: number;
  deltas: number;
  objects: number;
  lagP99Ms: number | null;
}

async function mirrorStats(c: Client): Promise<{ retained: number; mirror: MirrorJson }> {
  return JSON.parse(await c.control('history', 'stats', '--json')) as { retained: number; mirror: MirrorJson };
}

async function until(what: string, cond: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** `xsgit daemon` expected to refuse to start: its exit code and what it printed. */
function refusedStart(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const runDir = mkdtempSync(join(tmpdir(), 'xsgit-mirror-run-'));
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'bin/xsgit.js'), 'daemon', '--run-dir', runDir, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

function packBytes(dir: string): number {
  const packs = join(dir, 'objects', 'pack');
  return readdirSync(packs).reduce((n, f) => n + statSync(join(packs, f)).size, 0);
}

onlyXsgit('live mirror', () => {
  it('stores new versions of a large directory as deltas; git fsck, verify-pack, log, show and bisect accept the packs', async () => {
    const dir = freshDir();
    const d = await startDaemon({ args: ['--git-dir', dir, '--mirror-lag', '2000'] });
    const c = await d.connect();
    try {
      // 200 guests: /local/domain is a large directory (edits), each guest a small one.
      for (let n = 1; n <= 200; n++) await c.write(`/local/domain/${n}/name`, `guest-${n}`);
      for (let round = 0; round < 3; round++) for (let n = 1; n <= 200; n++) await c.write(`/local/domain/${n}/state`, String(round));
      await until('the backlog to drain', async () => (await mirrorStats(c)).mirror.backlogCommits === 0, 20_000);
      const s = await mirrorStats(c);
      expect(s.mirror.state).toBe('ok');
      expect(s.mirror.deltas).toBeGreaterThan(s.mirror.objects / 3);
    } finally {
      await c.close();
      expect((await d.stop()).code).toBe(0);
    }
    await git(dir, 'fsck', '--strict');
    const packs = readdirSync(join(dir, 'objects', 'pack')).filter((f) => f.endsWith('.pack'));
    let deltas = 0;
    for (const p of packs) {
      const out = await git(dir, 'verify-pack', '-v', join(dir, 'objects', 'pack', p));
      deltas += out.split('\n').filter((l) => /^[0-9a-f]{40} (tree|blob|commit) +\d+ \d+ \d+ \d+ [0-9a-f]{40}$/.test(l)).length;
    }
    expect(deltas).toBeGreaterThan(500);
    const commits = Number((await git(dir, 'rev-list', '--count', 'main')).trim());
    expect(commits).toBe(801);
    // /local/domain alone is ~6 KB whole: without deltas each commit would cost more than that.
    expect(packBytes(dir) / commits).toBeLessThan(2048);
    expect((await git(dir, 'log', '--format=%s', '--', 'local/domain/7/state/.value')).trim().split('\n')).toEqual([
      'write /local/domain/7/state',
      'write /local/domain/7/state',
      'write /local/domain/7/state',
    ]);
    expect(await git(dir, 'show', 'main~1:local/domain/199/state/.value')).toBe('2');
    expect(await git(dir, 'cat-file', '-p', 'main:local/domain/200/name/.value')).toBe('guest-200');
    // git bisect run over the mirrored history: the first commit where guest 150's state is 1.
    const work = mkdtempSync(join(tmpdir(), 'xsgit-mirror-bisect-'));
    await run('git', ['clone', '-q', dir, work], { env: gitEnv });
    const g = (...a: string[]) => run('git', ['-C', work, ...a], { env: { ...gitEnv, GIT_AUTHOR_NAME: 't', GIT_COMMITTER_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_EMAIL: 't@t' } });
    await g('bisect', 'start', 'main', 'main~800');
    const { stdout } = await g('bisect', 'run', 'sh', '-c', 'test "$(cat local/domain/150/state/.value 2>/dev/null)" != 1');
    expect(stdout).toMatch(/is the first bad commit/);
    const first = /([0-9a-f]{40}) is the first bad commit/.exec(stdout)![1];
    expect(await git(dir, 'log', '-1', '--format=%s', first)).toBe('write /local/domain/150/state\n');
    expect(await git(dir, 'show', `${first}:local/domain/150/state/.value`)).toBe('1');
  }, 60_000);

  it('on an idle host, merges its small packs with git in the background', async () => {
    const dir = freshDir();
    const d = await startDaemon({ args: ['--git-dir', dir, '--mirror-lag', '40'] });
    const c = await d.connect();
    try {
      for (let n = 1; n <= 80; n++) await c.write(`/local/domain/${n}/name`, `guest-${n}`);
      // One commit per batch: each pack holds /local/domain whole.
      for (let i = 0; i < 20; i++) {
        await c.write('/local/domain/7/state', String(i));
        await until('the write to reach the repository', async () => (await mirrorStats(c)).mirror.backlogCommits === 0);
      }
      await until('a background repack', async () => ((await mirrorStats(c)).mirror as MirrorJson & { repacks: number }).repacks > 0, 20_000);
    } finally {
      await c.close();
      expect((await d.stop()).code).toBe(0);
    }
    await git(dir, 'fsck', '--strict');
    expect(readdirSync(join(dir, 'objects', 'pack')).filter((f) => f.endsWith('.pack')).length).toBeLessThan(16);
    expect(await git(dir, 'show', 'main:local/domain/7/state/.value')).toBe('19');
  }, 60_000);

  it('accepts only a missing or empty directory or a repository it made, and says why not', async () => {
    const base = mkdtempSync(join(tmpdir(), 'xsgit-mirror-refuse-'));
    // A project's repository (git made it, not xsgit).
    const project = join(base, 'project.git');
    await run('git', ['init', '-q', '--bare', project], { env: gitEnv });
    let r = await refusedStart(['--git-dir', project]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/is a git repository xsgit did not make.*refusing/);
    expect(existsSync(join(project, 'xsgit.lock'))).toBe(false);
    // A work tree, and an ordinary directory with files.
    const tree = join(base, 'tree');
    await run('git', ['init', '-q', tree], { env: gitEnv });
    r = await refusedStart(['--git-dir', tree]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/git work tree.*refusing/);
    expect(readdirSync(tree)).toEqual(['.git']);
    const files = join(base, 'files');
    mkdirSync(files);
    writeFileSync(join(files, 'notes.txt'), 'mine\n');
    r = await refusedStart(['--git-dir', files]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/not empty/);
    expect(readdirSync(files)).toEqual(['notes.txt']);
    // A missing directory whose parent is missing too.
    r = await refusedStart(['--git-dir', join(base, 'no', 'such', 'repo.git')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/parent directory does not exist/);
    // `xsgit export` follows the same rule.
    const d = await startDaemon();
    try {
      await expect(run(process.execPath, [join(REPO_ROOT, 'bin/xsgit.js'), 'export', '--git-dir', project], { env: d.env })).rejects.toThrow(/xsgit did not make/);
      // An empty directory is fine, and the repository is marked as xsgit's.
      const empty = join(base, 'empty');
      mkdirSync(empty);
      await run(process.execPath, [join(REPO_ROOT, 'bin/xsgit.js'), 'export', '--git-dir', empty], { env: d.env });
      expect((await git(empty, 'config', 'xsgit.repository')).trim()).toBe('true');
    } finally {
      await d.stop();
    }
  }, 60_000);

  it('a second daemon on the same repository is refused while the first mirrors into it', async () => {
    const dir = freshDir();
    const d = await startDaemon({ args: ['--git-dir', dir, '--mirror-lag', '100'] });
    try {
      const r = await refusedStart(['--git-dir', dir]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`another daemon (pid ${d.pid}) is mirroring into ${dir}`);
      const c = await d.connect();
      await c.write('/still', 'mine');
      await until('the write to reach the repository', async () => (await mirrorStats(c)).mirror.backlogCommits === 0);
      await c.close();
    } finally {
      expect((await d.stop()).code).toBe(0);
    }
    expect(await git(dir, 'cat-file', '-p', 'main:still/.value')).toBe('mine');
    expect(existsSync(join(dir, 'xsgit.lock'))).toBe(false);
    // A restart continues the same repository.
    const again = await startDaemon({ args: ['--git-dir', dir] });
    expect((await again.stop()).code).toBe(0);
  }, 60_000);

  it('never moves a ref someone else moved: stats and the log say so, and the exit status is non-zero', async () => {
    const dir = freshDir();
    const d = await startDaemon({ args: ['--git-dir', dir, '--mirror-lag', '100'] });
    const c = await d.connect();
    let foreign = '';
    try {
      await c.write('/a', '1');
      await c.write('/a', '2');
      await until('the writes to reach the repository', async () => (await mirrorStats(c)).mirror.backlogCommits === 0);
      foreign = (await git(dir, 'rev-parse', 'main~1')).trim();
      await git(dir, 'update-ref', 'refs/heads/main', foreign);
      await c.write('/a', '3');
      await until('the mirror to fail', async () => (await mirrorStats(c)).mirror.state === 'failing');
      const s = await mirrorStats(c);
      expect(s.mirror.lastError).toMatch(/refs\/heads\/main was moved by someone else/);
      expect(s.mirror.backlogCommits).toBe(1);
      const text = (await run(process.execPath, [join(REPO_ROOT, 'bin/xsgit.js'), 'stats'], { env: d.env })).stdout;
      expect(text).toMatch(/mirror +failing \(refs\/heads\/main was moved/);
    } finally {
      await c.close();
      expect((await d.stop()).code).toBe(1);
    }
    expect((await git(dir, 'rev-parse', 'main')).trim()).toBe(foreign);
    expect(d.stderr()).toMatch(/git mirror: cannot write to .*was moved by someone else/);
    expect(d.stderr()).toMatch(/1 commits not written/);
  }, 60_000);

  it('when the repository cannot be written: stats shows it with its backlog, retention stays bounded, and it recovers', async () => {
    const dir = freshDir();
    const d = await startDaemon({ args: ['--git-dir', dir, '--mirror-lag', '100', '--history', 'all:40'] });
    const c = await d.connect();
    const packs = join(dir, 'objects', 'pack');
    try {
      await c.write('/x', '0');
      await until('the first write to reach the repository', async () => (await mirrorStats(c)).mirror.backlogCommits === 0);
      // As a full or read-only disk would (root ignores permissions, so take the directory away).
      renameSync(packs, `${packs}.away`);
      writeFileSync(packs, '');
      for (let i = 1; i <= 30; i++) await c.write('/x', String(i));
      await until('the mirror to fail', async () => (await mirrorStats(c)).mirror.state === 'failing');
      let s = await mirrorStats(c);
      expect(s.mirror.lastError).toMatch(/ENOTDIR/);
      expect(s.mirror.backlogCommits).toBeGreaterThanOrEqual(30);
      expect(s.mirror.lostCommits).toBe(0);
      // Beyond the retention bound, retention runs anyway: memory stays bounded, and what it
      // dropped unwritten is counted.
      for (let i = 31; i <= 150; i++) await c.write('/x', String(i));
      await until('retention to run', async () => {
        s = await mirrorStats(c);
        return s.mirror.lostCommits > 0 && s.retained <= 40 + 16;
      });
      expect(s.mirror.state).toBe('failing');
      // The disk is back: the mirror writes again, continuing main (a fast-forward).
      rmSync(packs);
      renameSync(`${packs}.away`, packs);
      await until('the mirror to recover', async () => {
        const m = (await mirrorStats(c)).mirror;
        return m.state === 'ok' && m.backlogCommits === 0;
      });
    } finally {
      await c.close();
      // Commits were lost: the exit status says so.
      expect((await d.stop()).code).toBe(1);
    }
    expect(d.stderr()).toMatch(/git mirror: cannot write to .*ENOTDIR/);
    expect(d.stderr()).toMatch(/retention dropped \d+ commits that never reached/);
    await git(dir, 'fsck', '--strict');
    expect(await git(dir, 'cat-file', '-p', 'main:x/.value')).toBe('150');
    // main still descends from what was written before the failure.
    const first = (await git(dir, 'rev-list', '--max-parents=0', 'main')).trim().split('\n');
    expect(first).toHaveLength(1);
  }, 60_000);
});
