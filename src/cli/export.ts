import { resolve } from 'node:path';
import type { Command } from 'commander';
import { Client } from '../client/index.js';

interface JobView {
  state: 'running' | 'done' | 'failed';
  objects: number;
  bytes: number;
  error: string | null;
  commits: number;
  ms: number;
}

/** `xsgit export --git-dir DIR`: the daemon writes its history to a real repository; this
 *  waits for the job, showing progress on a terminal. */
export function exportCommand(program: Command): void {
  program
    .command('export')
    .description('write the history to a git repository (created bare if missing; incremental)')
    .requiredOption('--git-dir <dir>', 'the repository')
    .option('--json', '{"gitDir", "objects", "commits", "ms"} when done')
    .action(async (o: { gitDir: string; json?: boolean }) => {
      const client = await Client.connect();
      try {
        const id = await client.control('history', 'export', resolve(o.gitDir));
        const tty = process.stderr.isTTY;
        for (;;) {
          const job = JSON.parse(await client.control('history', 'job', id, '--json')) as JobView;
          if (job.state === 'failed') throw new Error(`export failed: ${job.error ?? 'unknown error'}`);
          if (job.state === 'done') {
            if (tty) process.stderr.write('\r\x1b[K');
            if (o.json === true) {
              process.stdout.write(`${JSON.stringify({ gitDir: resolve(o.gitDir), objects: job.objects, commits: job.commits, ms: job.ms })}\n`);
              return;
            }
            process.stdout.write(`exported ${job.objects} objects (${job.commits} commits) to ${resolve(o.gitDir)} in ${Math.round(job.ms)} ms\n`);
            return;
          }
          if (tty) process.stderr.write(`\rexporting: ${job.objects} objects, ${(job.bytes / 1048576).toFixed(1)} MiB`);
          await new Promise((r) => setTimeout(r, 100));
        }
      } finally {
        await client.close();
      }
    });
}
