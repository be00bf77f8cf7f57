/**
 * Run the real Debian clients (xenstore-utils, Xen's xenstore-control and
 * test-xenstore, pyxs) against a daemon, with XENSTORED_PATH pointing at it.
 */

import { spawn } from 'node:child_process';
import { AsyncQueue } from '../../src/client/index.js';

/** Where xen-utils-4.17 keeps the real programs (/usr/bin/xenstore-control is a wrapper that wants Xen). */
export const XEN_BIN = process.env['XSGIT_XEN_BIN'] ?? '/usr/lib/xen-4.17/bin';
export const XENSTORE_CONTROL = `${XEN_BIN}/xenstore-control`;
export const TEST_XENSTORE = `${XEN_BIN}/test-xenstore`;
/** Debian's Python, which has python3-pyxs (another python3 may come first on PATH). */
export const PYTHON = process.env['XSGIT_PYTHON'] ?? '/usr/bin/python3';

export interface ToolResult {
  /** Exit status; null if killed by a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** stdout exactly as bytes (for -R output). */
  stdoutBytes: Buffer;
}

export interface RunOptions {
  /** Kill the program (SIGKILL) after this long. Default 15000 ms. */
  timeoutMs?: number;
  /** Bytes for stdin; without it stdin is closed. */
  input?: string | Buffer;
  /** Extra environment. */
  env?: Record<string, string>;
}

/** A socket path, or an environment that already has XENSTORED_PATH (DaemonHandle.env). */
export type Target = string | NodeJS.ProcessEnv;

function envFor(target: Target, extra: Record<string, string> | undefined): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = typeof target === 'string' ? { ...process.env, XENSTORED_PATH: target } : { ...target };
  delete base['XENSTORED_RUNDIR'];
  return { ...base, ...extra };
}

export interface Spawned {
  /** stdout, line by line, as it comes. */
  lines: AsyncQueue<string>;
  /** Resolves when the program exits. */
  result: Promise<ToolResult>;
  /** The next stdout line (rejects after timeoutMs, or if the program exits first). */
  nextLine(timeoutMs?: number): Promise<string>;
  kill(signal?: NodeJS.Signals): void;
  pid: number | undefined;
}

/** Start a program with XENSTORED_PATH set; follow its stdout line by line. */
export function spawnTool(target: Target, cmd: string, args: readonly string[], options: RunOptions = {}): Spawned {
  const child = spawn(cmd, [...args], {
    env: envFor(target, options.env),
    stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  const lines = new AsyncQueue<string>();
  const outChunks: Buffer[] = [];
  const errChunks: Buffer[] = [];
  let partial = '';
  child.stdout!.on('data', (d: Buffer) => {
    outChunks.push(d);
    partial += d.toString('utf8');
    let nl: number;
    while ((nl = partial.indexOf('\n')) >= 0) {
      lines.push(partial.slice(0, nl));
      partial = partial.slice(nl + 1);
    }
  });
  child.stderr!.on('data', (d: Buffer) => errChunks.push(d));
  if (options.input !== undefined) child.stdin!.end(options.input);
  const timeoutMs = options.timeoutMs ?? 15_000;
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const result = new Promise<ToolResult>((resolve, reject) => {
    child.once('error', (err) => {
      clearTimeout(timer);
      lines.end();
      reject(new Error(`cannot run ${cmd}: ${err.message}`));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (partial !== '') lines.push(partial);
      lines.end();
      const stdoutBytes = Buffer.concat(outChunks);
      resolve({
        code,
        signal,
        stdout: stdoutBytes.toString('utf8'),
        stderr: Buffer.concat(errChunks).toString('utf8'),
        stdoutBytes,
      });
    });
  });
  return {
    lines,
    result,
    pid: child.pid,
    kill: (signal: NodeJS.Signals = 'SIGTERM') => void child.kill(signal),
    nextLine: async (ms = 10_000) => {
      const r = await lines.next(ms);
      if (r.done) {
        const res = await result;
        throw new Error(`${cmd} exited (code ${res.code}) before printing another line; stderr: ${res.stderr}`);
      }
      return r.value;
    },
  };
}

/** Run a program to completion. Never rejects for a non-zero exit: check `code`. */
export function runTool(target: Target, cmd: string, args: readonly string[], options: RunOptions = {}): Promise<ToolResult> {
  return spawnTool(target, cmd, args, options).result;
}

export type XsTool = 'read' | 'write' | 'ls' | 'list' | 'exists' | 'rm' | 'chmod' | 'watch';

/** `xenstore-<tool> args...` (xenstore-utils, on PATH). */
export function xs(target: Target, tool: XsTool, args: readonly string[], options?: RunOptions): Promise<ToolResult> {
  return runTool(target, `xenstore-${tool}`, args, options);
}

/** The real xenstore-control. */
export function xsControl(target: Target, args: readonly string[], options?: RunOptions): Promise<ToolResult> {
  return runTool(target, XENSTORE_CONTROL, args, options);
}

/** Run a Python script (with pyxs available) given as source text; extra args become sys.argv[1:]. */
export function runPython(target: Target, script: string, args: readonly string[] = [], options?: RunOptions): Promise<ToolResult> {
  return runTool(target, PYTHON, ['-c', script, ...args], options);
}

/** Throw, with the program's output, unless it exited 0. Returns stdout. */
export function ok(r: ToolResult, what = 'command'): string {
  if (r.code !== 0) {
    throw new Error(`${what} exited with ${r.code ?? r.signal}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
  }
  return r.stdout;
}
