/** Who makes a request: the identity every permission and quota decision is made for. */
export interface Caller {
  readonly domid: number;
  /** Privileged (dom0 and every Unix-socket connection): no permission or quota checks. */
  readonly privileged: boolean;
  /** The SET_TARGET domain whose rights a stub domain has, or -1. */
  readonly target: number;
  /** `/local/domain/<domid>`, the base of relative paths. */
  readonly home: string;
}
