import { isAbsolute } from 'node:path';
import { GitExporter, type ExportResult } from '../mirror/exporter.js';
import type { HistoryCommand } from './historyArgs.js';

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

/** `history export DIR`: starts a job, answers its number. */
export const exportRepo: HistoryCommand = {
  name: 'export',
  usage: 'DIR',
  run(ctx, a) {
    const dir = a.positional[0];
    if (dir === undefined || !isAbsolute(dir)) return { error: 'EINVAL' };
    const id = ++lastJob;
    const job: Job = { state: 'running', objects: 0, bytes: 0, result: null, error: null };
    jobs.set(id, job);
    const h = ctx.store.history;
    const refs = Object.fromEntries(h.refs());
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
};

/** `history job N`: an export job's progress, then its result (then it is forgotten). */
export const exportJob: HistoryCommand = {
  name: 'job',
  usage: 'N',
  run(_ctx, a) {
    const job = jobs.get(Number(a.positional[0]));
    if (job === undefined) return { error: 'ENOENT' };
    if (job.state !== 'running') jobs.delete(Number(a.positional[0]));
    const r = job.result;
    const view = { state: job.state, objects: job.objects, bytes: job.bytes, error: job.error, commits: r?.commits ?? 0, packs: r?.packs ?? [], ms: r?.ms ?? 0 };
    if (a.json) return JSON.stringify(view);
    if (job.state === 'failed') return `failed: ${job.error}`;
    return job.state === 'running' ? `running: ${job.objects} objects` : `done: ${job.objects} objects (${r?.commits ?? 0} commits) in ${r?.ms ?? 0} ms`;
  },
};
