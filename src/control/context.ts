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
  readonly batches: number;
  readonly objects: number;
  /** Milliseconds from the first commit of the last batch to its end. */
  readonly lastLag: number;
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
