/**
 * Xen's own programs from xen-utils-4.17: the real xenstore-control and test-xenstore.
 */

import { describe, expect, it } from 'vitest';
import { sharedClient } from '../helpers/daemon.js';
import { TEST_XENSTORE, runTool, xsControl } from '../helpers/tools.js';

const t = sharedClient();

function commandNames(help: string): string[] {
  return help
    .split('\n')
    .filter((l) => /^\S/.test(l))
    .map((l) => l.split(/[\t ]/)[0]!);
}

describe('xenstore-control', () => {
  it('help lists the commands, help and check among them', async () => {
    const r = await xsControl(t.daemon.env, ['help']);
    expect(r.code).toBe(0);
    const names = commandNames(r.stdout);
    expect(names).toContain('help');
    expect(names).toContain('check');
    // the text is what CONTROL help returns
    expect(r.stdout.trimEnd()).toBe((await t.c.control('help')).trimEnd());
  });

  it('an unknown command exits 3 and prints the help text', async () => {
    const help = (await xsControl(t.daemon.env, ['help'])).stdout;
    const r = await xsControl(t.daemon.env, ['no-such-command', 'arg']);
    expect(r.code).toBe(3);
    // xenstore-control got EINVAL, asked for help and printed it, all on stderr
    const head = 'Command not supported. Valid commands are:\n';
    expect(r.stderr.startsWith(head), r.stderr).toBe(true);
    expect(r.stderr.slice(head.length)).toBe(help);
    expect(r.stdout).toBe('');
  });

  it('check succeeds on a store with content', async () => {
    await t.c.write('/xt/check/a/b', '1');
    await t.c.setPerms('/xt/check/a', ['r0', 'w1']);
    await t.c.rm('/xt/check/a/b');
    const r = await xsControl(t.daemon.env, ['check']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('OK\n');
  });
});

describe("Xen's test-xenstore", () => {
  it('passes every test', async () => {
    const list = await runTool(t.daemon.env, TEST_XENSTORE, ['-l']);
    expect(list.code).toBe(0);
    const tests = list.stdout
      .split('\n')
      .filter((l) => l.includes(':'))
      .map((l) => l.split(':')[0]!.trim());
    expect(tests).toContain('ta err');
    expect(tests.length).toBeGreaterThanOrEqual(12);
    const r = await runTool(t.daemon.env, TEST_XENSTORE, ['-i', '5'], { timeoutMs: 60_000 });
    expect(r.stdout + r.stderr).not.toMatch(/failed/);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    for (const t of tests) expect(r.stdout).toMatch(new RegExp(`^${t.replace(/ /g, ' ')}\\s*: avg: \\d+ ns`, 'm'));
    // it cleans up after itself
    expect(await t.c.directory('/local/domain/0/xenstore-test').catch(() => [])).toEqual([]);
  });

  it('passes its random mode', async () => {
    const r = await runTool(t.daemon.env, TEST_XENSTORE, ['-r', '2'], { timeoutMs: 60_000 });
    expect(r.stdout + r.stderr).not.toMatch(/failed/);
    expect(r.code, r.stdout + r.stderr).toBe(0);
  });
});
