"""Guest scenarios for test/xen: simulated guests (../shared/xensim/xensim.py) talking to a
xenstore daemon over their ring pages, the toolstack's part over the daemon's socket.

    python3 guest.py SCENARIO --xensim DIR/of/xensim.py --dir XENSIM_DIR --socket SOCKET --domid N

Prints one JSON object (the scenario's observations) on stdout. Deterministic output, so
that the same scenario against xsgit and against the C daemon can be compared (the
`script` scenario is the differential one). Run with Debian's /usr/bin/python3.
"""

import argparse
import json
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("scenario")
    ap.add_argument("--xensim", required=True, help="directory of xensim.py")
    ap.add_argument("--dir", required=True)
    ap.add_argument("--socket", required=True)
    ap.add_argument("--domid", type=int, required=True)
    ap.add_argument("--guests", type=int, default=1, help="bench: active guests")
    ap.add_argument("--idle", type=int, default=0, help="bench: idle guests beside them")
    ap.add_argument("--secs", type=float, default=3.0, help="bench: seconds")
    a = ap.parse_args()
    sys.path.insert(0, a.xensim)
    import xensim  # noqa: E402

    global X
    X = xensim
    hv = xensim.Hypervisor(a.dir)
    if a.scenario == "bench":
        out = bench(hv, a.socket, a.domid, a.guests, a.secs, a.idle)
    else:
        out = SCENARIOS[a.scenario](hv, a.socket, a.domid)
    print(json.dumps(out))


X = None


def rec(reply):
    t, p = reply
    return [X.op_name(t), p.decode("latin-1")]


def guest(hv, sock, domid):
    g = hv.create_domain(domid)
    hv.introduce(domid, sock)
    g.connect()
    return g


def script(hv, sock, domid):
    """The differential script: one guest's requests and the events it sees; a second
    guest for a transaction conflict and permissions. Everything recorded."""
    other = domid + 1
    g = guest(hv, sock, domid)
    h = guest(hv, sock, other)
    home = f"/local/domain/{domid}"
    log = []

    def req(who, op, *items, tx=0, raw=None):
        payload = raw if raw is not None else X.args(*items)
        log.append([who.domid - domid, op if isinstance(op, str) else str(op), *items, rec(who.request(op, payload, tx))])

    def events(who):
        log.append(["events", who.domid - domid, sorted(who.watch_events(timeout=0.3))])

    req(g, "GET_DOMAIN_PATH", str(domid))
    req(g, "WRITE", raw=b"name\0guest")
    req(g, "READ", "name")
    req(g, "READ", f"{home}/name")
    req(g, "READ", f"{home}/missing")
    req(g, "MKDIR", "device/vif/0")
    req(g, "DIRECTORY", "device")
    req(g, "GET_PERMS", "device/vif/0")
    req(g, "SET_PERMS", "device/vif/0", f"n{domid}", f"r{other}")
    req(g, "GET_PERMS", "device/vif/0")
    req(g, "READ", "/local/domain/0")
    req(g, "WRITE", raw=b"/tool/x\0nope")
    req(g, "WATCH", "device", "tok")
    events(g)
    req(g, "WRITE", raw=b"device/vif/0/state\x004")
    events(g)
    req(h, "READ", f"{home}/device/vif/0")
    req(h, "WRITE", raw=f"{home}/device/vif/0/x\0y".encode())
    # a value that makes the request and its reply wrap around both rings several times
    big = bytes((i * 7) % 251 + 1 for i in range(2000))
    req(g, "WRITE", raw=b"big\0" + big)
    t, p = g.request("READ", X.args("big"))
    log.append(["read big", X.op_name(t), p == big])
    # a transaction, and a conflicting one by the other guest
    t1 = g.transaction_start()
    req(g, "WRITE", raw=b"txn/a\x001", tx=t1)
    req(g, "READ", "txn/a", tx=t1)
    req(g, "READ", "txn/a")
    req(g, "TRANSACTION_END", "T", tx=t1)
    req(g, "READ", "txn/a")
    t2 = g.transaction_start()
    req(g, "READ", "name", tx=t2)
    req(g, "WRITE", raw=b"name\0new", tx=t2)
    g2 = g.request("WRITE", b"name\0racing")
    log.append(["racing write", rec(g2)])
    req(g, "TRANSACTION_END", "T", tx=t2)
    req(g, "TRANSACTION_END", "T", tx=12345)
    req(g, "RM", "txn")
    req(g, "UNWATCH", "device", "tok")
    req(g, "WRITE", raw=b"device/z\0z")
    events(g)
    # garbage: unknown message types, a missing NUL, an empty path
    req(g, 9999, raw=b"x\0")
    req(g, "READ", raw=b"name")
    req(g, "READ", raw=b"\0")
    req(g, "INTRODUCE", "7", "7", "1")
    req(g, "RELEASE", str(other))
    req(g, "READ", "name")
    g.close()
    h.close()
    return {"log": log}


