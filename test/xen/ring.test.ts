/**
 * The ring protocol (src/xen/ring.ts) and the ring transport (src/xen/ringTransport.ts) over
 * a plain SharedArrayBuffer: no hypervisor, no daemon.
 */

import { describe, expect, it } from 'vitest';
import {
  GuestRing,
  RingIndexError,
  XENSTORE_ERROR_PROTO,
  XENSTORE_ERROR_RINGIDX,
  XENSTORE_RING_SIZE,
  XenstoreRing,
} from '../../src/xen/ring.js';
import { RingTransport } from '../../src/xen/ringTransport.js';

function page(): { mem: SharedArrayBuffer; server: XenstoreRing; guest: GuestRing } {
  const mem = new SharedArrayBuffer(4096);
  return { mem, server: new XenstoreRing(mem), guest: new GuestRing(mem) };
}

function msg(type: number, req: number, payload: Buffer | string, len?: number): Buffer {
  const p = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const h = Buffer.alloc(16);
  h.writeUInt32LE(type, 0);
  h.writeUInt32LE(req, 4);
  h.writeUInt32LE(0, 8);
  h.writeUInt32LE(len ?? p.length, 12);
  return Buffer.concat([h, p]);
}

/** A connection stand-in: records input, echoes nothing. */
class FakeConn {
  input: Buffer[] = [];
  drains = 0;
  closed = false;
  onData(chunk: Buffer): void {
    this.input.push(Buffer.from(chunk));
  }
  drained(): void {
    this.drains++;
  }
  close(): void {
    this.closed = true;
  }
  get all(): Buffer {
    return Buffer.concat(this.input);
  }
}

describe('XenstoreRing', () => {
  it('reads what the guest wrote, wrapping at the end, from any starting index', () => {
    for (const start of [0, 1000, 1023, 0xfffffff0, 0x7ffffffe]) {
      const { server, guest } = page();
      for (let s = 0; s < 4; s++) guest.setIndex(s as 0 | 1 | 2 | 3, start);
      const data = Buffer.from(Array.from({ length: 700 }, (_, i) => i & 0xff));
      let got = Buffer.alloc(0);
      for (let round = 0; round < 5; round++) {
        expect(guest.write(data)).toBe(700);
        const r = server.read();
        expect(r).not.toBeNull();
        got = Buffer.concat([got, r!]);
      }
      expect(got).toEqual(Buffer.concat([data, data, data, data, data]));
      expect(server.read()).toBeNull();
    }
  });

  it('writes responses only as far as the guest consumed (flow control)', () => {
    const { server, guest } = page();
    const big = Buffer.alloc(3000, 7);
    let off = server.write(big);
    expect(off).toBe(XENSTORE_RING_SIZE);
    expect(server.write(big, off)).toBe(0);
    expect(server.responseRoom()).toBe(0);
    const seen: Buffer[] = [guest.read()!];
    off += server.write(big, off);
    seen.push(guest.read()!);
    off += server.write(big, off);
    seen.push(guest.read()!);
    expect(off).toBe(3000);
    expect(Buffer.concat(seen)).toEqual(big);
  });

  it('impossible indexes (XSA-38) throw RingIndexError and touch nothing', () => {
    const { server, guest } = page();
    guest.setIndex(1, 0x80000000); // req_prod 2^31 ahead of req_cons 0
    expect(() => server.read()).toThrow(RingIndexError);
    expect(server.indexes()[0]).toBe(0);
    guest.setIndex(1, 0);
    guest.setIndex(3, 5000); // the guest wrote rsp_prod
    expect(() => server.write(Buffer.from('x'))).toThrow(RingIndexError);
    guest.setIndex(3, 0);
    guest.setIndex(2, 1); // rsp_cons past rsp_prod
    expect(() => server.responseRoom()).toThrow(RingIndexError);
  });

  it('reset() zeroes the four indexes; the fields are 32-bit words at 2064..2076', () => {
    const { mem, server } = page();
    const u32 = new Uint32Array(mem, 2048, 8);
    u32.set([5, 9, 3, 4]);
    server.reset();
    expect([...u32.subarray(0, 4)]).toEqual([0, 0, 0, 0]);
    server.serverFeatures = 3;
    server.error = XENSTORE_ERROR_PROTO;
    server.connection = 0;
    expect([u32[4], u32[5], u32[6]]).toEqual([3, 0, 3]);
  });
});

