/**
 * xsgit serving simulated guests over their ring pages (xensim): the issue 11 scenarios.
 * Skips only when xensim cannot be built (the reason is printed).
 */

import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { REPO_ROOT } from '../helpers/daemon.js';
import { ensureXensim, scenario, startXsgitOnXensim, type RingDaemon } from './xensim.js';

// Simulated guests are Python processes: give them room on a loaded 2-core machine.
vi.setConfig({ testTimeout: 60_000, hookTimeout: 120_000 });

const xensim = await ensureXensim();
if ('skip' in xensim) console.warn(`test/xen: skipped: ${xensim.skip}`);
const build = 'build' in xensim ? xensim.build : '';

describe('xsgit daemon --xen without a hypervisor', () => {
  it('says what is missing and exits 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xsgit-noxen-'));
    const env = { ...process.env };
    for (const k of ['XENSIM_DIR', 'LD_PRELOAD', 'XENSTORED_PATH']) delete env[k];
    const r = await new Promise<{ code: number | null; stderr: string }>((ok) => {
      const p = execFile(process.execPath, [join(REPO_ROOT, 'bin', 'xsgit.js'), 'daemon', '--xen', '--run-dir', dir], { env, timeout: 15_000 }, (_e, _o, stderr) => ok({ code: p.exitCode, stderr }));
    });
    rmSync(dir, { recursive: true, force: true });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--xen: .*(\/dev\/xen\/evtchn|libxen)/);
  });
});