def wrap(hv, sock, domid):
    """Requests and replies of every size around the ring's end; split writes."""
    g = guest(hv, sock, domid)
    ok = 0
    sizes = list(range(0, 40)) + [500, 1000, 1008, 1009, 1023, 1024, 1025, 1500, 1800]
    for n in sizes:
        val = bytes((n + i) % 250 + 1 for i in range(n))
        g.write("v", val)
        if g.read("v") == val:
            ok += 1
    # a full 4096-byte payload (over the node-size quota: refused, but read whole)
    t, p = g.request("WRITE", b"v\0" + b"z" * 4094)
    full = [X.op_name(t), p.decode()]
    # a request written byte by byte, notifying after each
    msg = X.HEADER.pack(X.OPS["READ"], 777, 0, 2) + b"v\0"
    for i in range(len(msg)):
        while g._ring_write(msg[i:i + 1]) == 0:
            time.sleep(0.001)
        g.notify()
    t, r, _tx, p = g.recv()
    return {"ok": ok, "total": len(sizes), "full": full, "bytewise": [X.op_name(t), r, len(p)], "stats": dict(g.stats),
            "error": g.error}


def no_consume(hv, sock, domid):
    """Guest `domid` writes requests and never reads its response ring; guest domid+1 and
    dom0 must go on as usual."""
    bad = guest(hv, sock, domid)
    bad.write("v", b"x" * 900)
    sent = 0
    t0 = time.monotonic()
    while time.monotonic() - t0 < 3 and sent < 400:
        msg = X.HEADER.pack(X.OPS["READ"], sent, 0, 2) + b"v\0"
        if bad._ring_write(msg) == 0:
            bad.notify()
            time.sleep(0.01)
            if bad._ring_write(msg) == 0:
                break
        bad.notify()
        sent += 1
    good = guest(hv, sock, domid + 1)
    lat = []
    for i in range(50):
        s = time.monotonic()
        good.write("k", str(i))
        lat.append(time.monotonic() - s)
    with X.SocketClient(sock) as c:
        c.write("/tool/alive", b"yes")
        alive = c.read("/tool/alive").decode()
    state = bad.ring_state()
    hv.destroy_domain(domid)
    time.sleep(0.3)
    with X.SocketClient(sock) as c:
        introduced = c.is_domain_introduced(domid)
    return {"sent": sent, "goodMaxLatency": max(lat), "alive": alive, "badState": state,
            "introducedAfterDestroy": introduced}


