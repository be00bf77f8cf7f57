import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

/**
 * Xen's user-space libraries as Debian ships them, reached through koffi (an FFI with
 * prebuilt binaries in its npm packages), loaded by soname so that `LD_LIBRARY_PATH` can put
 * the xensim replacements (../shared/xensim) in front of the real ones. These are the calls
 * the C daemon 4.17 makes (tools/xenstore/xenstored_domain.c, xenstored_posix.c):
 *
 * | need | call |
 * | --- | --- |
 * | event channels | xenevtchn_open / _bind_interdomain / _bind_virq / _notify / _pending / _unmask / _unbind / _close |
 * | a guest's page | xengnttab_map_grant_ref(domid, GNTTAB_RESERVED_XENSTORE = 1), fallback xenforeignmemory_map(gfn) |
 * | domain state | xc_domain_getinfolist (libxenctrl 4.17: its ABI follows the hypervisor's) |
 * | dom0's own page | c.mmap(2) of /proc/xen/xsd_kva (libc) |
 *
 * Pointers are BigInt (koffi 3); 0n is NULL. Every call that can fail returns -1 / NULL with
 * errno set: `errno()` reads it (koffi.errno()).
 */

export const XENEVTCHN_SONAME = 'libxenevtchn.so.1';
export const XENGNTTAB_SONAME = 'libxengnttab.so.1';
export const XENFOREIGNMEMORY_SONAME = 'libxenforeignmemory.so.1';
export const XENCTRL_SONAME = 'libxenctrl.so.4.17';

/** xen/include/public/grant_table.h: the grant reference of the xenstore page. */
export const GNTTAB_RESERVED_XENSTORE = 1;
/** xen/include/public/xen.h: a domain died or shut down. */
export const VIRQ_DOM_EXC = 3;
/** xen/include/public/domctl.h `XEN_DOMINF_*`. */
export const XEN_DOMINF_dying = 1 << 0;
export const XEN_DOMINF_shutdown = 1 << 2;
export const XEN_DOMINF_shutdownshift = 16;
export const XEN_DOMINF_shutdownmask = 255;

const PROT_READ = 1;
const PROT_WRITE = 2;
const MAP_SHARED = 1;
/** Enough for one `xc_domaininfo_t` (xen_domctl_getdomaininfo: 120 bytes on x86-64 in 4.17);
 *  only `domain` (u16 at 0) and `flags` (u32 at 4) are read. */
const DOMAININFO_BYTES = 1024;

/** What getDomainInfo() reports of one domain. */
export interface DomainState {
  domid: number;
  dying: boolean;
  shutdown: boolean;
  /** SHUTDOWN_* code when `shutdown`. */
  shutdownReason: number;
}

/** The Xen libraries could not be used; `message` says what is missing and how to fix it. */
export class XenUnavailable extends Error {}

type Fn = ((...args: any[]) => any) & { async: (...args: any[]) => void };

/** The bound functions, one handle of each library. */
export interface XenLibs {
  readonly koffi: KoffiModule;
  /** An open xenevtchn handle (acts for the daemon's domain). */
  readonly xce: bigint;
  evtchnFd(): number;
  bindInterdomain(domid: number, remotePort: number): number;
  bindVirq(virq: number): number;
  bindUnboundPort(domid: number): number;
  notify(port: number): number;
  unmask(port: number): number;
  unbind(port: number): number;
  /** xenevtchn_pending on a koffi worker thread: blocks there until a port fires. */
  pendingAsync(cb: (err: unknown, port: number) => void): void;
  /** xenevtchn_pending, synchronous: call only when readable() said so and no
   *  pendingAsync() is outstanding (it would block the event loop otherwise). */
  pending(): number;
  /** Whether the event channel fd has a port to deliver now: c.poll(2) with timeout 0 (the
   *  fd is only polled, never read: xenevtchn_pending does the reading and the masking). */
  readable(): boolean;
  /** Maps a guest's xenstore page by grant (ref 1), else by frame `gfn` through
   *  xenforeignmemory. Returns the address, or throws with the errno of both attempts. */
  mapGuestPage(domid: number, gfn: bigint): { addr: bigint; how: 'grant' | 'foreign' };
  unmapGuestPage(addr: bigint, how: 'grant' | 'foreign' | 'mmap'): void;
  /** c.mmap(MAP_SHARED, RW) of an open file's first 4096 bytes (dom0's /proc/xen/xsd_kva). */
  mmapFd(fd: number): bigint;
  /** Zero-copy ArrayBuffer over `len` bytes at `addr` (koffi.view). */
  view(addr: bigint, len: number): ArrayBuffer;
  /** One domain's state (xc_domain_getinfolist from `domid`, 1 entry), or null when absent. */
  getDomainInfo(domid: number): DomainState | null;
  errno(): number;
  close(): void;
}

