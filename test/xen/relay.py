"""A guest kernel's xenbus device for tests: each simulated guest's ring (xensim) exposed
as a Unix socket, as Linux's /dev/xen/xenbus exposes a guest's ring to its user space.
The guest-facing suites (test/domains, test/xsa) then run unchanged over rings: what a
client writes on DIR/<domid>/socket goes onto the domain's request ring, what the daemon
puts on the response ring comes back.

    python3 relay.py --xensim DIR/of/xensim.py --dir XENSIM_DIR --sockets DIR

Commands on stdin, one per line, each answered on stdout:
    create DOMID   -> "ok MFN PORT"  (the domain exists afterwards; reused if it did)
    attach DOMID   -> "ok"           (map its ring, listen on DIR/DOMID/socket)
    quit

One client per domain at a time (a ring is one connection); further clients wait in the
listen backlog. When a client goes, the relay asks the daemon to reconnect the ring
(connection = XENSTORE_RECONNECT: its watches and transactions go, as a socket close
does) before it takes the next client. When the daemon gives up on the ring (`error`
set), the client is disconnected, as a socket would be closed.
"""

import argparse
import os
import select
import socket
import sys

OUT_MAX = 1 << 20


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
        self.ls.listen(64)
        self.ls.setblocking(False)
        self.client = None
        self.to_ring = bytearray()
        self.out = bytearray()
        self.reconnecting = False

    def reset(self):
        self.to_ring.clear()
        self.out.clear()


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

    def reg(fd, what, events=select.POLLIN):
        by_fd[fd] = what
        poller.register(fd, events)

    def unreg(fd):
        by_fd.pop(fd, None)
        try:
            poller.unregister(fd)
        except KeyError:
            pass

    reg(sys.stdin.fileno(), ("stdin", None))

    def drop_client(d, reconnect=True):
        if d.client is not None:
            unreg(d.client.fileno())
            d.client.close()
            d.client = None
        d.reset()
        if reconnect and d.g.error == 0:
            d.g._set(X.CONNECTION, X.RECONNECT)
            d.g.notify()
            d.reconnecting = True
        maybe_accept(d)

    def maybe_accept(d):
        if d.client is not None or d.reconnecting:
            return
        try:
            c, _ = d.ls.accept()
        except BlockingIOError:
            return
        c.setblocking(False)
        if d.g.error != 0:
            c.close()   # the daemon ignores this ring for good
            return
        d.client = c
        reg(c.fileno(), ("client", d))

    def pump(d):
        """Move bytes both ways as far as the ring and the client allow."""
        g = d.g
        if g.error != 0:
            if d.client is not None:
                drop_client(d, reconnect=False)
            return
        if d.reconnecting:
            if g.connection == X.CONNECTED:
                d.reconnecting = False
                d.reset()
                maybe_accept(d)
            return
        moved = False
        if d.to_ring:
            n = g._ring_write(bytes(d.to_ring))
            if n:
                del d.to_ring[:n]
                moved = True
        if len(d.out) < OUT_MAX:
            data = g._ring_read()
            if data:
                d.out += data
                moved = True
        if moved:
            g.notify()
        flush(d)

    def flush(d):
        if d.client is None:
            return
        if d.out:
            try:
                n = d.client.send(d.out)
                del d.out[:n]
            except BlockingIOError:
                pass
            except OSError:
                drop_client(d)
                return
        # flow control towards the client: stop reading it while the ring is backed up
        events = (select.POLLIN if len(d.to_ring) < OUT_MAX else 0) | (select.POLLOUT if d.out else 0)
        poller.modify(d.client.fileno(), events)

    def command(line):
        parts = line.split()
        if not parts:
            return
        if parts[0] == "quit":
            sys.exit(0)
        domid = int(parts[1])
        if parts[0] == "create":
            info = hv.info(domid)
            if not info["exists"]:
                hv.create_domain(domid)
            print(f"ok {hv.store_mfn(domid)} {hv.store_port(domid)}", flush=True)
        elif parts[0] == "attach":
            d = doms.get(domid)
            if d is None:
                d = doms[domid] = Dom(hv, domid, a.sockets)
                reg(d.fd, ("evtchn", d))
                reg(d.ls.fileno(), ("listen", d))
            else:
                drop_client(d, reconnect=False)
                d.reconnecting = False
            print("ok", flush=True)
        else:
            print(f"error unknown command {parts[0]}", flush=True)

    stdin_buf = b""
    while True:
        for fd, ev in poller.poll():
            what, d = by_fd.get(fd, (None, None))
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
                maybe_accept(d)
                if d.client is not None:
                    pump(d)
            elif what == "client":
                if ev & (select.POLLIN | select.POLLHUP | select.POLLERR):
                    try:
                        data = d.client.recv(65536)
                    except BlockingIOError:
                        data = None
                    except OSError:
                        data = b""
                    if data == b"":
                        drop_client(d)
                        continue
                    if data:
                        d.to_ring += data
                if ev & select.POLLOUT:
                    flush(d)
                pump(d)


X = None

if __name__ == "__main__":
    main()
