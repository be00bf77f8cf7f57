/**
 * XenBackend's logic with a fake of the Xen libraries (no hypervisor, no xensim): INTRODUCE,
 * dispatch by port, VIRQ_DOM_EXC (shutdown, dying, gone), reconnection, RELEASE, close.
 */

import { describe, expect, it } from 'vitest';
import type { Transport } from '../../src/transport/transport.js';
import { XenBackend, type XenDaemonHooks } from '../../src/xen/backend.js';
import type { DomainState, KoffiModule, XenLibs } from '../../src/xen/libs.js';
import { GuestRing, XENSTORE_RECONNECT } from '../../src/xen/ring.js';
import type { RingPeer } from '../../src/xen/ringTransport.js';

const VIRQ_PORT = 1;
const WAKE_LOCAL = 2;

/** The libraries, faked: pages are SharedArrayBuffers, ports fire through fire(). */
class FakeXen implements XenLibs {
  readonly koffi = null as unknown as KoffiModule;
  readonly xce = 1n;
  private nextPort = 10;
  readonly bound = new Map<number, { domid: number; remote: number }>();
  readonly notified: number[] = [];
  readonly unmapped: bigint[] = [];
  private readonly memory = new Map<bigint, SharedArrayBuffer>();
  readonly pageOf = new Map<number, SharedArrayBuffer>();
  readonly info = new Map<number, DomainState | null>();
  private waiter: ((err: unknown, port: number) => void) | null = null;
  private readonly queue: number[] = [];
  private wakePeer = -1;
  closed = false;

  evtchnFd(): number {
    return -1;
  }
  bindInterdomain(domid: number, remote: number): number {
    const p = this.nextPort++;
    if (domid === 0 && remote === WAKE_LOCAL) this.wakePeer = p;
    this.bound.set(p, { domid, remote });
    return p;
  }
  bindVirq(): number {
    return VIRQ_PORT;
  }
  bindUnboundPort(): number {
    return WAKE_LOCAL;
  }
  notify(port: number): number {
    this.notified.push(port);
    if (port === WAKE_LOCAL) this.fire(this.wakePeer);
    return 0;
  }
  unmask(): number {
    return 0;
  }
  unbind(port: number): number {
    this.bound.delete(port);
    return 0;
  }
  pendingAsync(cb: (err: unknown, port: number) => void): void {
    const p = this.queue.shift();
    if (p !== undefined) setImmediate(() => cb(null, p));
    else this.waiter = cb;
  }
  pending(): number {
    return this.queue.shift() ?? -1;
  }
  readable(): boolean {
    return this.queue.length > 0;
  }
  mapGuestPage(domid: number): { addr: bigint; how: 'grant' | 'foreign' } {
    if (this.info.get(domid) === null) throw new Error(`no domain ${domid}`);
    const sab = new SharedArrayBuffer(4096);
    const addr = BigInt(0x1000 * (domid + 1));
    this.memory.set(addr, sab);
    this.pageOf.set(domid, sab);
    return { addr, how: 'grant' };
  }
  unmapGuestPage(addr: bigint): void {
    this.unmapped.push(addr);
  }
  mmapFd(): bigint {
    throw new Error('no /proc/xen here');
  }
  view(addr: bigint): ArrayBuffer {
    return this.memory.get(addr) as unknown as ArrayBuffer;
  }
  getDomainInfo(domid: number): DomainState | null {
    const i = this.info.get(domid);
    return i === undefined ? { domid, dying: false, shutdown: false, shutdownReason: 0 } : i;
  }
  errno(): number {
    return 0;
  }
  close(): void {
    this.closed = true;
  }

  /** A port fires (as the hypervisor would deliver it). */
  fire(port: number): void {
    const w = this.waiter;
    if (w !== null) {
      this.waiter = null;
      setImmediate(() => w(null, port));
    } else this.queue.push(port);
  }

  localPortOf(domid: number): number {
    for (const [p, b] of this.bound) if (b.domid === domid && b.remote !== WAKE_LOCAL) return p;
    return -1;
  }
}

class Peer implements RingPeer {
  data: Buffer[] = [];
  closed = false;
  constructor(
    readonly t: Transport,
    readonly domid: number,
  ) {}
  onData(chunk: Buffer): void {
    this.data.push(Buffer.from(chunk));
    // answer with the bytes reversed: something to read on rsp[]
    this.t.write(Buffer.from(chunk).reverse());
  }
  drained(): void {}
  close(): void {
    this.closed = true;
  }
}