def bad_ring(kind):
    def run(hv, sock, domid):
        bad = guest(hv, sock, domid)
        bad.write("before", b"1")
        if kind == "req-index":
            # XSA-38: a producer index 2^31 ahead of the consumer
            cons = bad._get(X.REQ_CONS)
            bad._set(X.REQ_PROD, cons + (1 << 31))
            bad.notify()
        elif kind == "rsp-index":
            # the guest writes the response ring's producer index (a server-only field)
            bad._set(X.RSP_PROD, bad._get(X.RSP_CONS) + 5000)
            bad.send("READ", X.args("before"), req_id=9)
        elif kind == "rsp-data":
            # the guest scribbles over the response ring's bytes (harmless to the daemon)
            bad.page[X.RSP:X.RSP + 1024] = b"\xff" * 1024
            bad.notify()
        elif kind == "too-long":
            bad.send("WRITE", b"x\0y", raw_len=5000)
        elif kind == "garbage":
            bad.page[X.REQ:X.REQ + 1024] = bytes((i * 37) & 0xFF for i in range(1024))
            bad._set(X.REQ_PROD, bad._get(X.REQ_CONS) + 1024)
            bad.notify()
        deadline = time.monotonic() + (1 if kind == "rsp-data" else 3)
        while bad.error == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        error = bad.error
        alive = None
        if kind == "rsp-data":
            alive = bad.read("before").decode()
        good = guest(hv, sock, domid + 1)
        good.write("k", b"v")
        ok = good.read("k").decode()
        with X.SocketClient(sock) as c:
            c.write("/tool/alive", b"yes")
            introduced = c.is_domain_introduced(domid)
        return {"error": error, "other": ok, "badStillIntroduced": introduced, "alive": alive}
    return run


def dies_mid_transaction(hv, sock, domid):
    """A guest opens a transaction and dies: @releaseDomain fires (VIRQ_DOM_EXC), its nodes
    go, and others are unaffected."""
    other = guest(hv, sock, domid + 1)
    g = guest(hv, sock, domid)
    g.write("kept", b"1")
    tx = g.transaction_start()
    g.write("intx", b"2", tx)
    with X.SocketClient(sock) as c:
        c.watch("@releaseDomain", "rel")
        c.request("READ", X.args("/"))  # collect the initial event
        c.events.clear()
        hv.destroy_domain(domid)
        deadline = time.monotonic() + 5
        got = False
        while not got and time.monotonic() < deadline:
            c.sock.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                t, _r, _tx, p = c._recv_msg()
            except OSError:
                break
            if t == X.OPS["WATCH_EVENT"] and p.startswith(b"@releaseDomain"):
                got = True
        home = c.request("READ", X.args(f"/local/domain/{domid}"))
        introduced = c.is_domain_introduced(domid)
    other.write("still", b"here")
    return {"releaseEvent": got, "home": rec(home), "introduced": introduced,
            "other": other.read("still").decode()}


def shutdown(hv, sock, domid):
    """A guest shuts down (not yet dying): @releaseDomain fires once; it stays introduced."""
    g = guest(hv, sock, domid)
    g.write("x", b"1")
    with X.SocketClient(sock) as c:
        c.watch("@releaseDomain", "rel")
        c.request("READ", X.args("/"))
        c.events.clear()
        hv.shutdown_domain(domid, "poweroff")
        time.sleep(0.5)
        c.request("READ", X.args("/"))
        n = sum(1 for e in c.events if e[0] == "@releaseDomain")
        introduced = c.is_domain_introduced(domid)
    hv.destroy_domain(domid)
    time.sleep(0.3)
    with X.SocketClient(sock) as c:
        after = c.is_domain_introduced(domid)
    return {"events": n, "introducedWhileShutdown": introduced, "introducedAfterDestroy": after}


