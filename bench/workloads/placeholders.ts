/**
 * Workloads of issue 6 that are not written yet. Each is listed (`--list`, `--only NAME` says
 * why it cannot run) so that the extension point is obvious: implement `run` like the other
 * files in this folder, set `implemented: true`, and register it in index.ts.
 *
 * - bootstorm: the libxl-faithful per-guest script of workloads-and-threats.md §3(b) (B1),
 *   written once as a driver over the project's client library (src/client) so that it runs
 *   unchanged against all three daemons; N = 100 and 1,000 guests, P = 1 and 8 toolstacks;
 *   report time per guest against guests already present, EAGAINs per guest, peak RSS (VmHWM).
 *   Needs INTRODUCE/RELEASE, which the peers accept from dom0 under the shim (XS_SHIM_DOMAINS).
 * - history: commits/s, export objects/s and live-mirror lag (xsgit only; the peers keep no
 *   history). A separate script measures these today, bench/history.ts
 *   (`node dist/bench/history.js`); folding it in means wrapping it as a Workload here.
 */
import type { Ctx, Workload, WorkloadResult } from '../types.js';

function placeholder(name: string, title: string, why: string): Workload {
  return {
    name,
    title,
    implemented: false,
    smoke: false,
    async run(_ctx: Ctx): Promise<WorkloadResult> {
      throw new Error(`workload '${name}' is not implemented yet: ${why}`);
    },
  };
}

export const bootstorm = placeholder('bootstorm', 'Boot storm (libxl-faithful per-guest script)', 'it needs the per-guest driver over src/client (see bench/workloads/placeholders.ts)');
export const history = placeholder('history', 'History: commits/s, export objects/s, live-mirror lag', 'run `node dist/bench/history.js` (bench/history.ts) for now');
