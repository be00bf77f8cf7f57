"""A guest kernel's xenbus device for tests: each simulated guest's ring (xensim) exposed
as a Unix socket, as Linux's /dev/xen/xenbus (drivers/xen/xenbus/xenbus_dev_frontend.c)
exposes a guest's one ring to any number of user-space openers. The guest-facing suites
(test/domains, test/xsa) then run over rings: what a client writes on DIR/<domid>/socket
goes onto the domain's request ring, what the daemon answers comes back to that client.

    python3 relay.py --xensim DIR/of/xensim.py --dir XENSIM_DIR --sockets DIR

Commands on stdin, one per line, each answered on stdout:
    create DOMID   -> "ok MFN PORT"  (the domain exists afterwards; reused if it did)
    attach DOMID   -> "ok"           (map its ring, listen on DIR/DOMID/socket; again after a
                                      re-INTRODUCE: the daemon reset the ring)
    quit

Many clients share one ring, as in the Linux driver: each client's whole messages are
queued in turn (never interleaved), req_ids are the relay's own and mapped back, watch
tokens get a "<client>|" prefix so that events go to their client (and lose it), and a
client that goes away has its transactions ended (F) and its watches removed. A client
sending a length over 4096 is disconnected without anything reaching the ring (the Linux
driver refuses such a write). When the daemon gives up on the ring (`error` set), every
client is disconnected.
"""

import argparse
import os
import select
import socket
import struct
import sys

OUT_MAX = 1 << 20
HDR = struct.Struct("<IIII")
PAYLOAD_MAX = 4096
WATCH, UNWATCH, TX_START, TX_END, WATCH_EVENT, ERROR = 4, 5, 6, 7, 15, 16


class Client:
    def __init__(self, cid, sock):
        self.cid = cid
        self.sock = sock
        self.inbuf = bytearray()
        self.out = bytearray()
        self.watches = set()    # (path, token) as the daemon knows them (prefixed token)
        self.txs = set()


