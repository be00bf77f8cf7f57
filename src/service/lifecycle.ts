import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { AccessLog } from '../server/accesslog.js';
import { logger } from '../util/log.js';
import { liveDaemon } from './liveDaemon.js';
import { PidFile } from './pidFile.js';
import { tellParentReady } from './background.js';
import { redirectOutput } from './logFile.js';
import { notifyReady } from './sdnotify.js';

/** What the daemon is about to serve and write (absolute paths). */
export interface LifecycleOptions {
  readonly socketPath: string;
  readonly pidFile: string;
  readonly accessLog?: string;
  /** The daemon's own output (`--log-file`), reopened on SIGHUP too. */
  readonly logFile?: string;
}

/**
 * The daemon as a host service: the checks before it listens, readiness once it does, and
 * the files it owns until it stops (issue 16, "guard rails").
 *
 * prepare() creates the run directory (as the C daemon, mode 0755), refuses one that another daemon serves, opens the access log and
 * writes the pid file, so that every path an operator gave is checked before the daemon
 * listens (an error then is an Error whose message names the path; nothing was changed but
 * what prepare() itself undoes). Then the caller listens, and calls ready() (systemd's
 * READY=1) or abort(). reopenLogs() is SIGHUP (the C daemon reopens its log files on SIGHUP,
 * for logrotate), the daemon's own --log-file included. close() removes only what is still
 * this daemon's.
 */
export class Lifecycle {
  private constructor(
    readonly options: LifecycleOptions,
    readonly accessLog: AccessLog | null,
    private readonly pid: PidFile,
  ) {}

  static async prepare(options: LifecycleOptions): Promise<Lifecycle> {
    const runDir = dirname(options.socketPath);
    try {
      mkdirSync(runDir, { recursive: true, mode: 0o755 });
    } catch (e) {
      throw new Error(`run directory ${runDir}: ${(e as Error).message}`);
    }
    const other = await liveDaemon(options.socketPath).catch((e: Error) => {
      throw new Error(`cannot check ${options.socketPath}: ${e.message}`);
    });
    if (other !== null) {
      throw new Error(`another daemon (${other > 0 ? `pid ${other}` : 'pid unknown'}) serves ${options.socketPath}; stop it first, or give another --run-dir`);
    }
    let log: AccessLog | null = null;
    if (options.accessLog !== undefined) {
      try {
        log = new AccessLog(options.accessLog);
      } catch (e) {
        throw new Error(`--access-log ${options.accessLog}: ${(e as Error).message}`);
      }
    }
    const pid = new PidFile(options.pidFile);
    try {
      pid.write();
    } catch (e) {
      log?.close();
      throw new Error(`--pid-file ${options.pidFile}: ${(e as Error).message}`);
    }
    // Last, so that the errors above still reach the terminal (or the parent of --background).
    if (options.logFile !== undefined) {
      try {
        redirectOutput(options.logFile);
      } catch (e) {
        log?.close();
        pid.remove();
        throw new Error(`--log-file ${options.logFile}: ${(e as Error).message}`);
      }
    }
    return new Lifecycle(options, log, pid);
  }

  /** The daemon serves its socket: tell the service manager (a no-op outside systemd). */
  ready(): void {
    notifyReady(`listening on ${this.options.socketPath}`);
    tellParentReady();
  }

  /** SIGHUP: reopen the access log at its path. A failure keeps the old file and is logged. */
  reopenLogs(): void {
    const own = this.options.logFile;
    if (own !== undefined) {
      try {
        redirectOutput(own);
        logger.info(`SIGHUP: reopened ${own}`);
      } catch (e) {
        logger.error(`SIGHUP: cannot reopen ${own}: ${(e as Error).message}; still writing to the old file`);
      }
    }
    if (this.accessLog === null) {
      if (own === undefined) logger.info('SIGHUP: no log file to reopen');
      return;
    }
    try {
      this.accessLog.reopen();
      logger.info(`SIGHUP: reopened ${this.accessLog.file}`);
    } catch (e) {
      logger.error(`SIGHUP: cannot reopen ${this.accessLog.file}: ${(e as Error).message}; still writing to the old file`);
    }
  }

  /** Undoes prepare() after a failure to start. */
  abort(): void {
    this.close();
  }

  /** Closes the access log and removes the pid file if it is still this daemon's. */
  close(): void {
    this.accessLog?.close();
    this.pid.remove();
  }
}
