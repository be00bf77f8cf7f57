import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { Daemon } from '../server/daemon.js';
import { PROTOCOLS, protocolNamed } from '../server/protocol.js';
import { Mirror } from '../mirror/live.js';
import { openMirrorRepository } from '../mirror/repository.js';
import { importCommit } from '../mirror/importer.js';
import { listRefs, resolveRef } from '../git/repo/refs.js';
import { TreeMemo } from '../mirror/readNodeTree.js';
import type { Commit } from '../history/commit.js';
import { DEFAULT_RETENTION, chainRows } from '../history/retention.js';
import { UnixServer } from '../transport/unix.js';
import { Lifecycle } from '../service/lifecycle.js';
import { CHILD, runInBackground } from '../service/background.js';
import { GuestSockets } from '../transport/guests.js';
import { parseQuotaSetting, type QuotaName } from '../domain/quota.js';
import { defaultRunDir } from '../client/paths.js';
import { logger, setLogLevel, type LogLevel } from '../util/log.js';

interface DaemonFlags {
  runDir?: string;
  pidFile?: string;
  logLevel: LogLevel;
  accessLog?: string;
  logFile?: string;
  background?: boolean;
  features: boolean;
  protocol: string;
  history: string;
  guestSockets?: boolean;
  xen?: boolean;
  gitDir?: string;
  gitRetention?: boolean;
  mirrorLag: string;
  restoreFrom?: string;
  quota: { name: QuotaName; value: number }[];
}

/** `--protocol LEVEL`: one of server/protocol.ts's rows. */
function checkProtocol(s: string): string {
  if (protocolNamed(s) === null) throw new InvalidArgumentError('expected 4.17, 4.20 or 4.22');
  return s;
}

/** `--quota NAME=VALUE`, repeatable. */
function collectQuota(s: string, all: { name: QuotaName; value: number }[]): { name: QuotaName; value: number }[] {
  const q = parseQuotaSetting(s);
  if (q === null) throw new InvalidArgumentError('expected NAME=VALUE: a quota name (nodes, node-size, …) and a number');
  return [...all, q];
}