describe('RingTransport', () => {
  function setup(): { server: XenstoreRing; guest: GuestRing; t: RingTransport; conn: FakeConn; notes: number[]; broken: number[] } {
    const { server, guest } = page();
    const notes: number[] = [];
    const broken: number[] = [];
    const t = new RingTransport(server, () => notes.push(1), (code) => broken.push(code));
    const conn = new FakeConn();
    t.conn = conn;
    return { server, guest, t, conn, notes, broken };
  }

  it('hands a request split in pieces to the connection, notifying once per step', () => {
    const { guest, t, conn, notes } = setup();
    const m = msg(2, 1, 'a/b\0');
    for (const piece of [m.subarray(0, 3), m.subarray(3, 17), m.subarray(17)]) {
      guest.write(piece);
      t.service();
    }
    expect(conn.all).toEqual(m);
    expect(notes.length).toBe(3);
    t.service(); // spurious: nothing new, no notification
    expect(notes.length).toBe(3);
  });

  it('queues output beyond the ring and drains as the guest consumes', () => {
    const { guest, t, conn } = setup();
    const out = Buffer.alloc(2500, 1);
    t.write(out);
    expect(t.pending).toBe(2500 - 1024);
    const got = [guest.read()!];
    t.service();
    expect(conn.drains).toBe(1);
    got.push(guest.read()!);
    t.service();
    got.push(guest.read()!);
    expect(t.pending).toBe(0);
    expect(Buffer.concat(got)).toEqual(out);
  });

  it('tells the connection drained() once output fitted on the ring (the outstanding count)', async () => {
    const { t, conn } = setup();
    t.write(Buffer.from('reply'));
    expect(t.pending).toBe(0);
    expect(conn.drains).toBe(0); // not from inside the request
    await new Promise((r) => setImmediate(r));
    expect(conn.drains).toBe(1);
  });

  it('stops reading requests while paused and goes on after resume', async () => {
    const { guest, t, conn } = setup();
    t.pause();
    guest.write(msg(2, 1, 'x\0'));
    t.service();
    expect(conn.input.length).toBe(0);
    t.resume();
    await new Promise((r) => setImmediate(r));
    expect(conn.input.length).toBe(1);
  });

  it('a length over 4096 marks the ring broken (PROTO) before the connection sees it', () => {
    const { server, guest, t, conn, broken } = setup();
    guest.write(msg(11, 1, 'x\0y', 5000));
    t.service();
    expect(broken).toEqual([XENSTORE_ERROR_PROTO]);
    expect(server.error).toBe(XENSTORE_ERROR_PROTO);
    expect(conn.closed).toBe(true);
    expect(conn.input.length).toBe(0);
    // ignored from now on
    guest.write(msg(2, 2, 'x\0'));
    t.service();
    expect(conn.input.length).toBe(0);
  });

  it('bad indexes mark the ring broken (RINGIDX); writes are then dropped', () => {
    const { server, guest, t, conn, broken } = setup();
    guest.setIndex(1, 0x80000000);
    t.service();
    expect(broken).toEqual([XENSTORE_ERROR_RINGIDX]);
    expect(server.error).toBe(XENSTORE_ERROR_RINGIDX);
    expect(conn.closed).toBe(true);
    t.write(Buffer.from('late'));
    expect(t.pending).toBe(0);
  });

  it('a close by the daemon (release, shutdown) is not an error', async () => {
    const { server, t, broken } = setup();
    t.close();
    await Promise.resolve();
    expect(server.error).toBe(0);
    expect(broken).toEqual([]);
  });
});
