/**
 * The process behind a dom0 socket connection, as the kernel vouched for it when it connected
 * (SO_PEERCRED, transport/peercred.ts) and its command name then (/proc/PID/comm). One frozen
 * object per connection: every commit of that connection refers to it (no copies).
 */
export interface ProcessIdentity {
  readonly pid: number;
  readonly uid: number;
  /** At most 15 bytes (the kernel's TASK_COMM_LEN); '' when unknown. */
  readonly comm: string;
}

/** Who makes a request: the identity every permission and quota decision is made for. */
export interface Caller {
  readonly domid: number;
  /** Privileged (dom0 and every Unix-socket connection): no permission or quota checks. */
  readonly privileged: boolean;
  /** The SET_TARGET domain whose rights a stub domain has, or -1. */
  readonly target: number;
  /** `/local/domain/<domid>`, the base of relative paths. */
  readonly home: string;
  /** The process behind a dom0 socket connection, when known (commit trailers, access log). */
  readonly proc?: ProcessIdentity | null;
}