export function daemonCommand(program: Command): void {
  program
    .command('daemon')
    .description('run xsgit in the foreground, serving RUN_DIR/socket')
    .option('--run-dir <dir>', 'directory of the socket and the pid file (default: $XENSTORED_RUNDIR, else ./run)')
    .option('--pid-file <file>', 'where to write the pid (default: RUN_DIR/pid)')
    .option('--log-level <level>', 'error, warn, info or debug', 'info')
    .option('--access-log <file>', 'write one line per request and per reply, and one per connect and disconnect, to FILE (mode 0600; reopened on SIGHUP)')
    .option('--log-file <file>', "the daemon's own output (its log) goes to FILE (reopened on SIGHUP)")
    .option('--background', 'return once the daemon serves its socket, leaving it running detached (as C xenstored forks; for /etc/init.d/xen); needs --log-file')
    .option('--protocol <level>', 'answer as the C daemon of this Xen release: 4.17, 4.20 or 4.22 (docs/decisions.md lists the differences)', checkProtocol, '4.22')
    .option('--no-features', 'the same as --protocol 4.17 (Debian 12\'s C daemon)')
    .option('--history <spec>', 'history retention tiers: all:N then <width>:<rows>, e.g. all:1024,1m:120,1h:168; off: no history', DEFAULT_RETENTION)
    .option('--git-dir <dir>', 'mirror the history into this git repository (restarting continues it)')
    .option('--git-retention', 'the mirror follows the history retention (shallow boundaries, git gc) instead of keeping the full archive')
    .option('--mirror-lag <ms>', 'bound on how long a commit waits to reach the mirror', '1000')
    .option('--restore-from <dir[:ref]>', 'start from the tree of an exported commit (default ref: HEAD)')
    .option('--guest-sockets', 'serve each introduced domain N on RUN_DIR/domains/N/socket, as that (unprivileged) domain')
    .option('--xen', 'serve guests (and dom0 itself) over their shared-memory rings through Xen\'s libraries (a dom0 daemon; see docs/xen.md)')
    .option('--quota <name=value>', 'set a daemon-wide quota (repeatable), e.g. --quota nodes=2000', collectQuota, [])
    .option('--config <file>', 'a JSON file of these options (camelCase keys, e.g. {"history": "all:4096,1h:168", "gitDir": "/var/lib/xsgit.git", "quota": {"nodes": 2000}}); flags given on the command line win')
    .action(async (given: DaemonFlags & { config?: string }, cmd: Command) => {
      const flags = given.config === undefined ? given : withConfig(given, cmd, given.config);
      setLogLevel(flags.logLevel);
      if (flags.background === true && process.env[CHILD] !== '1') {
        if (flags.logFile === undefined) throw new Error('--background needs --log-file (the detached daemon has no terminal to write to)');
        process.exit(await runInBackground(process.argv.slice(1), resolve(flags.logFile)));
      }
      const runDir = resolve(flags.runDir ?? defaultRunDir());
      const socketPath = join(runDir, 'socket');
      const pidFile = resolve(flags.pidFile ?? join(runDir, 'pid'));
      // Every path is checked before listening; a live daemon on the socket is refused.
      const life = await Lifecycle.prepare({
        socketPath,
        pidFile,
        accessLog: flags.accessLog === undefined ? undefined : resolve(flags.accessLog),
        logFile: flags.logFile === undefined ? undefined : resolve(flags.logFile),
      });
      process.on('SIGHUP', () => life.reopenLogs());
      const accessLog = life.accessLog;
      let server: UnixServer;
      let mirror: Mirror | null;
      let guests: GuestSockets | null;
      let xen: Awaited<ReturnType<typeof startXen>> | null;
      try {
        // Refuse a repository xsgit did not make (or one another daemon uses) before reading it.
        if (flags.gitDir !== undefined) openMirrorRepository(resolve(flags.gitDir));
        const start = await startingPoint(flags);
        const protocol = flags.features ? (protocolNamed(flags.protocol) ?? PROTOCOLS['4.22']) : PROTOCOLS['4.17'];
        const daemon = new Daemon({ protocol, accessLog, retention: flags.history, head: start.head });
        daemon.store.history.adopt(start.tiers, start.tags);
        // A restore is a change like any other: one commit on top of the history (through the
        // publish path), so the mirror never sees another repository's parents.
        if (start.restore !== undefined && daemon.revertTo(start.restore, '/') === null) logger.info(`restored the store to ${start.restore.id ?? ''}`);
        mirror = flags.gitDir === undefined ? null : new Mirror(daemon, resolve(flags.gitDir), Number(flags.mirrorLag), flags.gitRetention === true);
        daemon.mirror = mirror;
        for (const q of flags.quota) daemon.domains.quota.set(q.name, q.value);
        guests = flags.guestSockets === true ? new GuestSockets(daemon, join(runDir, 'domains')) : null;
        xen = flags.xen === true ? await startXen(daemon, guests !== null) : null;
        daemon.backend = guests ?? xen;
        server = new UnixServer(daemon, socketPath);
        await server.listen().catch((e: Error) => {
          throw new Error(`cannot listen on ${socketPath}: ${e.message}`);
        });
      } catch (e) {
        life.abort();
        throw e;
      }
      xen?.startDom0();
      mirror?.start();
      const stop = async (signal: string): Promise<void> => {
        logger.info(`${signal}: stopping`);
        await server.close();
        // Non-zero when commits never reached the repository (it failed, or retention dropped them).
        const mirrored = (await mirror?.stop()) ?? true;
        await guests?.close();
        await xen?.close();
        life.close();
        process.exit(mirrored ? 0 : 1);
      };
      process.once('SIGTERM', () => void stop('SIGTERM'));
      process.once('SIGINT', () => void stop('SIGINT'));
      process.stdout.write(`export XENSTORED_PATH=${socketPath}\n`);
      logger.info(`listening on ${socketPath}, pid ${process.pid}`);
      life.ready();
    });
}

/** `--xen`: the Xen backend (src/xen), its hooks into the daemon. koffi and the libraries
 *  are loaded only here; what is missing is said and the daemon exits 1. */