describe.skipIf('skip' in xensim)('xsgit on xensim: guests over rings', () => {
  let d: RingDaemon;
  beforeAll(async () => {
    d = await startXsgitOnXensim(build);
  });
  afterAll(async () => {
    await d?.stop();
  });

  it('read, write, permissions, watch and transactions over a ring', async () => {
    const r = await scenario<{ log: unknown[][] }>(d, build, 'script', 10);
    const byOp = r.log.map((e) => JSON.stringify(e));
    expect(byOp).toContain(JSON.stringify([0, 'READ', 'name', ['READ', 'guest']]));
    expect(byOp).toContain(JSON.stringify(['events', 0, [['device/vif/0/state', 'tok']]]));
    expect(byOp).toContain(JSON.stringify(['read big', 'READ', true]));
    expect(byOp).toContain(JSON.stringify([0, 'TRANSACTION_END', 'T', ['ERROR', 'EAGAIN\0']]));
    expect(byOp).toContain(JSON.stringify([0, 'READ', '/local/domain/0', ['ERROR', 'EACCES\0']]));
  });

  it('messages wrapping the ring end, and written in pieces', async () => {
    const r = await scenario<{ ok: number; total: number; full: string[]; bytewise: unknown[]; stats: Record<string, number>; error: number }>(d, build, 'wrap', 20);
    expect(r.ok).toBe(r.total);
    expect(r.full[0]).toBe('ERROR'); // 4096-byte payload read whole, refused by the node-size quota
    expect(r.bytewise).toEqual(['READ', 777, 1800]);
    expect(r.stats['req_wraps']).toBeGreaterThan(0);
    expect(r.stats['rsp_wraps']).toBeGreaterThan(0);
    expect(r.error).toBe(0);
  });

  it('a guest that never consumes its responses holds nobody else up', async () => {
    const r = await scenario<{ sent: number; goodMaxLatency: number; alive: string; badState: Record<string, number>; introducedAfterDestroy: boolean }>(d, build, 'no-consume', 30);
    expect(r.alive).toBe('yes');
    expect(r.goodMaxLatency).toBeLessThan(1);
    // its response ring is full and the daemon stopped reading its requests
    expect(r.badState['rsp_prod'] - r.badState['rsp_cons']).toBe(1024);
    expect(r.badState['error']).toBe(0);
    expect(r.introducedAfterDestroy).toBe(false);
  });

  it('indexes off by 2^31 (XSA-38): error RINGIDX, ring ignored, others unaffected', async () => {
    const r = await scenario(d, build, 'req-index', 40);
    expect(r).toMatchObject({ error: 2, other: 'v', badStillIntroduced: true });
  });

  it('a guest writing the response ring indexes: error RINGIDX', async () => {
    const r = await scenario(d, build, 'rsp-index', 50);
    expect(r).toMatchObject({ error: 2, other: 'v', badStillIntroduced: true });
  });

  it('a guest scribbling over the response bytes only hurts itself', async () => {
    const r = await scenario(d, build, 'rsp-data', 60);
    expect(r).toMatchObject({ error: 0, other: 'v', alive: '1' });
  });

  it('a length over 4096: error PROTO', async () => {
    const r = await scenario(d, build, 'too-long', 70);
    expect(r).toMatchObject({ error: 3, other: 'v', badStillIntroduced: true });
  });

  it('a ring of garbage: error PROTO, nothing else', async () => {
    const r = await scenario(d, build, 'garbage', 80);
    expect(r).toMatchObject({ error: 3, other: 'v', badStillIntroduced: true });
  });

  it('a guest dying mid-transaction: VIRQ_DOM_EXC, @releaseDomain, its nodes gone', async () => {
    const r = await scenario(d, build, 'dies-mid-transaction', 90);
    expect(r).toEqual({ releaseEvent: true, home: ['ERROR', 'ENOENT\0'], introduced: false, other: 'here' });
  });

  it('a guest shutting down: @releaseDomain once, released when it dies', async () => {
    const r = await scenario(d, build, 'shutdown', 100);
    expect(r).toEqual({ events: 1, introducedWhileShutdown: true, introducedAfterDestroy: false });
  });

  it('reconnect through the connection field: watches, transactions and partial input dropped', async () => {
    const r = await scenario(d, build, 'reconnect', 110);
    expect(r).toEqual({ how: 'feature', connection: 0, txEnd: ['ERROR', 'ENOENT\0'], events: [], after: 'ok', intx: ['ERROR', 'ENOENT\0'] });
  });

  it("dom0's own ring (/proc/xen/xsd_kva) is privileged", async () => {
    const r = await scenario(d, build, 'dom0-ring', 120);
    expect(r).toEqual({ read: 'dom0', introduced: true });
  });

  it('8 guests interleaved each get their own replies', async () => {
    const r = await scenario<{ vals: string[] }>(d, build, 'many', 130);
    expect(r.vals).toEqual([0, 1, 2, 3, 4, 5, 6, 7].map((i) => `19-${i}`));
  });

  it('a second --xen daemon on the same machine says VIRQ_DOM_EXC is taken and exits 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xsgit-second-'));
    const env: NodeJS.ProcessEnv = { ...process.env, XENSIM_DIR: d.xenDir, LD_LIBRARY_PATH: join(build, 'lib'), LD_PRELOAD: join(build, 'xensim-preload.so') };
    delete env['XENSTORED_PATH'];
    const r = await new Promise<{ code: number | null; stderr: string }>((ok) => {
      const p = execFile(process.execPath, [join(REPO_ROOT, 'bin', 'xsgit.js'), 'daemon', '--xen', '--run-dir', dir], { env, timeout: 15_000 }, (_e, _o, stderr) => ok({ code: p.exitCode, stderr }));
    });
    rmSync(dir, { recursive: true, force: true });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/VIRQ_DOM_EXC.*another xenstored/);
  });

  it('INTRODUCE of a domain the hypervisor does not have fails (EIO), nothing else', async () => {
    const c = await d.handle!.connect();
    await expect(c.introduce(4000, 4000, 1)).rejects.toThrow(/EIO/);
    expect(await c.getDomainPath(0)).toBe('/local/domain/0');
    await c.close();
  });

  it('idle with guests connected, the daemon uses no CPU (no timer, no polling loop)', async () => {
    const ticks = (): number => {
      const f = readFileSync(`/proc/${d.handle!.pid}/stat`, 'utf8').split(') ')[1].split(' ');
      return Number(f[11]) + Number(f[12]); // utime + stime, in clock ticks (1/100 s)
    };
    await new Promise((r) => setTimeout(r, 300));
    const t0 = ticks();
    await new Promise((r) => setTimeout(r, 2000));
    expect(ticks() - t0).toBeLessThanOrEqual(2);
  });

  it('the daemon is still fine after all that', async () => {
    const r = await scenario<{ log: unknown[][] }>(d, build, 'script', 200);
    expect(r.log.length).toBeGreaterThan(30);
    expect(d.handle?.stderr() ?? '').not.toMatch(/TypeError|RangeError|EIO/);
  });
});
