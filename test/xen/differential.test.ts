/**
 * The same guest script over rings against xsgit and against Debian's C xenstored 4.17, both
 * on xensim: identical replies and watch events, request by request. Skips only when xensim
 * cannot be built.
 */

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ensureXensim, scenario, startCOnXensim, startXsgitOnXensim, type RingDaemon } from './xensim.js';

// Simulated guests are Python processes: give them room on a loaded 2-core machine.
vi.setConfig({ testTimeout: 60_000, hookTimeout: 120_000 });

const xensim = await ensureXensim();
if ('skip' in xensim) console.warn(`test/xen: skipped: ${xensim.skip}`);
const build = 'build' in xensim ? xensim.build : '';

/**
 * Known differences of the request layer (not of the ring), listed so that the rest is
 * compared strictly: READ of an empty path ("\0") from a guest is ENOENT in the C daemon
 * (the empty relative path resolves to the home's parent form and is not found) and EINVAL
 * in xsgit.
 */
const KNOWN = new Set([JSON.stringify([0, 'READ', ['ERROR', 'ENOENT\0']]) + '|' + JSON.stringify([0, 'READ', ['ERROR', 'EINVAL\0']])]);

describe.skipIf('skip' in xensim)('differential over rings: xsgit vs the C daemon 4.17 on xensim', () => {
  let x: RingDaemon;
  let c: RingDaemon;
  beforeAll(async () => {
    [x, c] = await Promise.all([startXsgitOnXensim(build, ['--no-features']), startCOnXensim(build)]);
  }, 90_000);
  afterAll(async () => {
    await Promise.all([x?.stop(), c?.stop()]);
  });

  it('the guest script: identical replies and events', async () => {
    const [rx, rc] = await Promise.all([scenario<{ log: unknown[] }>(x, build, 'script', 10), scenario<{ log: unknown[] }>(c, build, 'script', 10)]);
    expect(rx.log.length).toBe(rc.log.length);
    const diffs: string[] = [];
    for (let i = 0; i < rx.log.length; i++) {
      const a = JSON.stringify(rc.log[i]);
      const b = JSON.stringify(rx.log[i]);
      if (a !== b && !KNOWN.has(`${a}|${b}`)) diffs.push(`#${i}\n  C:     ${a}\n  xsgit: ${b}`);
    }
    expect(diffs).toEqual([]);
  });

  const names = ['req-index', 'rsp-index', 'rsp-data', 'too-long', 'garbage', 'dies-mid-transaction', 'shutdown', 'many', 'dom0-ring'];
  names.forEach((name, i) => {
    it(`${name}: same observations`, async () => {
      const domid = 300 + 20 * i;
      const [rx, rc] = await Promise.all([scenario(x, build, name, domid), scenario(c, build, name, domid)]);
      expect(rx).toEqual(rc);
    });
  });
});

describe.skipIf('skip' in xensim)('reconnection over rings: xsgit vs oxenstored 4.17 on xensim (both advertise it)', () => {
  let x: RingDaemon;
  let o: RingDaemon;
  beforeAll(async () => {
    [x, o] = await Promise.all([startXsgitOnXensim(build), startCOnXensim(build, 'ocaml-ring')]);
  }, 90_000);
  afterAll(async () => {
    await Promise.all([x?.stop(), o?.stop()]);
  });

  it('watches, transactions and partial input dropped; the ring goes on', async () => {
    const [rx, ro] = await Promise.all([scenario<Record<string, unknown>>(x, build, 'reconnect', 10), scenario<Record<string, unknown>>(o, build, 'reconnect', 10)]);
    // The one difference is the error for a transaction id that no longer exists: ENOENT in
    // the C daemon (which xsgit follows), EIO in oxenstored.
    expect(rx['txEnd']).toEqual(['ERROR', 'ENOENT\0']);
    expect(ro['txEnd']).toEqual(['ERROR', 'EIO\0']);
    expect({ ...rx, txEnd: null }).toEqual({ ...ro, txEnd: null });
  });
});