function setup(): { xen: FakeXen; b: XenBackend; peers: Peer[]; released: number[]; shut: number[] } {
  const xen = new FakeXen();
  const peers: Peer[] = [];
  const released: number[] = [];
  const shut: number[] = [];
  let b: XenBackend | null = null;
  const hooks: XenDaemonHooks = {
    connect: (t, domid) => {
      const p = new Peer(t, domid);
      peers.push(p);
      return p;
    },
    release: (domid) => {
      released.push(domid);
      b?.release(domid);
    },
    shutdown: (domid) => shut.push(domid),
  };
  b = new XenBackend(hooks, { features: true, libs: xen, dom0: false });
  return { xen, b, peers, released, shut };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await tick();
}

describe('XenBackend (fake Xen libraries)', () => {
  it('INTRODUCE maps, binds, resets and serves; an event reaches that domain only', async () => {
    const { xen, b, peers } = setup();
    for (let d = 1; d <= 50; d++) b.introduce(d, String(d), 7, true);
    expect(b.domains.length).toBe(50);
    expect(peers.length).toBe(50);
    const g = new GuestRing(xen.pageOf.get(33)!);
    expect(g.serverFeatures).toBe(3);
    g.write(Buffer.from('hello'));
    xen.fire(xen.localPortOf(33));
    await settle();
    expect(peers.filter((p) => p.data.length > 0).map((p) => p.domid)).toEqual([33]);
    expect(g.read()).toEqual(Buffer.from('olleh'));
    await b.close();
  });

  it('drains every port already waiting after one wake-up', async () => {
    const { xen, b, peers } = setup();
    for (let d = 1; d <= 8; d++) b.introduce(d, String(d), 7, true);
    for (let d = 1; d <= 8; d++) {
      new GuestRing(xen.pageOf.get(d)!).write(Buffer.from(`m${d}`));
      xen.fire(xen.localPortOf(d));
    }
    await settle();
    expect(peers.every((p) => p.data.length === 1)).toBe(true);
    expect(b.stats.events).toBe(8);
    await b.close();
  });

  it('VIRQ_DOM_EXC: shutdown fires once, dying and vanished domains are released', async () => {
    const { xen, b, released, shut } = setup();
    for (const d of [4, 5, 6]) b.introduce(d, String(d), 7, true);
    xen.info.set(4, { domid: 4, dying: false, shutdown: true, shutdownReason: 0 });
    xen.fire(VIRQ_PORT);
    await settle();
    xen.fire(VIRQ_PORT);
    await settle();
    expect(shut).toEqual([4]);
    expect(released).toEqual([]);
    xen.info.set(5, { domid: 5, dying: true, shutdown: true, shutdownReason: 3 });
    xen.info.set(6, null);
    xen.fire(VIRQ_PORT);
    await settle();
    expect(released).toEqual([5, 6]);
    expect(b.domains).toEqual([4]);
    expect(xen.unmapped.length).toBe(2);
    await b.close();
  });

  it('a reconnection request: old connection closed, ring reset, a new one, CONNECTED', async () => {
    const { xen, b, peers } = setup();
    b.introduce(9, '9', 7, true);
    const g = new GuestRing(xen.pageOf.get(9)!);
    g.write(Buffer.from('half a message'));
    g.connection = XENSTORE_RECONNECT;
    xen.fire(xen.localPortOf(9));
    await settle();
    expect(peers.length).toBe(2);
    expect(peers[0].closed).toBe(true);
    expect(peers[0].data).toEqual([]);
    expect(g.connection).toBe(0);
    g.write(Buffer.from('again'));
    xen.fire(xen.localPortOf(9));
    await settle();
    expect(peers[1].data).toEqual([Buffer.from('again')]);
    await b.close();
  });

  it('RELEASE unbinds and unmaps; a port firing afterwards is ignored', async () => {
    const { xen, b, peers } = setup();
    b.introduce(12, '12', 7, true);
    const port = xen.localPortOf(12);
    b.release(12);
    expect(xen.bound.has(port)).toBe(false);
    expect(xen.unmapped.length).toBe(1);
    expect(peers[0].closed).toBe(true);
    xen.fire(port);
    await settle();
    expect(b.stats.spurious).toBe(1);
    await b.close();
    expect(xen.closed).toBe(true);
  });

  it('INTRODUCE of a domain that cannot be mapped throws and leaves nothing', () => {
    const { xen, b } = setup();
    xen.info.set(77, null);
    expect(() => b.introduce(77, '77', 7, true)).toThrow(/no domain 77/);
    expect(b.domains).toEqual([]);
    void b.close();
  });
});
