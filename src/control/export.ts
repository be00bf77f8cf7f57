import { isAbsolute } from 'node:path';
import { GitExporter, type ExportResult } from '../mirror/exporter.js';
import type { Commit } from '../history/commit.js';
import { registerHistoryCommand } from './history.js';

/**
 * One-off exports (`xsgit export --git-dir DIR`): CONTROL `history export DIR` starts a job
 * and answers its number at once, so the daemon keeps serving while the pack is written;
 * `history job N` reports its progress, then its result.
 */
interface Job {
  state: 'running' | 'done' | 'failed';
  objects: number;
  bytes: number;
  result: ExportResult | null;
  error: string | null;
}

const jobs = new Map<number, Job>();
let lastJob = 0;

registerHistoryCommand('export', {
  usage: 'DIR',
  run(d, a) {
    const dir = a.positional[0];
    if (dir === undefined || !isAbsolute(dir)) return { error: 'EINVAL' };
    const id = ++lastJob;
    const job: Job = { state: 'running', objects: 0, bytes: 0, result: null, error: null };
    jobs.set(id, job);
    const h = d.store.history;
    const refs: Record<string, Commit> = Object.fromEntries(h.tierHeads());
    for (const [name, c] of h.tags) refs[`refs/tags/${name}`] = c;
    const exporter = new GitExporter({
      gitDir: dir,
      indexer: 'xsgit',
      onProgress: (p) => {
        job.objects = p.objects;
        job.bytes = p.bytes;
      },
    });
    exporter.export({ head: h.head, refs }).then(
      (r) => {
        job.state = 'done';
        job.result = r;
        job.objects = r.objects;
      },
      (err: unknown) => {
        job.state = 'failed';
        job.error = err instanceof Error ? err.message : String(err);
      },
    );
    return String(id);
  },
});

registerHistoryCommand('job', {
  usage: 'N',
  run(_d, a) {
    const job = jobs.get(Number(a.positional[0]));
    if (job === undefined) return { error: 'ENOENT' };
    if (job.state !== 'running') jobs.delete(Number(a.positional[0]));
    const r = job.result;
    const view = { state: job.state, objects: job.objects, bytes: job.bytes, error: job.error, commits: r?.commits ?? 0, packs: r?.packs ?? [], ms: r?.ms ?? 0 };
    if (a.json) return JSON.stringify(view);
    if (job.state === 'failed') return `failed: ${job.error}`;
    return job.state === 'running' ? `running: ${job.objects} objects` : `done: ${job.objects} objects (${r?.commits ?? 0} commits) in ${r?.ms ?? 0} ms`;
  },
});
