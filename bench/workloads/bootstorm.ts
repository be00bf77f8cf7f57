/**
 * Boot storm (B1 of ../shared/workloads-and-threats.md §3(b)): the libxl-faithful per-guest
 * script, written once over the project's client library (src/client), so that it runs
 * unchanged against all three daemons. Each guest is a PV guest with a console, one vbd
 * (51712) and one vif (0):
 *
 *  1. name check: DIRECTORY /local/domain, then READ d/name of every domain (the O(N) term;
 *     these reads are pipelined, the rest of the script is one request at a time, as libxl);
 *  2. libxl__domain_make: one transaction of ≈50 requests (RM, WRITE + SET_PERMS "mknod"s);
 *  3. dm-version write, xenstored/xenconsoled domid reads;
 *  4. libxl__build_post: one transaction, then INTRODUCE (fires @introduceDomain);
 *  5. one transaction per device (console, vbd, vif): frontend and backend trees with perms;
 *  6. the backend/frontend handshake for vbd and vif: the toolstack WATCHes <be>/state, then
 *     a backend, a hotplug agent and the guest, each on its own connection, write their keys
 *     in the libxl order (state 2, hotplug-status, frontend 3 / 4, backend 4); the toolstack
 *     waits for the watch to show state 4 and UNWATCHes. The guest holds its four boot-time
 *     watches (control/shutdown, control/sysrq, memory/target, device) until teardown.
 *  7. teardown (timed separately, after every guest booted): online=0 and state=5 per device,
 *     the backend answers 6, RM backend, frontend and libxl device nodes, RM the domain, vm and
 *     libxl trees, RELEASE (fires @releaseDomain).
 *
 * P toolstacks run in parallel, each one connection (plus its own backend, hotplug and guest
 * connections) booting every P-th guest. All connections are dom0 Unix-socket connections, so
 * the "guest" writes its frontend keys with absolute paths rather than as domain N over a ring.
 *
 * EAGAIN: each guest's requests are strictly sequential (one toolstack, the handshake driven in
 * order), so a transaction of guest A can only fail with EAGAIN because of another guest's
 * requests. Every EAGAIN therefore is one "between transactions of different guests"; the
 * driver also checks that another toolstack made progress during the failed transaction and
 * counts the EAGAINs where none did (unexplained; expected 0).
 */
import { Client, isXsError, type Transaction, type Watcher } from '../../src/client/index.js';
import type { Daemon } from '../daemons.js';
import { collector, guarded, live, rotated } from '../measure.js';
import { settle, sleep, statusKb } from '../proc.js';
import { percentileSorted } from '../stats.js';
import type { Ctx, Workload, WorkloadResult } from '../types.js';

const VCPUS = 2;
const WAIT_MS = 20_000;

interface Shared {
  /** Bumped on every successful commit and every agent write (progress seen by others). */
  progress: number;
  booted: number;
}

interface GuestStat {
  domid: number;
  toolstack: number;
  present: number;
  startMs: number;
  ms: number;
  eagain: number;
  unexplained: number;
  requests: number;
}

interface Conns {
  ts: Client;
  backend: Client;
  hotplug: Client;
  guest: Client;
}

const uuidOf = (n: number) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

class Toolstack {
  requests = 0;
  eagain = 0;
  unexplained = 0;
  private readonly guestWatches = new Map<number, string[]>();

  constructor(
    readonly index: number,
    readonly c: Conns,
    readonly shared: Shared,
    readonly nameScan: boolean,
    readonly notes: Set<string>,
  ) {}

  /** A request that may fail with ENOENT (libxl ignores it: rm of a missing node, existence checks). */
  private async soft<T>(p: Promise<T>): Promise<T | null> {
    this.requests++;
    try {
      return await p;
    } catch (e) {
      if (isXsError(e, 'ENOENT')) return null;
      throw e;
    }
  }

  private async req<T>(p: Promise<T>): Promise<T> {
    this.requests++;
    return p;
  }