interface KoffiLib {
  func(decl: string): Fn;
  unload?(): void;
}
export interface KoffiModule {
  load(path: string | null): KoffiLib;
  view(ptr: unknown, len: number): ArrayBuffer;
  errno(): number;
}

function loadKoffi(): KoffiModule {
  try {
    return createRequire(import.meta.url)('koffi') as KoffiModule;
  } catch (err) {
    throw new XenUnavailable(`the koffi FFI package is not installed or has no binary for ${process.platform}-${process.arch} (npm install): ${(err as Error).message}`);
  }
}

function open(koffi: KoffiModule, soname: string, pkg: string): KoffiLib {
  try {
    return koffi.load(soname);
  } catch (err) {
    throw new XenUnavailable(`cannot load ${soname} (${(err as Error).message.split('\n')[0]}): install ${pkg}, or run on xensim with LD_LIBRARY_PATH=$XENSIM_BUILD/lib`);
  }
}

/** The Xen library calls the daemon makes (the C daemon's, tools/xenstored/domain.c), declared
 *  through koffi; throws XenUnavailable when a library is missing. */
function declareCalls(koffi: KoffiModule) {
  const ev = open(koffi, XENEVTCHN_SONAME, 'libxenevtchn1');
  const gt = open(koffi, XENGNTTAB_SONAME, 'libxengnttab1');
  const fm = open(koffi, XENFOREIGNMEMORY_SONAME, 'libxenforeignmemory1');
  const xc = open(koffi, XENCTRL_SONAME, 'libxenmisc4.17');
  const libc = open(koffi, 'libc.so.6', 'libc6');

  const evOpen = ev.func('void *xenevtchn_open(void *logger, unsigned int flags)');
  const evClose = ev.func('int xenevtchn_close(void *xce)');
  const evFd = ev.func('int xenevtchn_fd(void *xce)');
  const evBindInter = ev.func('int xenevtchn_bind_interdomain(void *xce, uint32_t domid, uint32_t port)');
  const evBindVirq = ev.func('int xenevtchn_bind_virq(void *xce, unsigned int virq)');
  const evBindUnbound = ev.func('int xenevtchn_bind_unbound_port(void *xce, uint32_t domid)');
  const evNotify = ev.func('int xenevtchn_notify(void *xce, uint32_t port)');
  const evPending = ev.func('int xenevtchn_pending(void *xce)');
  const evUnmask = ev.func('int xenevtchn_unmask(void *xce, uint32_t port)');
  const evUnbind = ev.func('int xenevtchn_unbind(void *xce, uint32_t port)');
  const gtOpen = gt.func('void *xengnttab_open(void *logger, unsigned int flags)');
  const gtClose = gt.func('int xengnttab_close(void *xgt)');
  const gtMaxGrants = gt.func('int xengnttab_set_max_grants(void *xgt, uint32_t n)');
  const gtMap = gt.func('void *xengnttab_map_grant_ref(void *xgt, uint32_t domid, uint32_t ref, int prot)');
  const gtUnmap = gt.func('int xengnttab_unmap(void *xgt, void *addr, uint32_t count)');
  const fmOpen = fm.func('void *xenforeignmemory_open(void *logger, unsigned int flags)');
  const fmClose = fm.func('int xenforeignmemory_close(void *fmem)');
  const fmMap = fm.func('void *xenforeignmemory_map(void *fmem, uint32_t dom, int prot, size_t pages, const uint64_t *arr, _Out_ int *err)');
  const fmUnmap = fm.func('int xenforeignmemory_unmap(void *fmem, void *addr, size_t pages)');
  const xcOpen = xc.func('void *xc_interface_open(void *logger, void *dombuild_logger, unsigned int flags)');
  const xcClose = xc.func('int xc_interface_close(void *xch)');
  const xcGetInfoList = xc.func('int xc_domain_getinfolist(void *xch, uint32_t first, unsigned int max, void *info)');
  const mmap = libc.func('void *mmap(void *addr, size_t len, int prot, int flags, int fd, int64_t off)');
  const munmap = libc.func('int munmap(void *addr, size_t len)');
  const poll = libc.func('int poll(void *fds, unsigned long nfds, int timeout)');
  return { evOpen, evClose, evFd, evBindInter, evBindVirq, evBindUnbound, evNotify, evPending, evUnmask, evUnbind, gtOpen, gtClose, gtMaxGrants, gtMap, gtUnmap, fmOpen, fmClose, fmMap, fmUnmap, xcOpen, xcClose, xcGetInfoList, mmap, munmap, poll };
}

