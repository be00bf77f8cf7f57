import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { AccessLog } from '../server/accesslog.js';
import { Daemon } from '../server/daemon.js';
import { UnixServer, writePidFile } from '../server/unix.js';
import { defaultRunDir } from '../client/paths.js';
import { logger, setLogLevel, type LogLevel } from '../util/log.js';

interface DaemonFlags {
  runDir?: string;
  pidFile?: string;
  logLevel: LogLevel;
  accessLog?: string;
  features: boolean;
}

export function daemonCommand(program: Command): void {
  program
    .command('daemon')
    .description('run xsgit in the foreground, serving RUN_DIR/socket')
    .option('--run-dir <dir>', 'directory of the socket and the pid file (default: $XENSTORED_RUNDIR, else ./run)')
    .option('--pid-file <file>', 'where to write the pid (default: RUN_DIR/pid)')
    .option('--log-level <level>', 'error, warn, info or debug', 'info')
    .option('--access-log <file>', 'write one line per request and per reply to FILE')
    .option('--no-features', 'answer GET_FEATURE/SET_FEATURE with ENOSYS, exactly as the 4.17 C daemon')
    .action(async (flags: DaemonFlags) => {
      setLogLevel(flags.logLevel);
      const runDir = resolve(flags.runDir ?? defaultRunDir());
      const socketPath = join(runDir, 'socket');
      const pidFile = resolve(flags.pidFile ?? join(runDir, 'pid'));
      const accessLog = flags.accessLog === undefined ? null : new AccessLog(flags.accessLog);
      const daemon = new Daemon({ features: flags.features, accessLog });
      const server = new UnixServer(daemon, socketPath);
      await server.listen();
      writePidFile(pidFile);
      const stop = async (signal: string): Promise<void> => {
        logger.info(`${signal}: stopping`);
        await server.close();
        accessLog?.close();
        rmSync(pidFile, { force: true });
        process.exit(0);
      };
      process.once('SIGTERM', () => void stop('SIGTERM'));
      process.once('SIGINT', () => void stop('SIGINT'));
      process.stdout.write(`export XENSTORED_PATH=${socketPath}\n`);
      logger.info(`listening on ${socketPath}, pid ${process.pid}`);
    });
}