  /** libxl's transaction loop: start, body, commit; on EAGAIN start over (bounded). */
  private async tx(body: (t: Transaction) => Promise<void>): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const seen = this.shared.progress;
      const t = await this.req(this.c.ts.begin());
      let again = false;
      try {
        await body(t);
      } catch (e) {
        await t.abort().catch(() => undefined);
        if (!isXsError(e, 'EAGAIN')) throw e;
        again = true;
      }
      if (!again) {
        try {
          await this.req(t.commit());
          this.shared.progress++;
          return;
        } catch (e) {
          if (!isXsError(e, 'EAGAIN')) throw e;
        }
      }
      this.eagain++;
      if (this.shared.progress === seen) this.unexplained++;
      if (attempt >= 200) throw new Error('200 EAGAINs in a row');
      if (attempt >= 3) await sleep(Math.random() * Math.min(50, 2 ** (attempt - 3)));
    }
  }

  /** `mknod p perms`: WRITE p "" then SET_PERMS. */
  private async mknod(t: Transaction, p: string, perms: string[]): Promise<void> {
    await this.req(t.write(p, ''));
    await this.req(t.setPerms(p, perms));
  }

  async boot(n: number): Promise<void> {
    const c = this.c;
    const dom = `/local/domain/${n}`;
    const U = uuidOf(n);
    const vm = `/vm/${U}`;
    const lx = `/libxl/${n}`;
    const name = `guest-${n}`;
    const ro = ['n0', `r${n}`];
    const rw = [`n${n}`];
    const none = ['n0'];

    // 1. name check (libxl_name_to_domid), outside any transaction.
    if (this.nameScan) {
      const doms = (await this.soft(c.ts.directory('/local/domain'))) ?? [];
      const reads = doms.filter((d) => d !== '0').map((d) => this.soft(c.ts.readString(`/local/domain/${d}/name`)));
      await Promise.all(reads);
    }

    // 2. libxl__domain_make.
    await this.tx(async (t) => {
      await this.soft(t.rm(dom));
      await this.mknod(t, dom, ro);
      await this.soft(t.rm(vm));
      await this.mknod(t, vm, ro);
      await this.soft(t.rm(lx));
      await this.mknod(t, lx, none);
      await this.mknod(t, `${lx}/device`, none);
      await this.req(t.write(`${dom}/vm`, vm));
      await this.req(t.write(`${dom}/name`, name));
      await this.req(t.write(`${vm}/name`, name));
      for (const k of ['cpu', 'memory', 'device']) await this.mknod(t, `${dom}/${k}`, ro);
      await this.mknod(t, `${dom}/device/suspend/event-channel`, rw);
      await this.mknod(t, `${dom}/control`, ro);
      for (const k of ['shutdown', 'feature-poweroff', 'feature-reboot', 'feature-suspend', 'sysrq']) await this.mknod(t, `${dom}/control/${k}`, rw);
      for (const k of ['data', 'drivers', 'feature', 'attr', 'error']) await this.mknod(t, `${dom}/${k}`, rw);
      await this.req(t.write(`${vm}/uuid`, U));
      await this.req(t.write(`${vm}/name`, name));
      await this.req(t.write(`${dom}/control/platform-feature-multiprocessor-suspend`, '1'));
      await this.req(t.write(`${dom}/control/platform-feature-xs_reset_watches`, '1'));
      await this.req(t.write(`${lx}/type`, 'pv'));
    });

    // 3.
    await this.req(c.ts.write(`${lx}/dm-version`, 'qemu_xen'));
    await this.soft(c.ts.read('/tool/xenstored/domid'));
    await this.soft(c.ts.read('/tool/xenconsoled/domid'));

    // 4. libxl__build_post, then INTRODUCE.
    await this.soft(c.ts.read(`${dom}/vm`));
    await this.tx(async (t) => {
      await this.req(t.write(`${dom}/memory/static-max`, '262144'));
      await this.req(t.write(`${dom}/memory/target`, '262144'));
      await this.req(t.write(`${dom}/memory/videoram`, '-1'));
      await this.req(t.write(`${dom}/domid`, String(n)));
      await this.req(t.write(`${dom}/store/port`, '1'));
      await this.req(t.write(`${dom}/store/ring-ref`, String(0xfefff - n)));
      for (let i = 0; i < VCPUS; i++) await this.req(t.write(`${dom}/cpu/${i}/availability`, 'online'));
      await this.req(t.write(`${vm}/image/ostype`, 'linux'));
      await this.req(t.write(`${vm}/image/kernel`, '/boot/vmlinuz'));
      await this.req(t.write(`${vm}/image/ramdisk`, '/boot/initrd.img'));
      await this.req(t.write(`${vm}/image/cmdline`, 'root=/dev/xvda1 ro'));
      await this.req(t.write(`${vm}/start_time`, '1700000000.00'));
    });
    try {
      await this.req(c.ts.introduce(n, 0xfefff - n, 1));
    } catch (e) {
      this.notes.add(`INTRODUCE refused: ${(e as Error).message}`);
    }

    // The guest's own boot-time watches (kept until teardown).
    const gw = ['control/shutdown', 'control/sysrq', 'memory/target', 'device'].map((k) => `${dom}/${k}`);
    for (const p of gw) await this.req(c.guest.watch(p, `g${n}`));
    this.guestWatches.set(n, gw);

    // 5. devices: console 0, vbd 51712, vif 0.
    for (const dev of devices(n)) await this.addDevice(n, dev);

    // 6. the handshake for vbd and vif.
    for (const dev of devices(n)) if (dev.kind !== 'console') await this.connectDevice(n, dev);
  }

  private async addDevice(n: number, d: Device): Promise<void> {
    const ldev = `/libxl/${n}/device/${d.kind}/${d.id}`;
    await this.tx(async (t) => {
      await this.soft(t.read(`${d.fe}/backend`));
      await this.soft(t.read(`${d.be}/frontend`));
      await this.soft(t.rm(ldev));
      await this.req(t.write(`${ldev}/frontend`, d.fe));
      await this.req(t.write(`${ldev}/backend`, d.be));
      await this.soft(t.rm(d.fe));
      await this.req(t.mkdir(d.fe));
      await this.req(t.setPerms(d.fe, [`n${n}`, 'r0']));
      await this.req(t.write(`${d.fe}/backend`, d.be));
      for (const [k, v] of d.feKeys) {
        await this.req(t.write(`${d.fe}/${k}`, v));
        await this.req(t.setPerms(`${d.fe}/${k}`, [`n${n}`, 'r0']));
      }
      for (const [k, v] of d.feRoKeys) {
        await this.req(t.write(`${d.fe}/${k}`, v));
        await this.req(t.setPerms(`${d.fe}/${k}`, ['n0', `r${n}`]));
      }
      await this.soft(t.rm(d.be));
      await this.req(t.mkdir(d.be));
      await this.req(t.setPerms(d.be, ['n0', `r${n}`]));
      await this.req(t.write(`${d.be}/frontend`, d.fe));
      for (const [k, v] of d.beKeys) await this.req(t.write(`${d.be}/${k}`, v));
      for (const [k, v] of d.beKeys) await this.req(t.write(`${ldev}/${k}`, v));
    });
  }

  /** Waits (bounded) until the watch on `path` has fired and the node reads `want`. */
  private async waitState(w: Watcher, path: string, want: string): Promise<void> {
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${path} = ${want}`);
      await w.nextEvent(left);
      w.drain();
      if ((await this.soft(this.c.ts.readString(path))) === want) return;
    }
  }

  private async agent(c: Client, p: Promise<unknown>): Promise<void> {
    this.requests++;
    void c;
    await p;
    this.shared.progress++;
  }

  private async connectDevice(n: number, d: Device): Promise<void> {
    const { backend, hotplug, guest, ts } = this.c;
    const st = `${d.be}/state`;
    const w = await this.req(ts.watch(st, `ts${n}-${d.kind}`));
    await w.nextEvent(WAIT_MS); // the initial event
    // backend: InitWait and its features.
    await this.agent(backend, backend.write(st, '2'));
    for (const [k, v] of d.beFeatures) await this.agent(backend, backend.write(`${d.be}/${k}`, v));
    // hotplug agent.
    await this.agent(hotplug, hotplug.read(`${d.be}/script`));
    if (d.kind === 'vbd') await this.agent(hotplug, hotplug.read(`${d.be}/params`));
    await this.agent(hotplug, hotplug.write(`${d.be}/hotplug-status`, 'connected'));
    if (d.kind === 'vbd') await this.agent(hotplug, hotplug.write(`${d.be}/physical-device`, '8:0'));
    // guest (frontend).
    await this.agent(guest, guest.read(`${d.fe}/backend`));
    for (const [k, v] of d.guestKeys) await this.agent(guest, guest.write(`${d.fe}/${k}`, v));
    await this.agent(guest, guest.write(`${d.fe}/state`, '3'));
    await this.agent(guest, guest.write(`${d.fe}/state`, '4'));
    // backend: connected.
    for (const [k, v] of d.beConnected) await this.agent(backend, backend.write(`${d.be}/${k}`, v));
    await this.agent(backend, backend.write(st, '4'));
    await this.waitState(w, st, '4');
    await this.req(w.unwatch());
  }

  async teardown(n: number): Promise<void> {
    const { backend, ts, guest } = this.c;
    for (const d of devices(n)) {
      const ldev = `/libxl/${n}/device/${d.kind}/${d.id}`;
      if (d.kind !== 'console') {
        const st = `${d.be}/state`;
        const w = await this.req(ts.watch(st, `td${n}-${d.kind}`));
        await w.nextEvent(WAIT_MS);
        await this.req(ts.write(`${d.be}/online`, '0'));
        await this.req(ts.write(st, '5'));
        await this.agent(backend, backend.write(st, '6'));
        await this.waitState(w, st, '6');
        await this.req(w.unwatch());
      }
      await this.soft(ts.rm(d.be));
      await this.soft(ts.rm(d.fe));
      await this.soft(ts.rm(ldev));
    }
    for (const p of this.guestWatches.get(n) ?? []) await this.soft(guest.unwatch(p, `g${n}`));
    this.guestWatches.delete(n);
    await this.soft(ts.rm(`/local/domain/${n}`));
    await this.soft(ts.rm(`/vm/${uuidOf(n)}`));
    await this.soft(ts.rm(`/libxl/${n}`));
    try {
      await this.req(ts.release(n));
    } catch (e) {
      this.notes.add(`RELEASE refused: ${(e as Error).message}`);
    }
  }
}

interface Device {
  kind: 'console' | 'vbd' | 'vif';
  id: number;
  fe: string;
  be: string;
  feKeys: [string, string][];
  feRoKeys: [string, string][];
  beKeys: [string, string][];
  beFeatures: [string, string][];
  guestKeys: [string, string][];
  beConnected: [string, string][];
}

function devices(n: number): Device[] {
  const dom = `/local/domain/${n}`;
  const be = (kind: string, id: number) => `/local/domain/0/backend/${kind}/${n}/${id}`;
  const mac = `00:16:3e:${((n >> 16) & 0xff).toString(16).padStart(2, '0')}:${((n >> 8) & 0xff).toString(16).padStart(2, '0')}:${(n & 0xff).toString(16).padStart(2, '0')}`;
  return [
    {
      kind: 'console', id: 0, fe: `${dom}/console`, be: be('console', 0),
      feKeys: [['backend-id', '0']],
      feRoKeys: [['limit', '1048576'], ['type', 'xenconsoled'], ['output', 'pty'], ['tty', ''], ['port', '2'], ['ring-ref', String(0xfeffe - n)]],
      beKeys: [['frontend-id', String(n)], ['online', '1'], ['state', '1'], ['protocol', 'vt100']],
      beFeatures: [], guestKeys: [], beConnected: [],
    },
    {
      kind: 'vbd', id: 51712, fe: `${dom}/device/vbd/51712`, be: be('vbd', 51712),
      feKeys: [['backend-id', '0'], ['state', '1'], ['virtual-device', '51712'], ['device-type', 'disk'], ['trusted', '1']],
      feRoKeys: [],
      beKeys: [['params', `/dev/vg/guest-${n}`], ['script', '/etc/xen/scripts/block'], ['frontend-id', String(n)], ['online', '1'], ['removable', '0'], ['bootable', '1'], ['state', '1'], ['dev', 'xvda'], ['type', 'phy'], ['mode', 'w'], ['device-type', 'disk'], ['discard-enable', '1'], ['specification', 'xen']],
      beFeatures: [['feature-flush-cache', '1'], ['feature-discard', '1'], ['feature-persistent', '1'], ['feature-max-indirect-segments', '256'], ['multi-queue-max-queues', '2']],
      guestKeys: [['ring-ref', '8'], ['event-channel', '10'], ['protocol', 'x86_64-abi'], ['feature-persistent', '1']],
      beConnected: [['sectors', '20971520'], ['info', '0'], ['sector-size', '512'], ['physical-sector-size', '512']],
    },
    {
      kind: 'vif', id: 0, fe: `${dom}/device/vif/0`, be: be('vif', 0),
      feKeys: [['backend-id', '0'], ['state', '1'], ['handle', '0'], ['mac', mac], ['trusted', '1']],
      feRoKeys: [],
      beKeys: [['script', '/etc/xen/scripts/vif-bridge'], ['mac', mac], ['bridge', 'xenbr0'], ['handle', '0'], ['type', 'vif'], ['hotplug-status', ''], ['frontend-id', String(n)], ['online', '1'], ['state', '1']],
      beFeatures: [['feature-sg', '1'], ['feature-gso-tcpv4', '1'], ['feature-rx-copy', '1'], ['feature-split-event-channels', '1'], ['multi-queue-max-queues', '2']],
      guestKeys: [['tx-ring-ref', '9'], ['rx-ring-ref', '10'], ['event-channel', '11'], ['request-rx-copy', '1'], ['feature-rx-notify', '1'], ['feature-sg', '1'], ['feature-gso-tcpv4', '1']],
      beConnected: [],
    },
  ];
}

export interface StormResult {
  [k: string]: unknown;
  guests: number;
  toolstacks: number;
  boot_wall_s: number;
  teardown_wall_s: number;
  ms_per_guest_p50: number;
  ms_per_guest_first_decile: number;
  ms_per_guest_last_decile: number;
  requests_per_guest: number;
  eagain: number;
  eagain_per_guest: number;
  eagain_cross_guest: number;
  eagain_unexplained: number;
  rss_peak_mib: number | null;
  hwm_mib: number | null;
  errors: number;
  notes: string[];
}

/** One boot storm against one daemon: N guests, P toolstacks, then teardown. */
export async function bootStorm(
  d: Pick<Daemon, 'socket' | 'pid'>,
  guests: number,
  toolstacks: number,
  nameScan = true,
  firstDomid = 1,
  /** Called once every guest booted, before the teardown (a caller's measurements). */
  onBooted?: () => Promise<void>,
): Promise<StormResult> {
  const shared: Shared = { progress: 0, booted: 0 };
  const notes = new Set<string>();
  const conns: Conns[] = [];
  const open = async () => Client.connect({ path: d.socket, connectTimeoutMs: 20_000 });
  let rssPeak = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      rssPeak = Math.max(rssPeak, statusKb(d.pid, 'VmRSS') ?? 0);
      await sleep(25);
    }
  })();
  const stats: GuestStat[] = [];
  let errors = 0;
  let bootWall = 0;
  let tdWall = 0;
  try {
    for (let i = 0; i < toolstacks; i++) conns.push({ ts: await open(), backend: await open(), hotplug: await open(), guest: await open() });
    const tss = conns.map((c, i) => new Toolstack(i, c, shared, nameScan, notes));
    const mine = (i: number) => Array.from({ length: guests }, (_, k) => firstDomid + k).filter((_, k) => k % toolstacks === i);
    const t0 = performance.now();
    await Promise.all(
      tss.map(async (ts) => {
        for (const n of mine(ts.index)) {
          const e0 = ts.eagain;
          const u0 = ts.unexplained;
          const r0 = ts.requests;
          const start = performance.now();
          const present = shared.booted;
          try {
            await ts.boot(n);
          } catch (e) {
            errors++;
            notes.add(`boot of guest ${n} failed: ${(e as Error).message}`);
            if (errors > 20) throw e;
          }
          shared.booted++;
          stats.push({ domid: n, toolstack: ts.index, present, startMs: start - t0, ms: performance.now() - start, eagain: ts.eagain - e0, unexplained: ts.unexplained - u0, requests: ts.requests - r0 });
        }
      }),
    );
    bootWall = (performance.now() - t0) / 1000;
    await onBooted?.();
    const t1 = performance.now();
    await Promise.all(
      tss.map(async (ts) => {
        for (const n of mine(ts.index)) {
          try {
            await ts.teardown(n);
          } catch (e) {
            errors++;
            notes.add(`teardown of guest ${n} failed: ${(e as Error).message}`);
            if (errors > 40) throw e;
          }
        }
      }),
    );
    tdWall = (performance.now() - t1) / 1000;
  } finally {
    sampling = false;
    await sampler;
    for (const c of conns) for (const x of [c.ts, c.backend, c.hotplug, c.guest]) await x.close().catch(() => undefined);
  }
  // Time per guest against guests already present: by start order, first and last tenth.
  const byPresent = [...stats].sort((a, b) => a.present - b.present || a.startMs - b.startMs);
  const dec = Math.max(1, Math.floor(byPresent.length / 10));
  const ms = stats.map((s) => s.ms);
  const eagain = stats.reduce((a, s) => a + s.eagain, 0);
  const unexplained = stats.reduce((a, s) => a + s.unexplained, 0);
  const hwm = statusKb(d.pid, 'VmHWM');
  return {
    guests,
    toolstacks,
    name_scan: nameScan,
    boot_wall_s: round3(bootWall),
    teardown_wall_s: round3(tdWall),
    ms_per_guest_p50: round3(percentile(ms, 0.5)),
    ms_per_guest_p99: round3(percentile(ms, 0.99)),
    ms_per_guest_first_decile: round3(mean(byPresent.slice(0, dec).map((s) => s.ms))),
    ms_per_guest_last_decile: round3(mean(byPresent.slice(-dec).map((s) => s.ms))),
    requests_per_guest: Math.round(mean(stats.map((s) => s.requests))),
    eagain,
    eagain_per_guest: round3(eagain / Math.max(1, stats.length)),
    // Every EAGAIN is between different guests' requests (see the header comment).
    eagain_cross_guest: eagain,
    eagain_unexplained: unexplained,
    max_eagain_one_guest: Math.max(0, ...stats.map((s) => s.eagain)),
    rss_peak_mib: rssPeak ? round3(rssPeak / 1024) : null,
    hwm_mib: hwm === null ? null : round3(hwm / 1024),
    errors,
    notes: [...notes],
  };
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;
const mean = (xs: readonly number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
const percentile = (xs: readonly number[], q: number) => percentileSorted([...xs].sort((a, b) => a - b), q) ?? 0;

export const bootstorm: Workload = {
  name: 'bootstorm',
  title: 'Boot storm (libxl-faithful per-guest script)',
  implemented: true,
  smoke: true,
  async run(ctx: Ctx): Promise<WorkloadResult> {
    const s = ctx.settings;
    const { rows, runs } = collector();
    const notes = new Set<string>();
    const noteList: string[] = [];
    const W = 'bootstorm';
    const sizes = s.mode === 'smoke' ? [10] : s.mode === 'quick' ? [100] : [100, 1000];
    const parallel = s.mode === 'smoke' ? [1, 2] : [1, 8];
    // Boot storms are long: N = 100 gets the usual reps, N = 1,000 one run per daemon (quick/full).
    const repsFor = (n: number) => (n >= 1000 ? 1 : s.reps);
    for (const n of sizes) {
      for (const p of parallel) {
        const variant = `N=${n}, P=${p}`;
        const id = `bootstorm.n${n}.p${p}`;
        for (let rep = 0; rep < repsFor(n); rep++) {
          for (const d of rotated(live(ctx.daemons), rep)) {
            const r = await guarded(ctx, d, noteList, `${variant} rep ${rep}`, () => bootStorm(d, n, p));
            await settle(d.pid, { capMs: s.settleCapMs });
            if (!r) continue;
            for (const x of r.notes) notes.add(`${d.name}: ${x}`);
            runs.push({ workload: W, variant, daemon: d.name, rep, tool: 'ts', result: r });
            ctx.log(`  ${d.name.padEnd(5)} ${variant.padEnd(12)} rep ${rep}: boot ${r.boot_wall_s.toFixed(2)} s, ${r.ms_per_guest_first_decile.toFixed(1)} → ${r.ms_per_guest_last_decile.toFixed(1)} ms/guest, EAGAIN ${r.eagain} (unexplained ${r.eagain_unexplained}), teardown ${r.teardown_wall_s.toFixed(2)} s, RSS peak ${r.rss_peak_mib} MiB, errors ${r.errors}`);
            rows.add(`${id}.wall`, { workload: W, variant, metric: 'boot wall time s ↓', better: 'lower', digits: 2 }, d.name, r.boot_wall_s);
            rows.add(`${id}.first`, { workload: W, variant, metric: 'ms/guest, first 10 % of guests ↓', better: 'lower', digits: 1 }, d.name, r.ms_per_guest_first_decile);
            rows.add(`${id}.last`, { workload: W, variant, metric: 'ms/guest, last 10 % of guests ↓', better: 'lower', digits: 1 }, d.name, r.ms_per_guest_last_decile);
            rows.add(`${id}.eagain`, { workload: W, variant, metric: 'EAGAIN per guest ↓', better: 'lower', digits: 3 }, d.name, r.eagain_per_guest);
            rows.add(`${id}.xeagain`, { workload: W, variant, metric: 'EAGAIN between different guests, all runs', better: 'lower', agg: 'sum' }, d.name, r.eagain_cross_guest);
            rows.add(`${id}.teardown`, { workload: W, variant, metric: 'teardown wall time s ↓', better: 'lower', digits: 2 }, d.name, r.teardown_wall_s);
            rows.add(`${id}.rss`, { workload: W, variant, metric: 'peak RSS MiB ↓', better: 'lower', digits: 1, agg: 'max' }, d.name, r.rss_peak_mib);
            rows.add(`${id}.requests`, { workload: W, variant, metric: 'requests per guest', better: 'none', hidden: true }, d.name, r.requests_per_guest);
            rows.add(`${id}.unexplained`, { workload: W, variant, metric: 'EAGAIN with no other progress, all runs', better: 'lower', agg: 'sum', hidden: true }, d.name, r.eagain_unexplained);
            rows.add(`${id}.errors`, { workload: W, variant, metric: 'errors, all runs', better: 'lower', agg: 'sum' }, d.name, r.errors);
          }
        }
      }
    }
    const all = rows.list(ctx.daemons.map((d) => d.name));
    return {
      name: W,
      title: this.title,
      params: {
        guests: sizes, toolstacks: parallel, reps_n100: repsFor(100), reps_n1000: repsFor(1000), guest: 'PV, console + 1 vbd + 1 vif, 2 vCPUs',
        name_scan: true, name_scan_pipelined: true, connections_per_toolstack: 4, tool: 'ts (src/client)',
      },
      rows: all.filter((r) => !r.id.endsWith('.errors') || Object.values(r.values).some((v) => (v ?? 0) > 0)),
      runs,
      notes: [...noteList, ...notes],
    };
  },
};