/** A null pointer as koffi returns it. */
function nul(p: unknown): boolean {
  return p === null || p === 0n || p === undefined;
}

/** One handle of each library (C domain_early_init), or XenUnavailable naming the device
 *  that refused. */
function openHandles(c: ReturnType<typeof declareCalls>, simulated: boolean, errno: () => number): { xce: bigint; xgt: bigint; fmem: bigint; xch: bigint } {
  const xce = c.evOpen(null, 0) as bigint;
  if (nul(xce)) {
    const hint = simulated
      ? 'XENSIM_DIR is set: are the libraries xensim\'s (LD_LIBRARY_PATH=$XENSIM_BUILD/lib) and XENSIM_DIR writable?'
      : 'is /dev/xen/evtchn accessible (run as root in dom0; module xen-evtchn)?';
    throw new XenUnavailable(`xenevtchn_open failed (errno ${errno()}): ${hint}`);
  }
  const xgt = c.gtOpen(null, 0) as bigint;
  if (nul(xgt)) throw new XenUnavailable(`xengnttab_open failed (errno ${errno()}): /dev/xen/gntdev (module xen-gntdev)?`);
  // As domain_early_init(): room for one mapping per possible domain.
  c.gtMaxGrants(xgt, 0x7ff0);
  const fmem = c.fmOpen(null, 0) as bigint;
  if (nul(fmem)) throw new XenUnavailable(`xenforeignmemory_open failed (errno ${errno()}): /dev/xen/privcmd?`);
  const xch = c.xcOpen(null, null, 0) as bigint;
  if (nul(xch)) throw new XenUnavailable(`xc_interface_open failed (errno ${errno()}): /dev/xen/privcmd, and a hypervisor matching libxenctrl 4.17?`);
  return { xce, xgt, fmem, xch };
}

/**
 * Loads the four Xen libraries and libc, opens one handle of each (xenevtchn_open,
 * xengnttab_open + set_max_grants, xenforeignmemory_open, xc_interface_open) and binds the
 * calls. Throws XenUnavailable, naming what is missing (a library, /dev/xen, the
 * simulation), when any of it fails.
 */
