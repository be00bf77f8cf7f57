/** Reading a daemon's CPU time and memory from /proc (Linux only). */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

let clkTck: number | null = null;

/** Clock ticks per second for /proc/PID/stat times (getconf CLK_TCK, normally 100). */
export function ticksPerSecond(): number {
  if (clkTck === null) {
    try {
      clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clkTck = 100;
    }
  }
  return clkTck;
}

/** utime + stime of a process (all its threads), in clock ticks; null if it is gone. */
export function cpuTicks(pid: number): number | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // Fields after the command name, which is in parentheses and may contain spaces.
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    // f[0] is field 3 (state); utime is field 14, stime field 15.
    return Number(f[11]) + Number(f[12]);
  } catch {
    return null;
  }
}

/** A field of /proc/PID/status in kB (VmRSS, VmHWM, ...); null if unavailable. */
export function statusKb(pid: number, field: string): number | null {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'latin1');
    const m = new RegExp(`^${field}:\\s+(\\d+)\\s*kB`, 'm').exec(s);
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Waits until the process is idle: a window of `windowMs` in which it used at most `maxTicks`
 * ticks of CPU, or until `capMs` has passed. Returns the ticks it used meanwhile (deferred work,
 * e.g. history commits done after the replies were sent) and the time waited.
 */
export async function settle(
  pid: number,
  opts: { windowMs?: number; maxTicks?: number; capMs?: number } = {},
): Promise<{ ticks: number; waitedMs: number; idle: boolean }> {
  const windowMs = opts.windowMs ?? 40;
  const maxTicks = opts.maxTicks ?? 0;
  const capMs = opts.capMs ?? 3000;
  const start = Date.now();
  const first = cpuTicks(pid);
  if (first === null) return { ticks: 0, waitedMs: 0, idle: true };
  let prev = first;
  for (;;) {
    await sleep(windowMs);
    const now = cpuTicks(pid);
    if (now === null) return { ticks: prev - first, waitedMs: Date.now() - start, idle: true };
    if (now - prev <= maxTicks) return { ticks: now - first, waitedMs: Date.now() - start, idle: true };
    prev = now;
    if (Date.now() - start >= capMs) return { ticks: now - first, waitedMs: Date.now() - start, idle: false };
  }
}

/** Number of open file descriptors of a process (/proc/PID/fd), or null. */
export function fdCount(pid: number): number | null {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return null;
  }
}