def reconnect(hv, sock, domid):
    """The guest asks to reconnect: its watches and transactions go, the ring is reset, the
    connection goes on."""
    g = guest(hv, sock, domid)
    features = g.server_features
    g.write("w", b"0")
    g.watch("w", "tok")
    g.wait_watch()
    tx = g.transaction_start()
    g.write("intx", b"1", tx)
    # leave a half-written request on the ring: it must be dropped
    g._ring_write(X.HEADER.pack(X.OPS["READ"], 55, 0, 10) + b"abc")
    if features & X.FEATURE_RECONNECTION:
        g.reconnect()
        how = "feature"
    else:
        g.reconnect(wait=False)
        with X.SocketClient(sock) as c:
            c.introduce(domid, hv.store_mfn(domid), hv.store_port(domid))
        g.wait_connected()
        how = "introduce"
    state = g.ring_state()
    end = g.request("TRANSACTION_END", X.args("T"), tx)
    with X.SocketClient(sock) as c:
        c.write(f"/local/domain/{domid}/w", b"1")
    g.write("after", b"ok")
    events = g.watch_events(timeout=0.3)
    return {"how": how,
            "connection": state["connection"], "txEnd": rec(end), "events": events,
            "after": g.read("after").decode(), "intx": rec(g.request("READ", X.args("intx")))}


def dom0_ring(hv, sock, domid):
    """dom0's own ring (/proc/xen/xsd_kva): a privileged connection."""
    d0 = hv.domain(0)
    d0.connect()
    d0.write("/tool/fromring", b"dom0")
    r = d0.read("/tool/fromring").decode()
    g = hv.create_domain(domid)
    d0.mkdir(f"/local/domain/{domid}")
    d0.introduce(domid, hv.store_mfn(domid), hv.store_port(domid))
    intro = d0.is_domain_introduced(domid)
    d0.close()
    return {"read": r, "introduced": intro}


def many(hv, sock, domid):
    """8 guests in turn and interleaved; each sees only its own replies."""
    gs = [guest(hv, sock, domid + i) for i in range(8)]
    for rnd in range(20):
        for i, g in enumerate(gs):
            g.send("WRITE", f"k\0{rnd}-{i}".encode(), req_id=rnd)
        for i, g in enumerate(gs):
            t, r, _tx, _p = g.recv()
            assert X.op_name(t) == "WRITE" and r == rnd, (t, r)
    vals = [g.read("k").decode() for g in gs]
    return {"vals": vals}


def bench(hv, sock, domid, guests=1, secs=3.0, idle=0):
    """Ring throughput: `guests` guests in lock step (each sends a READ or a WRITE, then each
    takes its reply), for `secs` seconds, beside `idle` introduced guests that say nothing.
    Returns requests/s and the median and 99th percentile round-trip time (microseconds) of
    the lock-step rounds."""
    for i in range(idle):
        hv.create_domain(domid + 1000 + i)
        hv.introduce(domid + 1000 + i, sock)
    gs = [guest(hv, sock, domid + i) for i in range(guests)]
    for g in gs:
        g.write("k", b"0")
    n = 0
    rounds = []
    end = time.monotonic() + secs
    while time.monotonic() < end:
        t0 = time.perf_counter()
        for i, g in enumerate(gs):
            if n & 1:
                g.send("READ", b"k\0", req_id=n)
            else:
                g.send("WRITE", b"k\0v", req_id=n)
        for g in gs:
            g.recv()
        rounds.append((time.perf_counter() - t0) * 1e6)
        n += 1
    rounds.sort()
    return {"ops_per_s": n * guests / secs, "round_us_p50": rounds[len(rounds) // 2],
            "round_us_p99": rounds[int(len(rounds) * 0.99)], "rounds": n}


SCENARIOS = {
    "script": script,
    "wrap": wrap,
    "no-consume": no_consume,
    "req-index": bad_ring("req-index"),
    "rsp-index": bad_ring("rsp-index"),
    "rsp-data": bad_ring("rsp-data"),
    "too-long": bad_ring("too-long"),
    "garbage": bad_ring("garbage"),
    "dies-mid-transaction": dies_mid_transaction,
    "shutdown": shutdown,
    "reconnect": reconnect,
    "dom0-ring": dom0_ring,
    "many": many,
    "bench": bench,
}

if __name__ == "__main__":
    main()