async function startXen(daemon: Daemon, guestSockets: boolean): Promise<import('../xen/backend.js').XenBackend> {
  if (guestSockets) throw new Error('--xen and --guest-sockets exclude each other');
  const { XenBackend } = await import('../xen/backend.js');
  const { XenUnavailable } = await import('../xen/libs.js');
  try {
    return new XenBackend(
      {
        connect: (t, domid, privileged) => daemon.connect(t, domid, privileged),
        release: (domid) => {
          daemon.releaseDomain(domid);
          daemon.settle();
        },
        shutdown: (domid) => {
          daemon.domainShutdown(domid);
          daemon.settle();
        },
      },
      // The ring's server_features (RECONNECTION, ERROR): not at Debian 12's level.
      { features: daemon.protocol.name !== '4.17' },
    );
  } catch (err) {
    if (!(err instanceof XenUnavailable)) throw err;
    // Thrown, not exited: the caller removes the pid file it wrote (service/lifecycle.ts).
    throw new Error(`--xen: ${err.message}`);
  }
}

/** Where the store starts: the head of `--git-dir` when that repository has one (a restart
 *  continues its history, its tier chains and its tags), else an empty store; and the commit
 *  `--restore-from DIR[:REF]` names, whose tree the store is then set to as a new commit. */
interface Start {
  head?: Commit;
  tiers: Map<string, Commit>;
  tags: Map<string, Commit>;
  restore?: Commit;
}

async function startingPoint(flags: DaemonFlags): Promise<Start> {
  const start = await continuation(flags);
  if (flags.restoreFrom === undefined) return start;
  const m = /^(.*?)(?::([^:/][^:]*))?$/.exec(flags.restoreFrom)!;
  try {
    start.restore = (await importCommit({ gitDir: resolve(m[1]), rev: m[2] ?? 'HEAD' })).head;
  } catch (err) {
    throw new Error(`--restore-from ${flags.restoreFrom}: ${(err as Error).message}`);
  }
  return start;
}

/** The history `--git-dir` holds, to continue; none without it. */
async function continuation(flags: DaemonFlags): Promise<Start> {
  const none: Start = { tiers: new Map(), tags: new Map() };
  if (flags.gitDir === undefined) return none;
  const dir = resolve(flags.gitDir);
  if (!existsSync(join(dir, 'HEAD')) || resolveRef(dir, 'HEAD') === null) return none;
  const memo = new TreeMemo();
  // Each chain is read back as deep as the retention keeps it, so that log, show HEAD~N, diff
  // and bisect reach what they reached before the restart (docs/decisions.md).
  const rows = chainRows(flags.history);
  const load = async (rev: string, depth = 1) => (await importCommit({ gitDir: dir, rev, memo, depth })).head;
  const head = await load('HEAD', rows.get('main'));
  const start: Start = { head, tiers: new Map(), tags: new Map() };
  for (const ref of listRefs(dir, 'refs/heads/history/').keys()) {
    const name = ref.slice('refs/heads/'.length);
    start.tiers.set(name, await load(ref, rows.get(name)));
  }
  for (const ref of listRefs(dir, 'refs/tags/').keys()) start.tags.set(ref.slice('refs/tags/'.length), await load(ref));
  logger.info(`continuing ${dir} at ${head.id ?? ''} (${start.tiers.size} tiers, ${start.tags.size} tags)`);
  return start;
}
/** Options from a JSON config file, under those given on the command line. */
function withConfig(flags: DaemonFlags, cmd: Command, file: string): DaemonFlags {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`--config ${file}: ${(err as Error).message}`);
  }
  const out: Record<string, unknown> = { ...flags };
  for (const [key, value] of Object.entries(raw)) {
    if (cmd.getOptionValueSource(key) === 'cli') continue;
    if (key === 'quota') {
      const q = value as Record<string, number>;
      out.quota = [...Object.entries(q).map(([n, v]) => collectQuota(`${n}=${v}`, [])[0]), ...flags.quota];
    } else if (cmd.options.some((o) => o.attributeName() === key)) out[key] = typeof value === 'number' ? String(value) : value;
    else throw new Error(`${file}: unknown option "${key}"`);
  }
  return out as unknown as DaemonFlags;
}
