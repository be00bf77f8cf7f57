import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import koffi from 'koffi';
import type { ProcessIdentity } from '../store/caller.js';
import { logger } from '../util/log.js';

/**
 * Who is at the other end of a connected Unix socket: the kernel's SO_PEERCRED (socket(7):
 * the pid, uid and gid of the peer as they were when it called connect(2), or for a client,
 * when the server called listen(2)), and the command name of that pid from /proc/PID/comm
 * (proc(5): at most 15 bytes; read once, at connect time, so a pid reused later cannot lie
 * about an old connection's commits).
 *
 * Node has no API for SO_PEERCRED, so getsockopt(2) is called through koffi, an FFI library
 * that ships prebuilt binaries per platform inside its npm packages (no compiler, no download
 * at install time; docs/operations.md says why this one). The descriptor is the socket's
 * `_handle.fd`, Node's own (pipe_wrap) descriptor of the connection.
 *
 * Linux only; elsewhere, or when anything fails, the answer is null (the connection is simply
 * not attributed) and the reason is logged once.
 */

/** struct ucred (socket(7)): three 32-bit fields. */
interface Ucred {
  pid: number;
  uid: number;
  gid: number;
}

type GetSockOpt = (fd: number, level: number, name: number, out: Ucred, len: number[]) => number;

const SOL_SOCKET = 1;
/** SO_PEERCRED is 17 in asm-generic/socket.h, 21 on powerpc (the other exceptions, mips and
 *  sparc/parisc, are not platforms Node builds for). */
const SO_PEERCRED = process.arch === 'ppc64' ? 21 : 17;

let getsockopt: GetSockOpt | null | undefined;
let warned = false;

function bind(): GetSockOpt | null {
  if (getsockopt !== undefined) return getsockopt;
  getsockopt = null;
  if (process.platform !== 'linux') return null;
  try {
    koffi.struct('xsgit_ucred', { pid: 'int32_t', uid: 'uint32_t', gid: 'uint32_t' });
    // dlopen(NULL): the C library Node itself runs on (glibc or musl).
    const libc = koffi.load(null);
    getsockopt = libc.func('int getsockopt(int fd, int level, int name, _Out_ xsgit_ucred *out, _Inout_ uint32_t *len)') as GetSockOpt;
  } catch (e) {
    warnOnce(`SO_PEERCRED unavailable (${(e as Error).message}): commits will not name their process`);
  }
  return getsockopt;
}

function warnOnce(msg: string): void {
  if (warned) return;
  warned = true;
  logger.warn(msg);
}

/** The descriptor Node uses for a connected net.Socket (undefined when it has none). */
function fdOf(socket: Socket): number | undefined {
  const fd = (socket as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : undefined;
}

/** The command name of `pid` (/proc/PID/comm without its newline), or '' when unknown. */
export function commandName(pid: number): string {
  if (pid <= 0) return '';
  try {
    return readFileSync(`/proc/${pid}/comm`, 'latin1').replace(/\n$/, '');
  } catch {
    return '';
  }
}

/** The peer's credentials as the kernel recorded them, or null when they cannot be had. */
export function peerCredentials(socket: Socket): Ucred | null {
  const call = bind();
  const fd = fdOf(socket);
  if (call === null || fd === undefined) return null;
  const out: Ucred = { pid: 0, uid: 0, gid: 0 };
  const len = [12];
  if (call(fd, SOL_SOCKET, SO_PEERCRED, out, len) !== 0) {
    warnOnce(`getsockopt(SO_PEERCRED): errno ${koffi.errno()}`);
    return null;
  }
  return out;
}

/** The identity of the process at the other end of `socket` (one frozen object per
 *  connection: commits and the access log refer to it), or null. */
export function peerIdentity(socket: Socket): ProcessIdentity | null {
  const cred = peerCredentials(socket);
  if (cred === null) return null;
  return Object.freeze({ pid: cred.pid, uid: cred.uid, comm: commandName(cred.pid) });
}
