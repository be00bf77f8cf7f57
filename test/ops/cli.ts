/** Running `xsgit` (bin/xsgit.js) as a separate process, as an operator would. */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/daemon.js';

export const XSGIT = join(REPO_ROOT, 'bin', 'xsgit.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The environment of a test run without the xenstore variables (each test sets its own). */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  for (const k of ['XENSTORED_PATH', 'XENSTORED_RUNDIR', 'NOTIFY_SOCKET']) if (!(k in extra)) delete env[k];
  return env;
}

/** Runs `xsgit ARGS` to completion (killed after timeoutMs). */
export function xsgit(args: readonly string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number; bin?: string } = {}): Promise<CliResult> {
  return finish(spawn(options.bin ?? process.execPath, options.bin === undefined ? [XSGIT, ...args] : [...args], { env: options.env ?? cleanEnv(), cwd: options.cwd ?? REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] }), options.timeoutMs ?? 20_000);
}

export function finish(child: ChildProcess, timeoutMs: number): Promise<CliResult> {
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** A daemon started by the test itself (to send it signals, read its output as it comes). */
export interface Running {
  child: ChildProcess;
  out(): string;
  err(): string;
  /** Waits until `text` appears on stderr or stdout (rejects on exit or after timeoutMs). */
  waitFor(text: string | RegExp, timeoutMs?: number): Promise<void>;
  /** SIGTERM and wait; the exit status. */
  stop(): Promise<number | null>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function startCli(args: readonly string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; bin?: string } = {}): Running {
  const child = spawn(options.bin ?? process.execPath, options.bin === undefined ? [XSGIT, ...args] : [...args], { env: options.env ?? cleanEnv(), cwd: options.cwd ?? REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once('exit', (code, signal) => r({ code, signal })));
  let done = false;
  void exited.then(() => (done = true));
  process.once('exit', () => child.kill('SIGKILL'));
  return {
    child,
    out: () => out,
    err: () => err,
    exited,
    async waitFor(text, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      const seen = (): boolean => (typeof text === 'string' ? (out + err).includes(text) : text.test(out + err));
      while (!seen()) {
        if (done) throw new Error(`exited before printing ${String(text)}\nstdout:\n${out}\nstderr:\n${err}`);
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${String(text)}\nstdout:\n${out}\nstderr:\n${err}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async stop() {
      if (!done) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const r = await exited;
      clearTimeout(timer);
      return r.code;
    },
  };
}
