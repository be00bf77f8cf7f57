/** Where a watch's events go: a connection, seen only through what delivery needs. */
export interface Watcher {
  readonly id: number;
  /** Queues one WATCH_EVENT; `path` is the absolute changed path (for permission filters). */
  deliver(epath: string, token: string, path: string): void;
}

/** One registered watch: (canonical path, token) on a connection. */
export class Watch {
  constructor(
    readonly owner: Watcher,
    /** Canonical (absolute or `@special`) path. */
    readonly path: string,
    readonly token: string,
    /** The registering connection's home when the path was given relative, else null:
     *  events then come back relative too. */
    readonly home: string | null,
    /** How many levels below `path` a change may be and still fire (WATCH's third argument,
     *  C 4.22); -1: no limit. */
    readonly depth: number = -1,
  ) {}
}
