/**
 * Issue 16 §3, bisect: both ends are judged first (as git bisect does), and no answer means a
 * non-zero exit: a wrong expectation, a path without its slash, a missing path, a `--run`
 * command that is not found (127). 125 skips. examples/bisect.sh reads the history, not the
 * host's file system.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '../../src/client/index.js';
import { REPO_ROOT, startDaemon, TEST_PEER, type DaemonHandle } from '../helpers/daemon.js';
import { xsgit, xsgitJson } from '../helpers/cli.js';

const onlyXsgit = TEST_PEER === 'xsgit' ? describe : describe.skip;

function sh(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd: REPO_ROOT }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : Number((err as { code?: number }).code ?? -1), stdout, stderr });
    });
  });
}

onlyXsgit('bisect', { timeout: 60_000 }, () => {
  let d: DaemonHandle;
  let c: Client;
  let repo: string;
  let culprit: string;
  /** A directory of the host that looks like the node: the old script read it. */
  let decoy: string;
  const run = (...args: string[]) => xsgit(d.env, args);

  beforeAll(async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'xsgitbisect'));
    repo = join(tmp, 'repo.git');
    d = await startDaemon({ args: ['--git-dir', repo, '--mirror-lag', '50'] });
    c = await d.connect();
    decoy = join(tmp, 'state');
    mkdirSync(decoy);
    writeFileSync(join(decoy, '.value'), '4');
    await c.write('/local/domain/7/state', '4');
    await c.write(decoy, '4');
    await xsgit(d.env, ['tag', 'good']);
    for (let i = 0; i < 6; i++) await c.write(`/local/domain/7/noise${i}`, String(i));
    await c.write('/local/domain/7/state', '6');
    await c.write(decoy, '6');
    culprit = (await xsgitJson<{ commit: string }>(d.env, ['show', 'HEAD~1'])).commit;
    for (let i = 0; i < 5; i++) await c.write(`/local/domain/7/later${i}`, String(i));
  });
  afterAll(async () => {
    await c?.close();
    await d?.stop();
  });

  it('finds the first bad commit with --expect, exit 0', async () => {
    const r = await run('bisect', '--good', 'good', '--bad', 'HEAD', '--expect', '/local/domain/7/state=4');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^first bad commit: ${culprit} \\S+ dom0 write /local/domain/7/state\\n$`));
    expect((await xsgitJson<{ commit: string }>(d.env, ['bisect', '--good', 'good', '--bad', 'HEAD', '--expect', '/local/domain/7/state=4'])).commit).toBe(culprit);
  });

  it('compares the bytes of VALUE exactly, whatever they are', async () => {
    await c.write('/local/domain/8/v', '-n café');
    await xsgit(d.env, ['tag', 'v-good']);
    await c.write('/local/domain/8/v', '-n cafe');
    const r = await run('bisect', '--good', 'v-good', '--bad', 'HEAD', '--expect', '/local/domain/8/v=-n café');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/ write \/local\/domain\/8\/v\n$/);
  });

  it('has no answer, and exits 1, when the expectation is wrong at either end', async () => {
    const wrong = await run('bisect', '--good', 'good', '--bad', 'HEAD', '--expect', '/local/domain/7/state=5');
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toBe('');
    expect(wrong.stderr).toContain('--good good');
    expect(wrong.stderr).toContain('is not good: PATH /local/domain/7/state holds "4" there; good means it holds "5"');
    const notBad = await run('bisect', '--good', 'good', '--bad', 'good~0', '--expect', '/local/domain/7/state=4');
    expect(notBad.code).toBe(1);
    expect(notBad.stderr).toContain('--bad good~0');
  });

  it('has no answer for a path without its slash or a missing path, and says which', async () => {
    const rel = await run('bisect', '--good', 'good', '--bad', 'HEAD', '--expect', 'local/domain/7/state=4');
    expect(rel.code).toBe(1);
    expect(rel.stderr).toContain('relative, so /local/domain/0/local/domain/7/state');
    expect(rel.stderr).toContain('does not exist there');
    const missing = await run('bisect', '--good', 'good', '--bad', 'HEAD', '--expect', '/local/domain/7/nothing=4');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('PATH /local/domain/7/nothing does not exist there');
  });

  it('--run: 0 good, 1 bad, both ends checked first; 127 (not found) and a wrong end stop it with exit 1', async () => {
    const check = 'test "$(node bin/xsgit.js cat $XSGIT_BISECT_COMMIT /local/domain/7/state)" = 4';
    const ok = await run('bisect', '--good', 'good', '--bad', 'HEAD', '--run', check);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(new RegExp(`^first bad commit: ${culprit} `));
    const notFound = await run('bisect', '--good', 'good', '--bad', 'HEAD', '--run', 'no-such-command-xsgit');
    expect(notFound.code).toBe(1);
    expect(notFound.stdout).toBe('');
    expect(notFound.stderr).toContain('was not found (exit 127)');
    const alwaysBad = await run('bisect', '--good', 'good', '--bad', 'HEAD', '--run', 'exit 1');
    expect(alwaysBad.code).toBe(1);
    expect(alwaysBad.stderr).toContain('--good good');
    expect(alwaysBad.stderr).toContain('is not good: the command exited 1');
    const alwaysGood = await run('bisect', '--good', 'good', '--bad', 'HEAD', '--run', 'exit 0');
    expect(alwaysGood.code).toBe(1);
    expect(alwaysGood.stderr).toContain('--bad HEAD');
  });

  it('--run: 125 skips a commit; when skips hide the answer, exit 2 with the candidates', async () => {
    // Skip a good commit some way before the culprit: the answer is still found (skipping the
    // one just before it would hide it: either could be the first bad one).
    const before = (await xsgitJson<{ commit: string }>(d.env, ['show', `${culprit}~3`])).commit;
    const skipOne = `[ "$XSGIT_BISECT_COMMIT" = ${before} ] && exit 125; test "$(node bin/xsgit.js cat $XSGIT_BISECT_COMMIT /local/domain/7/state)" = 4`;
    const found = await run('bisect', '--good', 'good', '--bad', 'HEAD', '--run', skipOne);
    expect(found.code).toBe(0);
    expect(found.stdout).toContain(culprit);
    // Skip everything between the ends: any of them could be the first bad commit.
    const good = (await xsgitJson<{ commit: string }>(d.env, ['show', 'good'])).commit;
    const head = (await xsgitJson<{ commit: string }>(d.env, ['show', 'HEAD'])).commit;
    const skipAll = `case "$XSGIT_BISECT_COMMIT" in ${good}) exit 0;; ${head}) exit 1;; *) exit 125;; esac`;
    const hidden = await run('bisect', '--good', 'good', '--bad', 'HEAD', '--run', skipAll);
    expect(hidden.code).toBe(2);
    expect(hidden.stderr).toContain('only skipped commits are left');
    expect(hidden.stderr).toContain(culprit);
    const j = await run('bisect', '--good', 'good', '--bad', 'HEAD', '--run', skipAll, '--json');
    expect(j.code).toBe(2);
    expect((JSON.parse(j.stdout) as { error: { candidates: string[] } }).error.candidates).toContain(culprit);
  });

  it('examples/bisect.sh bisects the exported history, not the host file system, and has no answer when the ends are wrong', async () => {
    const head = (await xsgitJson<{ commit: string }>(d.env, ['show', 'HEAD'])).commit;
    const deadline = Date.now() + 10_000;
    while ((await sh('git', ['--git-dir', repo, 'rev-parse', 'refs/heads/main'])).stdout.trim() !== head) {
      if (Date.now() > deadline) throw new Error('the mirror did not catch up');
      await new Promise((r) => setTimeout(r, 50));
    }
    const good = (await xsgitJson<{ commit: string }>(d.env, ['show', 'good'])).commit;
    // The decoy on the host holds "4" all along: read from there, every commit would be good.
    const decoyRun = await sh('bash', ['examples/bisect.sh', repo, good, 'main', decoy, '4']);
    expect(decoyRun.code, decoyRun.stderr).toBe(0);
    expect(decoyRun.stdout).toMatch(new RegExp(`^first bad commit: [0-9a-f]{40} .* write ${decoy}\\n$`));
    const r = await sh('bash', ['examples/bisect.sh', repo, good, 'main', '/local/domain/7/state', '4']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^first bad commit: ${culprit} `));
    const wrong = await sh('bash', ['examples/bisect.sh', repo, good, 'main', '/local/domain/7/state', '5']);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('is not good');
    const missing = await sh('bash', ['examples/bisect.sh', repo, good, 'main', '/local/domain/7/none', '4']);
    expect(missing.code).toBe(1);
  });
});