class Dom:
    def __init__(self, hv, domid, sockdir):
        self.domid = domid
        self.g = X.Guest(hv, domid).connect()
        self.fd = self.g.evtchn.fd()
        path = os.path.join(sockdir, str(domid))
        os.makedirs(path, exist_ok=True)
        self.path = os.path.join(path, "socket")
        if os.path.exists(self.path):
            os.unlink(self.path)
        self.ls = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.ls.bind(self.path)
        self.ls.listen(128)
        self.ls.setblocking(False)
        self.clients = {}       # cid -> Client
        self.to_ring = bytearray()
        self.rx = bytearray()   # response bytes not yet a whole message
        self.pending = {}       # relay req_id -> (client or None, req_id, type, tx_id)
        self.next_req = 0

    def reset(self):
        self.to_ring.clear()
        self.rx.clear()
        self.pending.clear()
        for c in self.clients.values():
            c.watches.clear()
            c.txs.clear()

    def backed_up(self):
        return any(len(c.out) >= OUT_MAX for c in self.clients.values())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--xensim", required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--sockets", required=True)
    a = ap.parse_args()
    sys.path.insert(0, a.xensim)
    global X
    import xensim
    X = xensim
    hv = xensim.Hypervisor(a.dir)
    doms = {}
    poller = select.poll()
    by_fd = {}
    cids = [0]

    def reg(fd, what, events=select.POLLIN):
        by_fd[fd] = what
        poller.register(fd, events)

    def unreg(fd):
        by_fd.pop(fd, None)
        try:
            poller.unregister(fd)
        except KeyError:
            pass

    reg(sys.stdin.fileno(), ("stdin", None, None))

    def enqueue(d, client, typ, req, tx, payload):
        d.next_req = (d.next_req + 1) & 0xFFFFFFFF or 1
        d.pending[d.next_req] = (client, req, typ, tx, payload)
        d.to_ring += HDR.pack(typ, d.next_req, tx, len(payload)) + payload

    def drop_client(d, c, cleanup=True):
        d.clients.pop(c.cid, None)
        unreg(c.sock.fileno())
        c.sock.close()
        for k, v in list(d.pending.items()):
            if v[0] is c:
                d.pending[k] = (None,) + v[1:]
        if cleanup and d.g.error == 0:
            # what the Linux driver does on release: end its transactions, drop its watches
            for tx in c.txs:
                enqueue(d, None, TX_END, 0, tx, b"F\0")
            for path, token in c.watches:
                enqueue(d, None, UNWATCH, 0, 0, path + b"\0" + token + b"\0")

    def accept(d):
        while True:
            try:
                s, _ = d.ls.accept()
            except BlockingIOError:
                return
            if d.g.error != 0:
                s.close()   # the daemon ignores this ring for good
                continue
            s.setblocking(False)
            cids[0] += 1
            c = Client(cids[0], s)
            d.clients[c.cid] = c
            reg(s.fileno(), ("client", d, c))

    def from_client(d, c):
        """Whole messages of the client's input onto the ring queue."""
        buf = c.inbuf
        while len(buf) >= HDR.size:
            typ, req, tx, n = HDR.unpack_from(buf)
            if n > PAYLOAD_MAX:
                drop_client(d, c)
                return
            if len(buf) < HDR.size + n:
                break
            payload = bytes(buf[HDR.size:HDR.size + n])
            del buf[:HDR.size + n]
            if typ in (WATCH, UNWATCH):
                parts = payload.split(b"\0")
                if len(parts) >= 2:
                    payload = parts[0] + b"\0" + str(c.cid).encode() + b"|" + b"\0".join(parts[1:])
            enqueue(d, c, typ, req, tx, payload)

    def to_clients(d):
        """Whole response messages to their clients."""
        while len(d.rx) >= HDR.size:
            typ, req, tx, n = HDR.unpack_from(d.rx)
            if len(d.rx) < HDR.size + n:
                return
            payload = bytes(d.rx[HDR.size:HDR.size + n])
            del d.rx[:HDR.size + n]
            if typ == WATCH_EVENT:
                parts = payload.split(b"\0")
                if len(parts) < 2 or b"|" not in parts[1]:
                    continue
                cid, token = parts[1].split(b"|", 1)
                c = d.clients.get(int(cid))
                if c is not None:
                    parts[1] = token
                    p = b"\0".join(parts)
                    c.out += HDR.pack(typ, 0, 0, len(p)) + p
                continue
            entry = d.pending.pop(req, None)
            if entry is None:
                continue
            c, orig, rtype, rtx, sent = entry
            if c is None:
                continue
            if typ != ERROR and rtype == TX_START:
                c.txs.add(int(payload.rstrip(b"\0") or b"0"))
            elif rtype == TX_END:
                c.txs.discard(rtx)
            elif typ != ERROR and rtype in (WATCH, UNWATCH):
                parts = sent.split(b"\0")
                key = (parts[0], parts[1])
                if rtype == WATCH:
                    c.watches.add(key)
                else:
                    c.watches.discard(key)
            c.out += HDR.pack(typ, orig, tx, len(payload)) + payload

    def pump(d):
        g = d.g
        if g.error != 0:
            for c in list(d.clients.values()):
                drop_client(d, c, cleanup=False)
            return
        moved = False
        if d.to_ring:
            n = g._ring_write(bytes(d.to_ring))
            if n:
                del d.to_ring[:n]
                moved = True
        if not d.backed_up():
            data = g._ring_read()
            if data:
                d.rx += data
                moved = True
                to_clients(d)
        if moved:
            g.notify()
        for c in list(d.clients.values()):
            flush(d, c)

    def flush(d, c):
        if c.out:
            try:
                n = c.sock.send(c.out)
                del c.out[:n]
            except BlockingIOError:
                pass
            except OSError:
                drop_client(d, c)
                return
        events = (select.POLLIN if len(d.to_ring) < OUT_MAX else 0) | (select.POLLOUT if c.out else 0)
        poller.modify(c.sock.fileno(), events)

    def command(line):
        parts = line.split()
        if not parts:
            return
        if parts[0] == "quit":
            sys.exit(0)
        domid = int(parts[1])
        if parts[0] == "create":
            if not hv.info(domid)["exists"]:
                hv.create_domain(domid)
            print(f"ok {hv.store_mfn(domid)} {hv.store_port(domid)}", flush=True)
        elif parts[0] == "attach":
            d = doms.get(domid)
            if d is None:
                d = doms[domid] = Dom(hv, domid, a.sockets)
                reg(d.fd, ("evtchn", d, None))
                reg(d.ls.fileno(), ("listen", d, None))
            else:
                d.reset()   # re-INTRODUCE: the daemon reset the ring and dropped watches, transactions
            print("ok", flush=True)
        else:
            print(f"error unknown command {parts[0]}", flush=True)

    stdin_buf = b""
    while True:
        for fd, ev in poller.poll():
            what, d, c = by_fd.get(fd, (None, None, None))
            if what == "stdin":
                chunk = os.read(fd, 65536)
                if not chunk:
                    return
                stdin_buf += chunk
                while b"\n" in stdin_buf:
                    line, stdin_buf = stdin_buf.split(b"\n", 1)
                    try:
                        command(line.decode())
                    except Exception as e:  # noqa: BLE001
                        print(f"error {e}", flush=True)
            elif what == "evtchn":
                port = X.lib().xensim_evtchn_pending(d.g.evtchn._h)
                if port >= 0:
                    X.lib().xensim_evtchn_unmask(d.g.evtchn._h, port)
                pump(d)
            elif what == "listen":
                accept(d)
            elif what == "client":
                if c.cid not in d.clients:
                    continue
                if ev & (select.POLLIN | select.POLLHUP | select.POLLERR):
                    try:
                        data = c.sock.recv(65536)
                    except BlockingIOError:
                        data = None
                    except OSError:
                        data = b""
                    if data == b"":
                        drop_client(d, c)
                        pump(d)
                        continue
                    if data:
                        c.inbuf += data
                        from_client(d, c)
                pump(d)


X = None

if __name__ == "__main__":
    main()
