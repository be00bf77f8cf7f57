import type { ErrorName } from '../wire/constants.js';
import type { Commit } from '../history/commit.js';
import type { OpenBranch } from '../history/history.js';
import type { Store } from '../history/store.js';
import type { Admission, AdmittedConnection } from '../domain/admission.js';
import type { Domains } from '../domain/domains.js';

/** An open transaction, as the history shows it: the branch `tx/<conn>-<txid>` from `start`. */
export interface OpenTransaction extends OpenBranch {
  readonly domid: number;
  /** Milliseconds since the epoch. */
  readonly opened: number;
}

/** The live mirror's counters (mirror/live.ts). */
export interface MirrorStats {
  /** `failing` while batches fail (disk full, permissions, a ref moved by someone else). */
  readonly state: 'ok' | 'failing' | 'stopped';
  readonly lastError: string | null;
  readonly failures: number;
  readonly batches: number;
  readonly objects: number;
  /** Of those, stored as deltas. */
  readonly deltas: number;
  /** Bytes of pack data written. */
  readonly bytes: number;
  /** Milliseconds from the first commit of the last batch to its end. */
  readonly lastLag: number;
  /** Commits of main not in the repository yet, and of those the batch being written. */
  readonly backlog: number;
  readonly inFlight: number;
  /** Commits retention dropped before they reached the repository. */
  readonly lostCommits: number;
  /** Bytes the mirror's worker keeps between batches. */
  readonly workerBytes: number;
  readonly repacks: number;
  /** Lag (ms from commit to repository) over the last commits written, at quantile q. */
  lagPercentile(q: number): number | null;
}

/**
 * What CONTROL commands may see and do (C control.c's commands get the connection and the
 * daemon's globals; here, this narrow view instead of the daemon).
 */
export interface ControlContext {
  readonly store: Store;
  readonly domains: Domains<AdmittedConnection>;
  readonly admission: Admission<AdmittedConnection>;
  /** Every open transaction of every connection. */
  openTransactions(): OpenTransaction[];
  /** Null without `--git-dir`. */
  mirrorStats(): MirrorStats | null;
  /** `revert-to`: the subtree at `path` as it was at `target`, as one new commit by dom0
   *  (through server/publish.ts, so quotas and watches follow). */
  revertTo(target: Commit, path: string): ErrorName | null;
}

/** A CONTROL command's answer: the reply text, or an error for the wire. */
export type ControlReply = string | { error: ErrorName };

/** One CONTROL command (C control.c `struct cmd_s`). */
export interface ControlCommand {
  readonly name: string;
  /** Synopsis of its arguments, for `help`. */
  readonly args: string;
  readonly help: string;
  run(ctx: ControlContext, args: readonly string[]): ControlReply;
}
