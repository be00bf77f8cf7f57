/** A minimal leveled logger to stderr (stdout carries the daemon's `export` line). */
export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

const ORDER: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };
let level = ORDER.info;

export function setLogLevel(l: LogLevel): void {
  if (!(l in ORDER)) throw new Error(`unknown log level ${l}`);
  level = ORDER[l];
}

function emit(l: LogLevel, msg: string): void {
  if (ORDER[l] <= level) process.stderr.write(`xsgit ${l}: ${msg}\n`);
}

export const logger = {
  error: (m: string) => emit('error', m),
  warn: (m: string) => emit('warn', m),
  info: (m: string) => emit('info', m),
  debug: (m: string) => emit('debug', m),
};
