import { resolve } from 'node:path';
import type { Command } from 'commander';
import { Client } from '../client/index.js';
import { HistoryError, historyQuery } from './query.js';

/**
 * `xsgit snapshot --domain N [--at REV|TIME] --format json|tar|git --output PATH`: the daemon
 * (which holds the history) writes guest N's subtrees as they were at that point to PATH, and
 * pins that commit with the tag `snapshot-<N>-<id prefix>`. One CONTROL `history snapshot`
 * request (src/server/snapshotControl.ts); a relative PATH is resolved against this process's
 * working directory, since the daemon's may differ.
 */

interface SnapshotOptions {
  domain: string;
  at?: string;
  format: string;
  output: string;
  json?: boolean;
}

/** What the daemon's error names mean for a snapshot. */
const REASONS: Record<string, string> = {
  EINVAL: 'invalid arguments',
  ENOENT: 'no such revision, nothing of that domain at it, or the output directory does not exist',
  EEXIST: 'the output exists and is not an empty directory (the git format creates a new repository)',
  EISDIR: 'the output is a directory',
  EACCES: 'the daemon may not write the output',
  ENOSPC: 'no space left for the output',
  EROFS: 'the output is on a read-only file system',
  EIO: "the daemon could not write the output (see the daemon's log)",
};

export function snapshotCommand(program: Command): void {
  program
    .command('snapshot')
    .description("write a guest's subtrees (/local/domain/N, its /vm/<uuid>, /libxl/N, its backend directories) as they were at a commit")
    .requiredOption('--domain <domid>', 'the guest')
    .option('--at <rev>', 'a commit id, tag, HEAD~N or @TIME, or a bare TIME (ISO date, Unix seconds, 5m): the last commit at or before it', 'HEAD')
    .requiredOption('--format <format>', 'json, tar (ustar, the git layout) or git (a new bare repository)')
    .requiredOption('--output <path>', 'the file (json, tar) or repository directory (git) to write')
    .option('--json', 'describe what was written as JSON')
    .action((o: SnapshotOptions) => snapshot(o));
}

async function snapshot(o: SnapshotOptions): Promise<void> {
  if (!/^\d+$/.test(o.domain)) throw new Error(`--domain takes a domain id, not ${o.domain}`);
  if (!['json', 'tar', 'git'].includes(o.format)) throw new Error(`--format takes json, tar or git, not ${o.format}`);
  const at = o.at ?? 'HEAD';
  if (at.length === 0 || at.startsWith('-')) throw new Error(`--at: invalid revision ${at}`);
  const output = resolve(o.output);
  const client = await Client.connect();
  try {
    const reply = await historyQuery(client, ['snapshot', o.domain, at, o.format, output, ...(o.json === true ? ['--json'] : [])]);
    process.stdout.write(reply.endsWith('\n') ? reply : `${reply}\n`);
  } catch (e) {
    if (e instanceof HistoryError) throw new HistoryError(e.code, `snapshot of domain ${o.domain} at ${at}: ${e.message === e.code ? REASONS[e.code] ?? e.code : e.message} (${e.code})`);
    throw e;
  } finally {
    await client.close();
  }
}
