/**
 * Issue 16 §1, installing as an operator would (the README's "Installing as the host's
 * xenstored" follows these steps):
 *
 *   npm pack                       the tarball has dist/, the bin, the service files
 *   npm install -g xsgit-*.tgz     into a temporary prefix: `xsgit` on its PATH, no build
 *   xsgit --help; xsgit daemon …   the installed command serves a socket, the CLI reaches it
 *   systemd-analyze verify         the unit and its drop-ins (where the tool exists)
 *   npm install -g <fresh clone>   the linked-folder install builds without tsc preinstalled
 *
 * The npm steps reach the npm registry for the dependencies (its cache when warm).
 * XSGIT_TEST_NO_INSTALL=1 skips them (a machine without the registry).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, TEST_PEER } from '../helpers/daemon.js';
import { cleanEnv, startCli, xsgit } from './cli.js';

const SKIP_INSTALL = process.env['XSGIT_TEST_NO_INSTALL'] === '1' || TEST_PEER !== 'xsgit';
const SYSTEMD_ANALYZE = ['/usr/bin/systemd-analyze', '/bin/systemd-analyze'].find(existsSync);
const NPM_TIMEOUT = 240_000;

function npm(args: string[], cwd: string, env: NodeJS.ProcessEnv = cleanEnv()): string {
  const r = spawnSync('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd, env, encoding: 'utf8', timeout: NPM_TIMEOUT });
  if (r.status !== 0) throw new Error(`npm ${args.join(' ')} (in ${cwd}) exited ${r.status}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** The installed command runs a daemon that the installed CLI reaches. */
async function daemonThrough(bin: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'xsgit-inst-'));
  const socket = join(dir, 'run', 'socket');
  const d = startCli(['daemon', '--run-dir', join(dir, 'run'), '--git-dir', join(dir, 'state')], { bin });
  try {
    await d.waitFor('listening on');
    const r = await xsgit(['--socket', socket, 'stats'], { bin });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/commits/);
  } finally {
    expect(await d.stop()).toBe(0);
  }
}

(SKIP_INSTALL ? describe.skip : describe)('install (npm pack, npm install -g)', () => {
  it(
    'packs dist/ and installs the tarball globally: xsgit on PATH, a daemon through it',
    async () => {
      const work = mkdtempSync(join(tmpdir(), 'xsgit-pack-'));
      // dist/ is already built (the test setup): pack it as it is, without rebuilding it
      // under the other test files' daemons.
      const out = npm(['pack', '--ignore-scripts', '--json', '--pack-destination', work], REPO_ROOT);
      const packed = (JSON.parse(out) as { filename: string; files: { path: string }[] }[])[0];
      const files = packed.files.map((f) => f.path);
      expect(files).toContain('dist/src/cli/main.js');
      expect(files).toContain('bin/xsgit.js');
      expect(files).toContain('dist-files/systemd/xsgit.service');
      expect(files.some((f) => f.startsWith('src/') || f.startsWith('test/'))).toBe(false);

      const prefix = join(work, 'prefix');
      npm(['install', '-g', '--prefix', prefix, '--prefer-offline', join(work, packed.filename)], work);
      const bin = join(prefix, 'bin', 'xsgit');
      expect(existsSync(bin)).toBe(true);
      const help = execFileSync(bin, ['--help'], { encoding: 'utf8', env: cleanEnv() });
      expect(help).toContain('Usage: xsgit');
      expect(help).toContain('--socket <path>');
      // The command on PATH, as after the README's set-up.
      const onPath = spawnSync('xsgit', ['--version'], { encoding: 'utf8', env: { ...cleanEnv(), PATH: `${join(prefix, 'bin')}:${process.env['PATH'] ?? ''}` } });
      expect(onPath.stdout.trim()).toBe('0.1.0');
      await daemonThrough(bin);
      expect(existsSync(join(prefix, 'lib', 'node_modules', 'xsgit', 'dist-files', 'systemd', 'xen.service.d', 'xsgit.conf'))).toBe(true);
    },
    NPM_TIMEOUT + 60_000,
  );

  it(
    'npm install -g <folder> from a fresh clone builds (no tsc beforehand) and installs xsgit',
    async () => {
      const work = mkdtempSync(join(tmpdir(), 'xsgit-clone-'));
      const clone = join(work, 'clone');
      execFileSync('git', ['clone', '--quiet', '--no-hardlinks', REPO_ROOT, clone]);
      // The working tree as it is (the test may run before a commit): sources and package files.
      for (const f of ['package.json', 'package-lock.json', 'tsconfig.json', 'scripts', 'src', 'bench', 'bin']) cpSync(join(REPO_ROOT, f), join(clone, f), { recursive: true });
      const lock = readFileSync(join(clone, 'package-lock.json'), 'utf8');
      const prefix = join(work, 'prefix');
      npm(['install', '-g', '--prefix', prefix, '--prefer-offline', clone], work);
      const bin = join(prefix, 'bin', 'xsgit');
      expect(existsSync(join(clone, 'dist', 'src', 'cli', 'main.js'))).toBe(true);
      expect(execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim()).toBe('0.1.0');
      await daemonThrough(bin);
      // `npm install` left the lock as committed (issue 16: it was rewritten).
      expect(readFileSync(join(clone, 'package-lock.json'), 'utf8')).toBe(lock);
    },
    NPM_TIMEOUT + 60_000,
  );
});

/** Units that stand for what the host has (Debian's generated xen.service, upstream's
 *  xenstored.service), so that the drop-ins are checked against a unit as on the host. */
const STUBS: Record<string, string> = {
  'xen.service': '[Unit]\nDescription=stand-in for the unit generated from /etc/init.d/xen\n[Service]\nType=forking\nExecStart=/bin/true\n',
  'xenstored.service': '[Unit]\nDescription=stand-in for upstream Xen\'s xenstored.service\n[Service]\nType=notify\nNotifyAccess=all\nRemainAfterExit=true\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n',
};

(SYSTEMD_ANALYZE === undefined ? describe.skip : describe)('service files (systemd-analyze verify)', () => {
  it('xsgit.service and the drop-ins for xen.service and xenstored.service verify without a warning', () => {
    const dir = mkdtempSync(join(tmpdir(), 'xsgit-units-'));
    cpSync(join(REPO_ROOT, 'dist-files', 'systemd'), dir, { recursive: true });
    for (const [name, text] of Object.entries(STUBS)) writeFileSync(join(dir, name), text);
    const units = readdirSync(dir).filter((f) => f.endsWith('.service'));
    expect(units.sort()).toEqual(['xen.service', 'xenstored.service', 'xsgit.service']);
    const r = spawnSync(SYSTEMD_ANALYZE!, ['verify', ...units.map((u) => join(dir, u))], {
      encoding: 'utf8',
      // The unit path: this directory first (its drop-ins), then the host's.
      env: { ...process.env, SYSTEMD_UNIT_PATH: `${dir}:` },
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr.split('\n').filter((l) => l.includes(dir))).toEqual([]);
    // The drop-in really is read: a bad key in it is reported.
    writeFileSync(join(dir, 'xen.service.d', 'zz-probe.conf'), '[Service]\nNoSuchKey=1\n');
    const probe = spawnSync(SYSTEMD_ANALYZE!, ['verify', join(dir, 'xen.service')], { encoding: 'utf8', env: { ...process.env, SYSTEMD_UNIT_PATH: `${dir}:` } });
    expect(probe.stderr).toContain('NoSuchKey');
  });
});