export function openXen(): XenLibs {
  const koffi = loadKoffi();
  const simulated = process.env.XENSIM_DIR !== undefined;
  if (!simulated && !existsSync('/dev/xen/evtchn')) {
    throw new XenUnavailable('/dev/xen/evtchn does not exist: not running in a Xen dom0 (load xen-evtchn, xen-gntdev, xen-privcmd; mount xenfs on /proc/xen), or set XENSIM_DIR, LD_LIBRARY_PATH and LD_PRELOAD for xensim');
  }
  const c = declareCalls(koffi);

  const errno = (): number => koffi.errno();
  const { xce, xgt, fmem, xch } = openHandles(c, simulated, errno);
  const info = Buffer.alloc(DOMAININFO_BYTES);
  // struct pollfd { int fd; short events; short revents; }, POLLIN = 1.
  const pfd = Buffer.alloc(8);
  pfd.writeInt32LE(c.evFd(xce) as number, 0);

  return {
    koffi,
    xce,
    evtchnFd: () => c.evFd(xce) as number,
    bindInterdomain: (domid, port) => c.evBindInter(xce, domid, port) as number,
    bindVirq: (virq) => c.evBindVirq(xce, virq) as number,
    bindUnboundPort: (domid) => c.evBindUnbound(xce, domid) as number,
    notify: (port) => c.evNotify(xce, port) as number,
    unmask: (port) => c.evUnmask(xce, port) as number,
    unbind: (port) => c.evUnbind(xce, port) as number,
    pendingAsync: (cb) => c.evPending.async(xce, cb),
    pending: () => c.evPending(xce) as number,
    readable() {
      pfd.writeInt16LE(1, 4);
      pfd.writeInt16LE(0, 6);
      return (c.poll(pfd, 1, 0) as number) > 0 && (pfd.readInt16LE(6) & 1) !== 0;
    },
    mapGuestPage(domid, gfn) {
      const byGrant = c.gtMap(xgt, domid, GNTTAB_RESERVED_XENSTORE, PROT_READ | PROT_WRITE) as bigint;
      if (!nul(byGrant)) return { addr: byGrant, how: 'grant' };
      const grantErrno = errno();
      const err = [0];
      const byFrame = c.fmMap(fmem, domid, PROT_READ | PROT_WRITE, 1, [gfn], err) as bigint;
      if (!nul(byFrame) && err[0] === 0) return { addr: byFrame, how: 'foreign' };
      const e = new Error(`cannot map the xenstore page of domain ${domid}: grant ref 1: errno ${grantErrno}; foreign frame ${gfn}: errno ${nul(byFrame) ? errno() : -err[0]}`);
      if (!nul(byFrame)) c.fmUnmap(fmem, byFrame, 1);
      throw e;
    },
    unmapGuestPage(addr, how) {
      if (how === 'grant') c.gtUnmap(xgt, addr, 1);
      else if (how === 'foreign') c.fmUnmap(fmem, addr, 1);
      else c.munmap(addr, 4096);
    },
    mmapFd(fd) {
      const p = c.mmap(null, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) as bigint;
      // MAP_FAILED is (void *)-1.
      if (nul(p) || p === 0xffffffffffffffffn || p === -1n) throw new Error(`mmap failed (errno ${errno()})`);
      return p;
    },
    view: (addr, len) => koffi.view(addr, len),
    getDomainInfo(domid) {
      const n = c.xcGetInfoList(xch, domid, 1, info) as number;
      if (n < 1) return null;
      if (info.readUInt16LE(0) !== domid) return null;
      const flags = info.readUInt32LE(4);
      return {
        domid,
        dying: (flags & XEN_DOMINF_dying) !== 0,
        shutdown: (flags & XEN_DOMINF_shutdown) !== 0,
        shutdownReason: (flags >>> XEN_DOMINF_shutdownshift) & XEN_DOMINF_shutdownmask,
      };
    },
    errno,
    close() {
      c.evClose(xce);
      c.gtClose(xgt);
      c.fmClose(fmem);
      c.xcClose(xch);
    },
  };
}
